// Users, clients, scopes and the oidc-provider configuration built from them.
import { randomBytes } from 'node:crypto';
import { errors } from 'oidc-provider';
// oidc-provider's own in-memory store; one instance is shared by every Provider
// built in this process (see server.js), so a key rotation loses no state.
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

import { SIGNING_ALGS } from './keys.js';

export const sharedAdapter = createMemoryAdapter();

export const USERS = {
  alice: { name: 'Alice Example', email: 'alice@example.com' },
  bob: { name: 'Bob Example', email: 'bob@example.com' },
};

// Scopes that belong to OpenID Connect itself; every other scope is a resource scope.
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
export const RESOURCE_SCOPES = ['create:todos', 'read:todos', 'delete:todos'];

export const CLIENTS = [
  {
    client_id: 'todo-service',
    client_secret: 'todo-service-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'create:todos read:todos delete:todos',
  },
  {
    client_id: 'todo-writer',
    client_secret: 'todo-writer-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'create:todos',
  },
  {
    // MCP servers (resource servers) that check opaque tokens at the introspection endpoint.
    client_id: 'mcp-resource-server',
    client_secret: 'mcp-resource-server-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    client_id: 'mcp-resource-server-post',
    client_secret: 'mcp-resource-server-post-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_post',
  },
  {
    // Native public client allowed every scope: any port on the loopback redirect
    // URIs matches (RFC 8252 §7.3).
    client_id: 'mcp-public-client',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
  },
];

const RESOURCE_SERVERS = new Set(['mcp-resource-server', 'mcp-resource-server-post']);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLocalResource(resource) {
  const url = URL.parse(resource);
  return !!url && ['http:', 'https:'].includes(url.protocol) && LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * @param {object} o
 * @param {import('./keys.js').KeyRing} o.keys
 * @param {string[]} o.resourceScopes scopes any local resource accepts
 * @param {(resource: string) => string} o.algFor access-token signing algorithm for a resource,
 *   or 'opaque' for opaque access tokens checked by introspection
 * @param {string[]} o.cookieKeys
 * @param {Buffer} o.dpopNonceSecret 32 bytes; kept across rebuilds so nonces survive a key rotation
 * @param {boolean} [o.dpopRequireNonce] every DPoP proof at the token endpoint needs a server nonce
 */
export function providerConfiguration({
  keys, resourceScopes, algFor, cookieKeys, dpopNonceSecret, dpopRequireNonce = false,
}) {
  // The kids of this provider's own keystore, fixed now: a rotation changes the key ring at once,
  // and a token request still running on this instance must not pick a kid it does not hold.
  const signingKids = Object.fromEntries(SIGNING_ALGS.map((alg) => [alg, keys.kidFor(alg)]));
  return {
    adapter: sharedAdapter,
    clients: CLIENTS,
    jwks: keys.privateJwks(),
    scopes: [...OIDC_SCOPES, ...resourceScopes],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    cookies: { keys: cookieKeys },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      ClientCredentials: 3600,
      Grant: 86400,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 86400,
      Session: 86400,
    },
    clientBasedCORS: () => true,
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async loadExistingGrant(ctx) {
      const fromThisInteraction = ctx.oidc.result?.consent?.grantId;
      const grantId = fromThisInteraction ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      const grant = grantId && await ctx.oidc.provider.Grant.find(grantId);
      // Scopes declined in an earlier authorization are asked for again, so clients can step up.
      if (grant && !fromThisInteraction) delete grant.rejected;
      return grant || undefined;
    },
    // Errors that cannot be redirected to the client are answered as JSON, for test harnesses.
    async renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
    // Refresh tokens for every client allowed to use them, not only with offline_access.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    async findAccount(ctx, sub) {
      const user = USERS[sub];
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({
          sub, name: user.name, preferred_username: sub, email: user.email, email_verified: true,
        }),
      };
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // RFC 9449: a token request carrying a DPoP proof gets a DPoP-bound access token (`cnf.jkt`,
      // token_type DPoP) and, for public clients, a refresh token bound to the same key; requests
      // without a proof get Bearer tokens as before. oidc-provider 9 enables this by default; it is
      // spelled out here because the e2e DPoP client depends on it. Nonces (RFC 9449 §8) are sent
      // with every DPoP answer and demanded only with --dpop-nonce.
      dPoP: {
        enabled: true,
        nonceSecret: dpopNonceSecret,
        requireNonce: () => dpopRequireNonce,
        allowReplay: false,
      },
      registration: { enabled: true },
      // A client may revoke its own tokens; resource servers may introspect any token.
      revocation: { enabled: true, allowedPolicy: async (ctx, client, token) => client.clientId === token.clientId },
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) => RESOURCE_SERVERS.has(client.clientId)
          || client.clientId === token.clientId,
      },
      resourceIndicators: {
        enabled: true,
        // The token endpoint may omit `resource` when exactly one was granted.
        useGrantedResource: async () => true,
        async getResourceServerInfo(ctx, resource) {
          if (!isLocalResource(resource)) {
            throw new errors.InvalidTarget('only http(s) resources on localhost/127.0.0.1 are served');
          }
          const alg = algFor(resource);
          const info = { audience: resource, scope: resourceScopes.join(' ') };
          if (alg === 'opaque') return { ...info, accessTokenFormat: 'opaque' };
          return { ...info, accessTokenFormat: 'jwt', jwt: { sign: { alg, kid: signingKids[alg] } } };
        },
      },
    },
  };
}

export const randomSecret = () => randomBytes(32).toString('base64url');
