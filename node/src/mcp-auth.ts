import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { RequestHandler, Router } from 'express';

import { MCPAuthAuthServerError, MCPAuthConfigError } from './errors.js';
import { audienceFromResource, trustedIssuers } from './handlers/bearer-response.js';
import { nativeDpop, type DpopRouteConfig } from './handlers/dpop.js';
import { gateFor, metadataDocuments, nativeGate, type Gate } from './handlers/gate.js';
import { checkedPolicyGate, expressBearerAuth } from './handlers/express.js';
import {
  type BearerAuthConfig,
  type ValidateIssuerFunction,
} from './handlers/handle-bearer-auth.js';
import {
  bearerAuthOptionNames,
  nativeOperations,
  operationOptionNames,
  refuseUnknownOptions,
  type OperationScopesConfig,
} from './handlers/operations.js';
import {
  sdkTokenVerifier,
  type McpTokenVerifier,
  type TokenVerifierSdk,
} from './handlers/token-verifier.js';
import { decideWebRequest, withAnswerHeaders } from './handlers/web.js';
import { defaultLogger, type Logger } from './logger.js';
import * as native from './native.js';
import {
  awaitNative,
  callNative,
  errorFromNative,
  type NativeErrorShape,
} from './native-errors.js';
import { createDelegatedRouter } from './routers/create-delegated-router.js';
import { createResourceMetadataRouter } from './routers/create-resource-metadata-router.js';
import { metadataAnswer, metadataDocument, type MetadataDocument } from './routers/metadata.js';
import { type AuthServerConfig, getIssuer } from './types/auth-server.js';
import { type CamelCaseAuthorizationServerMetadata } from './types/oauth.js';
import { type JWTVerifyOptions } from './types/jose.js';
import { type ResourceServerConfig } from './types/resource-server.js';
import { camelCaseKeys, snakeCaseKeysDeep } from './utils/case.js';
import {
  nativeJwtOptions,
  seconds,
  type RemoteJwkSetOptions,
  type VerifyAccessTokenFunction,
} from './utils/create-verify-jwt.js';
import { createResourceMetadataEndpoint } from './utils/create-resource-metadata-endpoint.js';
import { transpileResourceMetadata } from './utils/transpile-resource-metadata.js';
import { validateServerConfig } from './utils/validate-server-config.js';

/**
 * Legacy mode: the MCP server fronts one authorization server.
 *
 * @deprecated Use {@link ResourceServerModeConfig}.
 */
export type AuthServerModeConfig = {
  server: AuthServerConfig;
};

/** Resource mode: one or more protected resources, each with its trusted authorization servers. */
export type ResourceServerModeConfig = {
  protectedResources: ResourceServerConfig | ResourceServerConfig[];
};

export type MCPAuthConfig = (AuthServerModeConfig | ResourceServerModeConfig) & {
  /** Where configuration warnings and authentication failures are reported. */
  logger?: Logger;
};

export type VerifyAccessTokenMode = 'jwt';

/** How the resource server authenticates to the introspection endpoint. */
export type IntrospectionAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** Options of the `'introspection'` mode (RFC 7662). */
export type IntrospectionConfig = {
  /** The resource server's client id at the authorization server. */
  clientId: string;
  clientSecret: string;
  /**
   * The introspection endpoint. Default: the `introspection_endpoint` of the resource's one
   * authorization server (from its metadata, discovered on first use if needed).
   */
  endpoint?: string | URL;
  /** Default `client_secret_basic` (HTTP Basic); `client_secret_post` sends the form fields. */
  authMethod?: IntrospectionAuthMethod;
  /**
   * How long, in milliseconds, an active answer is reused for the same token; never past the
   * token's `exp`. Default: off (every request asks the server).
   */
  cacheMaxAge?: number;
  /** Timeout of one introspection request, in milliseconds. Default 5000. */
  timeoutDuration?: number;
  /** Clock skew tolerated on `exp`/`nbf`, in seconds or as text such as `"30s"`. Default 0. */
  clockTolerance?: number | string;
  /** Extra request headers. */
  headers?: Record<string, string>;
};

export type VerifyIntrospectionConfig = {
  introspection: IntrospectionConfig;
};

export type VerifyJwtConfig = {
  /** jose `JWTVerifyOptions`: `algorithms`, `clockTolerance` (default 0), `typ`, ... */
  jwtVerify?: JWTVerifyOptions;
  /** jose `RemoteJWKSetOptions`: `timeoutDuration`, `cooldownDuration`, `cacheMaxAge`, `headers`. */
  remoteJwkSet?: RemoteJwkSetOptions;
  /** The spelling used in the documentation; same as `remoteJwkSet`. */
  remoteJwtSet?: RemoteJwkSetOptions;
};

/** How a route checks the token's audience (RFC 8707). */
export type AudienceConfig = {
  /**
   * Accept tokens issued for any audience. In resource mode the audience is checked by default
   * (the `resource` unless another `audience` is given); turning that off is logged as a warning.
   */
  acceptAnyAudience?: boolean;
};

type HandlerConfig = Omit<BearerAuthConfig, 'verifyAccessToken' | 'issuer'> &
  AudienceConfig & {
    issuer?: BearerAuthConfig['issuer'];
  };

/** Options of `mcpAuth.tokenVerifier(...)`: `bearerAuth`'s, less what needs the request. */
export type TokenVerifierConfig = Omit<
  BearerAuthConfig,
  'verifyAccessToken' | 'issuer' | keyof OperationScopesConfig
> &
  Pick<OperationScopesConfig, 'scopeHierarchy'> &
  AudienceConfig & {
    /**
     * The audience the token must have (exactly); default: `resource`. It is reported as
     * `AuthInfo.resource`, which the SDK's `expectedResource` compares.
     */
    audience?: string;
    /** Whose error classes to throw: `'v1'` (`@modelcontextprotocol/sdk`, default) or `'v2'`. */
    sdk?: TokenVerifierSdk;
  };

/** What `mcpAuth.fetchBearerAuth(...)` returns: the v2 SDK's gate shape. */
export type FetchBearerAuth = (request: Request) => Promise<AuthInfo | Response>;

/** Every option a route of any adapter takes (`bearerAuth`'s). */
type GateConfig = HandlerConfig &
  VerifyJwtConfig &
  Partial<VerifyIntrospectionConfig> &
  DpopRouteConfig;

const dpopConfigError = (message: string) => new MCPAuthConfigError('invalid_dpop_config', message);

const introspectionConfigError = (message: string) =>
  new MCPAuthConfigError('invalid_introspection_config', message);

/**
 * The `introspection` options as the native layer reads them (it checks every value): a `URL`
 * endpoint as text and jose-style time spans as seconds.
 */
const nativeIntrospectionOptions = (options: IntrospectionConfig | undefined): unknown => {
  if (typeof options !== 'object' || options === null) {
    return options;
  }
  const { endpoint, clockTolerance } = options;
  let tolerance: unknown = clockTolerance;
  if (typeof clockTolerance === 'string') {
    try {
      tolerance = seconds(clockTolerance);
    } catch {
      throw introspectionConfigError(
        `\`introspection.clockTolerance\` must be a number of seconds or text such as "30s", not "${clockTolerance}".`
      );
    }
  }
  return {
    ...options,
    ...(endpoint instanceof URL && { endpoint: endpoint.href }),
    ...(clockTolerance !== undefined && { clockTolerance: tolerance }),
  };
};

const invalidConfig = (cause: string) =>
  new MCPAuthAuthServerError('invalid_server_config', { cause });

const resourceRequired =
  'A `resource` must be specified in the `bearerAuth` configuration when using a `protectedResources` configuration.';

const warningsMessage = (issuer: string, warnings: Array<{ description: string }>) =>
  `The authorization server (issuer: \`${issuer}\`) configuration has warnings:\n\n${warnings
    .map(({ description }) => `  - ${description}`)
    .join('\n')}\n`;

/** Resolved configs must fit MCP; warnings are reported, errors thrown. */
const validateAuthServer = (server: AuthServerConfig, logger: Logger) => {
  if (!('metadata' in server)) {
    return;
  }
  const { isValid, errors, warnings } = validateServerConfig(server);
  if (!isValid) {
    throw new MCPAuthAuthServerError('invalid_server_config', { errors, warnings });
  }
  if (warnings.length > 0) {
    logger.warn?.(warningsMessage(server.metadata.issuer, warnings));
  }
};

const nativeServer = (server: AuthServerConfig) =>
  'metadata' in server
    ? { metadata: snakeCaseKeysDeep(server.metadata), type: server.type }
    : { issuer: server.issuer, type: server.type };

/** An issuer check that also tells core which issuers it trusts. */
const issuerValidator = (issuers: string[]): ValidateIssuerFunction => {
  const policy = new native.NativePolicy({ issuers });
  const validate = (tokenIssuer: string) => {
    const failure = policy.check({ issuer: tokenIssuer }) as { error: NativeErrorShape } | null;
    if (failure) {
      throw errorFromNative(failure.error);
    }
  };
  return Object.assign(validate, { [trustedIssuers]: issuers });
};

/**
 * The entry point: publishes protected-resource metadata and protects routes with bearer
 * tokens issued by the configured authorization servers.
 *
 * @example
 * const mcpAuth = new MCPAuth({
 *   protectedResources: {
 *     metadata: {
 *       resource: 'https://api.example.com',
 *       authorizationServers: [await fetchServerConfig(issuer, { type: 'oidc' })],
 *       scopesSupported: ['read', 'write'],
 *     },
 *   },
 * });
 * app.use(mcpAuth.protectedResourceMetadataRouter());
 * app.use(mcpAuth.bearerAuth('jwt', { resource: 'https://api.example.com', audience: 'https://api.example.com' }));
 */
export class MCPAuth {
  private readonly logger: Logger;
  private readonly resources?: ResourceServerConfig[];
  private readonly warned = new Set<string>();
  private documents?: MetadataDocument[];
  /** Per resource, the route whose DPoP settings its metadata document advertises. */
  private readonly dpopRoutes = new Map<
    string,
    { authenticator: native.NativeAuthenticator; fields: string }
  >();

  constructor(public readonly config: MCPAuthConfig) {
    this.logger = config.logger ?? defaultLogger;
    if ('server' in config) {
      this.logger.warn?.(
        'The authorization server mode is deprecated. Please use resource server mode instead.'
      );
      validateAuthServer(config.server, this.logger);
      return;
    }
    if (!config.protectedResources) {
      throw invalidConfig('No authorization server or protected resource metadata is provided.');
    }
    const resources = Array.isArray(config.protectedResources)
      ? config.protectedResources
      : [config.protectedResources];
    callNative(() =>
      native.validateResources(
        resources.map(({ metadata }) => [
          metadata.resource,
          (metadata.authorizationServers ?? []).map((server) => getIssuer(server)),
        ])
      )
    );
    for (const { metadata } of resources) {
      for (const server of metadata.authorizationServers ?? []) {
        validateAuthServer(server, this.logger);
      }
    }
    this.resources = resources;
  }

  /**
   * Serves `/.well-known/oauth-authorization-server` (legacy mode only).
   *
   * @deprecated Use {@link MCPAuth.protectedResourceMetadataRouter} in resource mode.
   */
  delegatedRouter(): Router {
    if (!('server' in this.config)) {
      throw invalidConfig('`delegatedRouter` is not available in `resource server` mode.');
    }
    const { server } = this.config;
    let warned = false;
    return createDelegatedRouter(async () => {
      if ('metadata' in server) {
        return server.metadata;
      }
      // The cache token verification uses: serving the metadata costs no second fetch.
      const found = await awaitNative<{
        metadata: Record<string, unknown>;
        warnings: Array<{ description: string }>;
      }>(native.discoveredServerConfig(server.issuer, server.type));
      if (!warned && found.warnings.length > 0) {
        warned = true;
        this.logger.warn?.(warningsMessage(server.issuer, found.warnings));
      }
      return camelCaseKeys(found.metadata) as CamelCaseAuthorizationServerMetadata;
    });
  }

  /** Serves each protected resource's RFC 9728 metadata (resource mode only), with CORS. */
  protectedResourceMetadataRouter(): Router {
    if (!this.resources) {
      throw invalidConfig(
        '`protectedResourceMetadataRouter` is not available in `authorization server` mode.'
      );
    }
    return createResourceMetadataRouter(this[metadataDocuments]());
  }

  /**
   * Protects routes with bearer tokens verified by a custom function (sync or async).
   * Issuer, audience and scopes are still checked by the middleware: in resource mode the
   * audience is the `resource` unless another `audience` (or `acceptAnyAudience`) is given.
   */
  bearerAuth(
    verifyAccessToken: VerifyAccessTokenFunction,
    config?: Omit<BearerAuthConfig, 'verifyAccessToken' | 'issuer'> & AudienceConfig
  ): RequestHandler;
  /**
   * Protects routes with JWT access tokens checked against the issuers' JWKS. In resource mode
   * the token's `aud` must name the `resource` unless another `audience` is given (scheme and
   * host compared case-insensitively, one trailing `/` ignored).
   */
  bearerAuth(
    mode: VerifyAccessTokenMode,
    config?: Omit<BearerAuthConfig, 'verifyAccessToken' | 'issuer'> &
      AudienceConfig &
      VerifyJwtConfig &
      DpopRouteConfig
  ): RequestHandler;
  /**
   * Protects routes with any access tokens (opaque ones included) by asking the authorization
   * server's introspection endpoint (RFC 7662). `req.auth` is filled from its answer as in the
   * JWT mode; an unreachable, slow or failing endpoint answers 401 `token_verification_failed`.
   */
  bearerAuth(
    mode: 'introspection',
    config: Omit<BearerAuthConfig, 'verifyAccessToken' | 'issuer'> &
      AudienceConfig &
      VerifyIntrospectionConfig &
      DpopRouteConfig
  ): RequestHandler;
  bearerAuth(
    modeOrVerify: VerifyAccessTokenFunction | VerifyAccessTokenMode | 'introspection',
    config: GateConfig = {}
  ): RequestHandler {
    return expressBearerAuth(this[gateFor]('bearerAuth', modeOrVerify, config));
  }

  /**
   * An `OAuthTokenVerifier` for the MCP TypeScript SDK's own gate,
   * `requireBearerAuth({ verifier, requiredScopes, resourceMetadataUrl })` (v1
   * `@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js`, or v2
   * `@modelcontextprotocol/server` with `sdk: 'v2'`). Tokens are checked as by `bearerAuth`
   * (JWT by default, `'introspection'`, or a custom verifier); `audience` defaults to
   * `resource`, and the returned `AuthInfo` has `resource` (that audience, as a `URL`) and
   * `expiresAt` (the token's `exp`). The SDK refuses a token without `exp` (401 "Token has no
   * expiration time"). Failures are thrown as the SDK's `InvalidTokenError` (401),
   * `InsufficientScopeError` (403) or `ServerError` (500), or v2's `OAuthError` with those
   * codes. The SDK only hands over the token, so per-operation rules are refused here: use
   * `bearerAuth` or `fetchBearerAuth` for them.
   */
  tokenVerifier(config: TokenVerifierConfig & VerifyJwtConfig): McpTokenVerifier;
  tokenVerifier(mode: 'jwt', config: TokenVerifierConfig & VerifyJwtConfig): McpTokenVerifier;
  tokenVerifier(
    mode: 'introspection',
    config: TokenVerifierConfig & VerifyIntrospectionConfig
  ): McpTokenVerifier;
  tokenVerifier(
    verifyAccessToken: VerifyAccessTokenFunction,
    config: TokenVerifierConfig
  ): McpTokenVerifier;
  tokenVerifier(
    modeOrConfig:
      | VerifyAccessTokenFunction
      | VerifyAccessTokenMode
      | 'introspection'
      | (TokenVerifierConfig & VerifyJwtConfig),
    maybeConfig?: TokenVerifierConfig & VerifyJwtConfig & Partial<VerifyIntrospectionConfig>
  ): McpTokenVerifier {
    const [mode, config] =
      typeof modeOrConfig === 'object' && modeOrConfig !== null
        ? (['jwt', modeOrConfig] as const)
        : ([modeOrConfig, maybeConfig ?? {}] as const);
    const { sdk = 'v1', ...rest } = config as TokenVerifierConfig & GateConfig;
    if (sdk !== 'v1' && sdk !== 'v2') {
      throw new MCPAuthConfigError(
        'invalid_token_verifier_config',
        `\`sdk\` is 'v1' (@modelcontextprotocol/sdk) or 'v2' (@modelcontextprotocol/server), not ${JSON.stringify(sdk)}.`
      );
    }
    const requestRules = operationOptionNames.filter(
      (name) => name !== 'scopeHierarchy' && rest[name] !== undefined
    );
    if (requestRules.length > 0) {
      throw new MCPAuthConfigError(
        'invalid_operation_rules',
        `\`tokenVerifier\` sees the token only, not the request, so ${requestRules
          .map((k) => `\`${k}\``)
          .join(
            ', '
          )} cannot be checked there; use \`bearerAuth\`, \`fetchBearerAuth\` or the Hono / Fastify adapters for per-operation rules.`
      );
    }
    // Core defaults the checked audience to `resource`; the SDK is told the same one.
    const gate = this[gateFor]('tokenVerifier', mode, rest);
    return sdkTokenVerifier(gate, sdk, rest.audience ?? rest.resource ?? '');
  }

  /**
   * Bearer auth for web-standard requests (Node 20+, Bun, Deno, edge runtimes, Hono, Next.js
   * route handlers, the MCP SDK v2's `handler.fetch`): resolves to the caller's `AuthInfo`, or
   * to the `Response` to send back (the same 401/403/400/413/415/500 answers as `bearerAuth`).
   * Takes `bearerAuth`'s modes and options, per-operation rules included; the body they need
   * is read from a clone (at most `maxBodyBytes`), so the request stays readable as sent.
   */
  fetchBearerAuth(
    verifyAccessToken: VerifyAccessTokenFunction,
    config?: Omit<BearerAuthConfig, 'verifyAccessToken' | 'issuer'>
  ): FetchBearerAuth;
  fetchBearerAuth(
    mode: VerifyAccessTokenMode,
    config?: Omit<BearerAuthConfig, 'verifyAccessToken' | 'issuer'> &
      VerifyJwtConfig &
      DpopRouteConfig
  ): FetchBearerAuth;
  fetchBearerAuth(
    mode: 'introspection',
    config: Omit<BearerAuthConfig, 'verifyAccessToken' | 'issuer'> &
      VerifyIntrospectionConfig &
      DpopRouteConfig
  ): FetchBearerAuth;
  fetchBearerAuth(
    modeOrVerify: VerifyAccessTokenFunction | VerifyAccessTokenMode | 'introspection',
    config: GateConfig = {}
  ): FetchBearerAuth {
    const gate = this[gateFor]('fetchBearerAuth', modeOrVerify, config);
    return async function fetchBearerAuth(request: Request) {
      return decideWebRequest(gate, request);
    };
  }

  /**
   * A whole `fetch` handler: protected-resource metadata (resource mode), then `authenticate`
   * (from {@link MCPAuth.fetchBearerAuth}), then `handler` with the caller's `AuthInfo`.
   *
   * @example
   * const authenticate = mcpAuth.fetchBearerAuth('jwt', { resource, audience: resource });
   * Bun.serve({ fetch: mcpAuth.fetchHandler(authenticate, (request, authInfo) => mcp.fetch(request, { authInfo })) });
   */
  fetchHandler(
    authenticate: FetchBearerAuth,
    handler: (request: Request, authInfo: AuthInfo) => Response | Promise<Response>
  ): (request: Request) => Promise<Response> {
    const metadata = this.resources ? this : undefined;
    return async (request: Request) => {
      const document = metadata?.protectedResourceMetadataResponse(request);
      if (document) {
        return document;
      }
      const auth = await authenticate(request);
      return auth instanceof Response
        ? auth
        : withAnswerHeaders(await handler(request, auth), auth);
    };
  }

  /**
   * The protected-resource metadata answer to a web-standard request for one of the
   * documents (GET/HEAD 200, OPTIONS 204 preflight, with CORS); `undefined` for any other
   * request (resource mode only).
   */
  protectedResourceMetadataResponse(request: Request): Response | undefined {
    this.documents ??= this[metadataDocuments]();
    const answer = metadataAnswer(
      this.documents,
      request.method,
      new URL(request.url).pathname,
      request.headers.get('access-control-request-headers')
    );
    if (!answer) {
      return undefined;
    }
    return new Response(request.method === 'HEAD' ? null : (answer.body ?? null), {
      status: answer.status,
      headers: answer.headers,
    });
  }

  /**
   * The decision every adapter shares: `bearerAuth`'s options to core's authenticator (or a
   * user's verifier under core's policy), checked when the route is built.
   *
   * @internal
   */
  [gateFor](
    what: string,
    modeOrVerify: VerifyAccessTokenFunction | VerifyAccessTokenMode | 'introspection',
    config: GateConfig = {}
  ): Gate {
    refuseUnknownOptions(what, config, [
      ...bearerAuthOptionNames,
      'jwtVerify',
      'remoteJwkSet',
      'remoteJwtSet',
      'introspection',
      'acceptAnyAudience',
      'dpop',
    ]);
    const {
      jwtVerify,
      remoteJwkSet,
      remoteJwtSet,
      introspection,
      acceptAnyAudience,
      dpop,
      ...rest
    } = config;
    const introspecting = modeOrVerify === 'introspection';
    if (dpop !== undefined && what === 'tokenVerifier') {
      throw dpopConfigError(
        '`tokenVerifier` sees the token only, not the request, so a DPoP proof cannot be checked there; use `bearerAuth`, `fetchBearerAuth` or the Hono / Fastify adapters for `dpop`.'
      );
    }
    if (dpop !== undefined && modeOrVerify !== 'jwt' && !introspecting) {
      throw dpopConfigError(
        "`dpop` is checked by the 'jwt' and 'introspection' modes; a custom verifier cannot take it."
      );
    }
    if (introspecting && (jwtVerify || remoteJwkSet || remoteJwtSet)) {
      throw introspectionConfigError(
        "`jwtVerify` and `remoteJwkSet` belong to the 'jwt' mode; the 'introspection' mode takes `introspection.clockTolerance` and friends."
      );
    }
    if (!introspecting && introspection !== undefined) {
      throw introspectionConfigError(
        "`introspection` options are only read by `bearerAuth('introspection', ...)`."
      );
    }
    const servers = this.serversFor(rest.resource);
    const route = callNative(() =>
      native.routeAudience({
        resourceMode: !('server' in this.config),
        resource: rest.resource,
        audience: rest.audience,
        acceptAnyAudience,
      })
    ) as { expected?: string | null; fromResource: boolean; warning?: string | null };
    if (route.warning && !this.warned.has(route.warning)) {
      this.warned.add(route.warning);
      this.logger.warn?.(route.warning);
    }
    const handlerConfig = { ...rest, audience: route.expected ?? undefined };
    const issuers = servers.map((server) => getIssuer(server));
    const logger = handlerConfig.logger ?? (this.config.logger ? this.logger : undefined);

    if (modeOrVerify !== 'jwt' && !introspecting) {
      return checkedPolicyGate(what, {
        verifyAccessToken: typeof modeOrVerify === 'function' ? modeOrVerify : (undefined as never),
        issuer: issuerValidator(issuers),
        logger,
        ...handlerConfig,
        [audienceFromResource]: route.fromResource,
      } as BearerAuthConfig);
    }

    const { audience, requiredScopes, resource, showErrorDetails, issuer } = handlerConfig;
    const policy = {
      issuers: typeof issuer === 'string' ? [issuer] : issuers,
      audience,
      audienceFromResource: route.fromResource,
      requiredScopes,
      resourceMetadata: resource ? createResourceMetadataEndpoint(resource).href : undefined,
      showErrorDetails,
    };
    const nativeServers = servers.map((server) => nativeServer(server));
    const operations = nativeOperations(handlerConfig);
    const dpopSettings = dpop === undefined ? undefined : nativeDpop(dpop, resource);
    const authenticator = callNative(() =>
      introspecting
        ? new native.NativeAuthenticator({
            mode: 'introspection',
            servers: nativeServers,
            introspection: nativeIntrospectionOptions(introspection),
            policy,
            operations,
            dpop: dpopSettings?.options,
          })
        : new native.NativeAuthenticator({
            servers: nativeServers,
            options: {
              jwt: nativeJwtOptions(jwtVerify),
              jwks: remoteJwkSet ?? remoteJwtSet,
            },
            policy,
            operations,
            dpop: dpopSettings?.options,
          })
    );
    if (dpopSettings && resource && this.resources) {
      this.advertiseDpop(resource, authenticator);
    }
    return nativeGate(
      authenticator,
      operations !== undefined,
      logger,
      dpopSettings && { now: dpopSettings.now }
    );
  }

  /**
   * Makes `authenticator`'s DPoP settings the ones `resource`'s metadata document advertises.
   * One document describes the whole resource, so every DPoP route of a resource must agree on
   * what it advertises (mode and algorithms; nonces, windows and replay stores may differ).
   */
  private advertiseDpop(resource: string, authenticator: native.NativeAuthenticator) {
    const fields = JSON.stringify(callNative(() => authenticator.withDpopFields({})));
    const known = this.dpopRoutes.get(resource);
    if (!known) {
      this.dpopRoutes.set(resource, { authenticator, fields });
      return;
    }
    if (known.fields !== fields) {
      throw dpopConfigError(
        `Another route of \`${resource}\` has other DPoP settings (${known.fields} there, ${fields} here): the resource's protected-resource metadata advertises one DPoP mode and algorithm list, so every route of a resource needs the same \`mode\` and \`algorithms\`.`
      );
    }
  }

  /**
   * The protected-resource metadata documents this instance serves, with their paths
   * (resource mode only).
   *
   * @internal
   */
  [metadataDocuments](): MetadataDocument[] {
    if (!this.resources) {
      throw invalidConfig(
        '`protectedResourceMetadataRouter` is not available in `authorization server` mode.'
      );
    }
    return this.resources.map(({ metadata }) =>
      metadataDocument(
        transpileResourceMetadata(metadata),
        () => this.dpopRoutes.get(metadata.resource)?.authenticator
      )
    );
  }

  private serversFor(resource: string | undefined): AuthServerConfig[] {
    if ('server' in this.config) {
      return [this.config.server];
    }
    if (!resource) {
      throw invalidConfig(resourceRequired);
    }
    const found = this.resources?.find(({ metadata }) => metadata.resource === resource);
    if (!found) {
      throw invalidConfig(
        `No token verifier found for the specified resource: \`${resource}\`. Please ensure that this resource is correctly configured in the \`protectedResources\` array in the MCPAuth constructor.`
      );
    }
    return found.metadata.authorizationServers ?? [];
  }
}
