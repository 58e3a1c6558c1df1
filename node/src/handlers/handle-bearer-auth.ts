import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Request, RequestHandler, Response } from 'express';

import { type Logger } from '../logger.js';
import * as native from '../native.js';
import { errorToNative } from '../native-errors.js';
import { type VerifyAccessTokenFunction } from '../utils/create-verify-jwt.js';
import { createResourceMetadataEndpoint } from '../utils/create-resource-metadata-endpoint.js';

import {
  attachAuth,
  audienceFromResource,
  sendFailure,
  trustedIssuers,
  type Failure,
  type IssuerValidator,
} from './bearer-response.js';

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
};

/**
 * An Express handler that authenticates requests with a bearer token: reads the
 * `Authorization` header, verifies the token with `verifyAccessToken`, checks issuer, audience
 * and scopes, then sets `req.auth`. Failures are answered with 401/403 (RFC 6750 challenge) or
 * 500 (server-side problems); errors thrown by later handlers are not touched.
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
  const issuers =
    typeof issuer === 'string' ? [issuer] : (issuer as IssuerValidator)[trustedIssuers];
  const customIssuerCheck = typeof issuer === 'function' && !issuers ? issuer : undefined;
  const policy = new native.NativePolicy({
    issuers,
    audience,
    audienceFromResource:
      (config as { [audienceFromResource]?: boolean })[audienceFromResource] === true,
    requiredScopes,
    resourceMetadata: resource ? createResourceMetadataEndpoint(resource).href : undefined,
    showErrorDetails,
  });

  const authenticate = async (
    req: Request
  ): Promise<{ ok: true; authInfo: AuthInfo } | Failure> => {
    const parsed = policy.parseHeader(req.headers.authorization) as
      { ok: true; token: string } | Failure;
    if (!parsed.ok) {
      return parsed;
    }
    try {
      const authInfo = await verifyAccessToken(parsed.token);
      customIssuerCheck?.(authInfo.issuer);
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
    if (!result.ok) {
      sendFailure(res, result, logger, req);
      return;
    }
    attachAuth(req, result.authInfo, logger);
    next();
  };
};
