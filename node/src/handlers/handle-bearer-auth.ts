import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Request, RequestHandler, Response } from 'express';

import { type Logger } from '../logger.js';
import * as native from '../native.js';
import { callNative, errorToNative } from '../native-errors.js';
import { type VerifyAccessTokenFunction } from '../utils/create-verify-jwt.js';
import { createResourceMetadataEndpoint } from '../utils/create-resource-metadata-endpoint.js';

import {
  attachAuth,
  sendFailure,
  trustedIssuers,
  type Failure,
  type IssuerValidator,
} from './bearer-response.js';
import {
  bearerAuthOptionNames,
  nativeOperations,
  refuseUnknownOptions,
  type OperationScopesConfig,
  type RequestOutcome,
} from './operations.js';
import {
  closeIfCut,
  contentLength,
  decisionBody,
  keepBody,
  mcpRequest,
  type DecisionBody,
} from './request-body.js';

declare module '@modelcontextprotocol/sdk/server/auth/types.js' {
  interface AuthInfo {
    /** The token itself. */
    token: string;
    /** `client_id` (or `azp`) of the token; `''` when absent. */
    clientId: string;
    /** Scopes granted to the token. */
    scopes: string[];
    /** `exp`, in seconds since the epoch. */
    expiresAt?: number;
    /** `iss`: who issued the token. */
    issuer: string;
    /** `sub`: whom the token represents. */
    subject?: string;
    /** `aud`: whom the token is for. */
    audience?: string | string[];
    /** Every claim of the token. */
    claims?: Record<string, unknown>;
  }
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Who made the request, set by `bearerAuth` / `handleBearerAuth`. */
    auth?: AuthInfo;
  }
}

/** Checks a token's issuer; throws `MCPAuthBearerAuthError('invalid_issuer')` to reject it. */
export type ValidateIssuerFunction = (tokenIssuer: string) => void;

export type BearerAuthConfig = {
  /** Verifies the token; sync or async. */
  verifyAccessToken: VerifyAccessTokenFunction;
  /** The trusted issuer, or a function that validates the token's issuer. */
  issuer: string | ValidateIssuerFunction;
  /** Required audience (RFC 8707); checked when given. */
  audience?: string;
  /** Scopes the token must all have (403 `insufficient_scope` otherwise). */
  requiredScopes?: string[];
  /** The protected resource; its metadata URL goes into every challenge. */
  resource?: string;
  /** Put the failure's cause into error bodies. */
  showErrorDetails?: boolean;
  /** Where failures are reported (why a token was rejected; never the token). */
  logger?: Logger;
} & OperationScopesConfig;

/**
 * An Express handler that authenticates requests with a bearer token: reads the
 * `Authorization` header, verifies the token with `verifyAccessToken`, checks issuer, audience
 * and scopes, then sets `req.auth`. Failures are answered with 401/403 (RFC 6750 challenge) or
 * 500 (server-side problems); errors thrown by later handlers are not touched.
 *
 * With per-operation rules (`toolScopes`, ...), a POST body is read (after the token was
 * verified, at most `maxBodyBytes`) and the scopes of the operations it asks for are checked
 * too; a body that cannot be classified is answered 400/413/415 with a JSON-RPC error. See
 * `request-body.ts` for what the handlers behind receive.
 */
export const handleBearerAuth = (config: BearerAuthConfig): RequestHandler => {
  const {
    verifyAccessToken,
    issuer,
    audience,
    requiredScopes,
    resource,
    showErrorDetails,
    logger,
  } = config;
  if (typeof verifyAccessToken !== 'function') {
    throw new TypeError(
      '`verifyAccessToken` must be a function that takes a token and returns an `AuthInfo` object.'
    );
  }
  if (typeof issuer !== 'string' && typeof issuer !== 'function') {
    throw new TypeError(
      '`issuer` must be either a string or a function that validates the token issuer.'
    );
  }
  if (typeof issuer === 'string' && !URL.canParse(issuer)) {
    throw new TypeError('`issuer` must be a valid URL.');
  }
  refuseUnknownOptions('handleBearerAuth', config, bearerAuthOptionNames);
  const issuers =
    typeof issuer === 'string' ? [issuer] : (issuer as IssuerValidator)[trustedIssuers];
  const customIssuerCheck = typeof issuer === 'function' && !issuers ? issuer : undefined;
  const operations = nativeOperations(config);
  const policy = callNative(
    () =>
      new native.NativePolicy(
        {
          issuers,
          audience,
          requiredScopes,
          resourceMetadata: resource ? createResourceMetadataEndpoint(resource).href : undefined,
          showErrorDetails,
        },
        operations
      )
  );

  /** After the verifier: the operations' scopes too, from the body read now. */
  const decide = async (
    req: Request,
    authInfo: AuthInfo
  ): Promise<
    (({ ok: true; authInfo: AuthInfo } | Failure) & { body?: DecisionBody }) | undefined
  > => {
    const limit = policy.bodyLimit(req.method, contentLength(req));
    const body = limit === null ? undefined : await decisionBody(req, limit);
    if (limit !== null && !body) {
      return undefined;
    }
    const decided = policy.decide(authInfo, mcpRequest(req, body?.bytes)) as RequestOutcome;
    return decided.ok ? { ok: true, authInfo, body } : { ...(decided as Failure), body };
  };

  const authenticate = async (
    req: Request
  ): Promise<
    (({ ok: true; authInfo: AuthInfo } | Failure) & { body?: DecisionBody }) | undefined
  > => {
    const parsed = policy.parseHeader(req.headers.authorization) as
      { ok: true; token: string } | Failure;
    if (!parsed.ok) {
      return parsed;
    }
    try {
      const authInfo = await verifyAccessToken(parsed.token);
      customIssuerCheck?.(authInfo.issuer);
      if (operations !== undefined) {
        return await decide(req, authInfo);
      }
      return (policy.check(authInfo) as Failure | null) ?? { ok: true, authInfo };
    } catch (error: unknown) {
      const shape = errorToNative(error);
      if (!shape) {
        throw error;
      }
      return { ok: false, error: shape, response: policy.respond(shape) } as Failure;
    }
  };

  return async function bearerAuthHandler(req, res, next) {
    const result = await authenticate(req);
    if (!result) {
      // The client went away while sending the body.
      return;
    }
    if (!result.ok) {
      closeIfCut(res, result.body);
      sendFailure(res, result, logger, req);
      return;
    }
    keepBody(req, result.body);
    attachAuth(req, result.authInfo, logger);
    next();
  };
};
