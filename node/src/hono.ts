/**
 * Hono: protected-resource metadata and the bearer guard as Hono middleware, over the same
 * decision as Express's `bearerAuth`. The caller is `c.get('auth')`; the request body stays
 * readable (`c.req.json()`, `c.req.raw` for the MCP SDK's web-standard transport).
 *
 * @example
 * import { bearerAuth, protectedResourceMetadata } from 'mcp-auth/hono';
 *
 * app.use(protectedResourceMetadata(mcpAuth));
 * app.all('/mcp', bearerAuth(mcpAuth, 'jwt', { resource, audience: resource }), (c) =>
 *   transport.handleRequest(c.req.raw, { authInfo: c.get('auth') })
 * );
 */
import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Context, MiddlewareHandler } from 'hono';

import { gateFor, type Gate } from './handlers/gate.js';
import { type DpopRouteConfig } from './handlers/dpop.js';
import { type BearerAuthConfig } from './handlers/handle-bearer-auth.js';
import { decideWebRequest, readWebBody, withAnswerHeaders } from './handlers/web.js';
import {
  type MCPAuth,
  type VerifyAccessTokenMode,
  type VerifyIntrospectionConfig,
  type VerifyJwtConfig,
} from './mcp-auth.js';
import { type VerifyAccessTokenFunction } from './utils/create-verify-jwt.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** Who made the request, set by `mcp-auth/hono`'s `bearerAuth`. */
    auth: AuthInfo;
  }
}

/** The Hono environment `bearerAuth` sets: `c.get('auth')`. */
export type McpAuthEnv = { Variables: { auth: AuthInfo } };

type RouteConfig = Omit<BearerAuthConfig, 'verifyAccessToken' | 'issuer'>;

/**
 * Serves each protected resource's RFC 9728 metadata (GET/HEAD, and the CORS preflight) at
 * its well-known path; other requests go on to the next handler.
 */
export const protectedResourceMetadata =
  (mcpAuth: MCPAuth): MiddlewareHandler =>
  async (c, next) => {
    const answer = mcpAuth.protectedResourceMetadataResponse(c.req.raw);
    if (answer) {
      return answer;
    }
    await next();
  };

/**
 * The bytes to decide on: the request's, or, when a handler before read it through Hono
 * (`c.req.json()` and friends), Hono's copy (JSON re-serialized if only the parsed value is
 * left, as with Express's `express.json()`).
 */
const honoBody = (c: Context) => async (limit: number) => {
  const cache = c.req.bodyCache as Record<string, unknown>;
  if (c.req.raw.bodyUsed && Object.keys(cache).length > 0) {
    return { bytes: Buffer.from(await c.req.arrayBuffer()), complete: true };
  }
  return readWebBody(c.req.raw, limit);
};

const guard =
  (gate: Gate): MiddlewareHandler<McpAuthEnv> =>
  async (c, next) => {
    const auth = await decideWebRequest(gate, c.req.raw, honoBody(c));
    if (auth instanceof Response) {
      return auth;
    }
    c.set('auth', auth);
    await next();
    if (gate.dpop) {
      // A DPoP route's `DPoP-Nonce` goes on whatever answer the application made.
      const res = withAnswerHeaders(c.res, auth);
      if (res !== c.res) {
        c.res = res;
      }
    }
  };

/**
 * Bearer auth for Hono routes, with `bearerAuth`'s modes and options (per-operation rules
 * included): refused requests get the same 401/403/400/413/415/500 answers; on success the
 * caller is `c.get('auth')`.
 */
export function bearerAuth(
  mcpAuth: MCPAuth,
  verifyAccessToken: VerifyAccessTokenFunction,
  config?: RouteConfig
): MiddlewareHandler<McpAuthEnv>;
export function bearerAuth(
  mcpAuth: MCPAuth,
  mode: VerifyAccessTokenMode,
  config?: RouteConfig & VerifyJwtConfig & DpopRouteConfig
): MiddlewareHandler<McpAuthEnv>;
export function bearerAuth(
  mcpAuth: MCPAuth,
  mode: 'introspection',
  config: RouteConfig & VerifyIntrospectionConfig & DpopRouteConfig
): MiddlewareHandler<McpAuthEnv>;
export function bearerAuth(
  mcpAuth: MCPAuth,
  modeOrVerify: VerifyAccessTokenFunction | VerifyAccessTokenMode | 'introspection',
  config: RouteConfig & VerifyJwtConfig & Partial<VerifyIntrospectionConfig> & DpopRouteConfig = {}
): MiddlewareHandler<McpAuthEnv> {
  return guard(mcpAuth[gateFor]('bearerAuth', modeOrVerify, config));
}
