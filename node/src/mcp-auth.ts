import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { RequestHandler, Router } from 'express';

import { MCPAuthAuthServerError, MCPAuthConfigError } from './errors.js';
import {
  attachAuth,
  audienceFromResource,
  logNotices,
  sendFailure,
  trustedIssuers,
} from './handlers/bearer-response.js';
import {
  handleBearerAuth,
  type BearerAuthConfig,
  type ValidateIssuerFunction,
} from './handlers/handle-bearer-auth.js';
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
  private readonly audienceWarnings = new Set<string>();

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
    return createResourceMetadataRouter(
      this.resources.map(({ metadata }) => transpileResourceMetadata(metadata))
    );
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
      VerifyJwtConfig
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
      VerifyIntrospectionConfig
  ): RequestHandler;
  bearerAuth(
    modeOrVerify: VerifyAccessTokenFunction | VerifyAccessTokenMode | 'introspection',
    config: HandlerConfig & VerifyJwtConfig & Partial<VerifyIntrospectionConfig> = {}
  ): RequestHandler {
    const { jwtVerify, remoteJwkSet, remoteJwtSet, introspection, acceptAnyAudience, ...rest } =
      config;
    const introspecting = modeOrVerify === 'introspection';
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
    if (route.warning && !this.audienceWarnings.has(route.warning)) {
      this.audienceWarnings.add(route.warning);
      this.logger.warn?.(route.warning);
    }
    const handlerConfig = { ...rest, audience: route.expected ?? undefined };
    const issuers = servers.map((server) => getIssuer(server));
    const logger = handlerConfig.logger ?? (this.config.logger ? this.logger : undefined);

    if (modeOrVerify !== 'jwt' && !introspecting) {
      return handleBearerAuth({
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
    const authenticator = callNative(() =>
      introspecting
        ? new native.NativeAuthenticator({
            mode: 'introspection',
            servers: nativeServers,
            introspection: nativeIntrospectionOptions(introspection),
            policy,
          })
        : new native.NativeAuthenticator({
            servers: nativeServers,
            options: {
              jwt: nativeJwtOptions(jwtVerify),
              jwks: remoteJwkSet ?? remoteJwtSet,
            },
            policy,
          })
    );
    type Outcome =
      | { pending: true; ok?: undefined }
      | { ok: true; authInfo: AuthInfo; pending?: undefined }
      | {
          pending?: undefined;
          ok: false;
          error: NativeErrorShape;
          response: { status: number; body: unknown; wwwAuthenticate?: string };
        };

    return async function bearerAuthHandler(req, res, next) {
      const header = req.headers.authorization;
      let outcome = authenticator.authenticateNow(header) as Outcome;
      if (outcome.pending) {
        outcome = (await awaitNative(authenticator.authenticate(header))) as Outcome;
      }
      logNotices(logger);
      if (outcome.ok === false) {
        sendFailure(res, outcome, logger, req);
        return;
      }
      if (outcome.ok) {
        attachAuth(req, outcome.authInfo, logger);
      }
      next();
    };
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
