import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { RequestHandler } from 'express';

import { type Logger } from '../logger.js';
import { type VerifyAccessTokenFunction } from '../utils/create-verify-jwt.js';

import { checkedPolicyGate, expressBearerAuth } from './express.js';
import { type OperationScopesConfig } from './operations.js';

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
    /**
     * The RFC 7638 thumbprint of the key the token is bound to (`cnf.jkt`), on a request a
     * `dpop` route accepted with a proof signed by that key; `undefined` for bearer tokens.
     */
    jkt?: string;
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
export const handleBearerAuth = (config: BearerAuthConfig): RequestHandler =>
  expressBearerAuth(checkedPolicyGate('handleBearerAuth', config));
