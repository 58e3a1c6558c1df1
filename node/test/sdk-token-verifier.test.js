// mcpAuth.tokenVerifier(...) behind the MCP TypeScript SDK v1's own gate: requireBearerAuth
// from @modelcontextprotocol/sdk in an Express app, McpServer + StreamableHTTPServerTransport
// behind it, driven by the SDK's Client. The tool sees the caller; the SDK answers 401/403/500
// from the errors the verifier throws.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  InsufficientScopeError,
  InvalidTokenError,
  ServerError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { MCPAuth, MCPAuthBearerAuthError, MCPAuthConfigError } from 'mcp-auth';

import { startIntrospection } from './support/introspection.js';
import { serve, startIssuer } from './support/servers.js';

/** Who the whoami tool saw, per call. */
const seen = [];

const mcpHandler = async (req, res) => {
  const server = new McpServer({ name: 'whoami', version: '1.0.0' });
  server.registerTool(
    'whoami',
    { description: 'Who is calling.', inputSchema: {} },
    (_a, extra) => {
      seen.push(extra.authInfo);
      return { content: [{ type: 'text', text: extra.authInfo.subject }] };
    }
  );
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
};

const post = (url, token, body = { jsonrpc: '2.0', id: 1, method: 'ping' }) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });

describe("tokenVerifier behind the SDK v1's requireBearerAuth", () => {
  let iss;
  let app;
  let resource;
  let mcpAuth;
  let introspection;

  before(async () => {
    iss = await startIssuer();
    introspection = await startIntrospection({ clientId: 'rs', clientSecret: 'rs-secret' });
    const e = express();
    e.use(express.json());
    app = await serve(e);
    resource = `${app.url}/mcp`;
    mcpAuth = new MCPAuth({
      protectedResources: [
        {
          metadata: {
            resource,
            authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }],
            scopesSupported: ['read', 'write'],
          },
        },
        {
          metadata: {
            resource: `${app.url}/opaque`,
            authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }],
          },
        },
        {
          metadata: {
            resource: `${app.url}/broken`,
            // Metadata without a JWKS URI: a server-side failure.
            authorizationServers: [
              {
                type: 'oauth',
                metadata: {
                  issuer: iss.issuer,
                  authorizationEndpoint: `${iss.issuer}/authorize`,
                  tokenEndpoint: `${iss.issuer}/token`,
                  responseTypesSupported: ['code'],
                  codeChallengeMethodsSupported: ['S256'],
                  registrationEndpoint: `${iss.issuer}/register`,
                },
              },
            ],
          },
        },
      ],
    });
    const resourceMetadataUrl = `${app.url}/.well-known/oauth-protected-resource/mcp`;
    e.use(mcpAuth.protectedResourceMetadataRouter());
    const verifier = mcpAuth.tokenVerifier({ resource });
    e.post('/mcp', requireBearerAuth({ verifier, resourceMetadataUrl }), mcpHandler);
    e.post(
      '/mcp-write',
      requireBearerAuth({ verifier, requiredScopes: ['write'], resourceMetadataUrl }),
      mcpHandler
    );
    e.post(
      '/mcp-expected',
      requireBearerAuth({ verifier, expectedResource: new URL(resource) }),
      mcpHandler
    );
    // Scopes checked by mcp-auth (with a hierarchy) rather than by the SDK.
    e.post(
      '/mcp-admin',
      requireBearerAuth({
        verifier: mcpAuth.tokenVerifier({
          resource,
          requiredScopes: ['write'],
          scopeHierarchy: { admin: ['write'] },
        }),
      }),
      mcpHandler
    );
    e.post(
      '/opaque',
      requireBearerAuth({
        verifier: mcpAuth.tokenVerifier('introspection', {
          resource: `${app.url}/opaque`,
          introspection: { clientId: 'rs', clientSecret: 'rs-secret', endpoint: introspection.url },
        }),
      }),
      mcpHandler
    );
    e.post(
      '/custom',
      requireBearerAuth({
        verifier: mcpAuth.tokenVerifier(
          (token) => {
            if (token !== 'let-me-in') {
              throw new MCPAuthBearerAuthError('invalid_token');
            }
            return {
              token,
              issuer: iss.issuer,
              clientId: 'custom-client',
              scopes: ['read'],
              subject: 'custom-user',
              audience: resource,
              expiresAt: Math.floor(Date.now() / 1000) + 60,
            };
          },
          { resource }
        ),
      }),
      mcpHandler
    );
    e.post(
      '/broken',
      requireBearerAuth({ verifier: mcpAuth.tokenVerifier({ resource: `${app.url}/broken` }) }),
      mcpHandler
    );
  });
  after(async () => {
    await app.close();
    await introspection.close();
    await iss.close();
  });

  test('a real MCP client calls a tool that sees the caller, resource and expiry included', async () => {
    const token = await iss.mint({ aud: resource, sub: 'alice', scope: 'read' });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(resource), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      })
    );
    try {
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal(result.content[0].text, 'alice');
    } finally {
      await client.close();
    }
    const authInfo = seen.at(-1);
    assert.equal(authInfo.subject, 'alice');
    assert.equal(authInfo.issuer, iss.issuer);
    assert.equal(authInfo.clientId, 'client-1');
    assert.deepEqual(authInfo.scopes, ['read']);
    assert.ok(authInfo.resource instanceof URL);
    assert.equal(authInfo.resource.href, resource);
    assert.equal(authInfo.expiresAt, authInfo.claims.exp);
  });

  test('the SDK answers 401 for no token and for a token that fails verification', async () => {
    const none = await post(resource);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate'), /resource_metadata=/);

    const forged = await iss.mint({ aud: resource });
    const tampered = `${forged.slice(0, -4)}AAAA`;
    const bad = await post(resource, tampered);
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate'), /^Bearer error="invalid_token"/);
    assert.equal((await bad.json()).error, 'invalid_token');
  });

  test('a token for another audience is 401 (the audience defaults to the resource)', async () => {
    const token = await iss.mint({ aud: 'https://other.example.com/mcp' });
    const res = await post(resource, token);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error, 'invalid_token');
  });

  test("the SDK's expectedResource accepts the resource the verifier reports", async () => {
    const token = await iss.mint({ aud: ['https://other.example.com', resource], sub: 'bob' });
    const res = await post(`${app.url}/mcp-expected`, token);
    assert.equal(res.status, 200, await res.text());
  });

  test("the SDK's requiredScopes answer 403 insufficient_scope", async () => {
    const token = await iss.mint({ aud: resource, scope: 'read' });
    const res = await post(`${app.url}/mcp-write`, token);
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate'), /error="insufficient_scope"/);
    assert.match(res.headers.get('www-authenticate'), /scope="write"/);
  });

  test("the verifier's own requiredScopes (with a hierarchy) throw InsufficientScopeError", async () => {
    const reader = await iss.mint({ aud: resource, scope: 'read' });
    const refused = await post(`${app.url}/mcp-admin`, reader);
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).error, 'insufficient_scope');
    const admin = await iss.mint({ aud: resource, scope: 'admin' });
    assert.equal((await post(`${app.url}/mcp-admin`, admin)).status, 200);
  });

  test('a token without exp is refused by the SDK (401 "Token has no expiration time")', async () => {
    const token = await iss.mint({ aud: resource }, { expiresIn: null });
    const res = await post(resource, token);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error_description, 'Token has no expiration time');
  });

  test('introspection: expiresAt comes from the answer', async () => {
    const exp = Math.floor(Date.now() / 1000) + 300;
    introspection.answers.set('opaque-1', {
      active: true,
      iss: iss.issuer,
      sub: 'carol',
      aud: `${app.url}/opaque`,
      scope: 'read',
      exp,
    });
    const res = await post(`${app.url}/opaque`, 'opaque-1', {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'whoami', arguments: {} },
    });
    assert.equal(res.status, 200);
    const authInfo = seen.at(-1);
    assert.equal(authInfo.subject, 'carol');
    assert.equal(authInfo.expiresAt, exp);
    assert.equal(authInfo.resource.href, `${app.url}/opaque`);
    assert.equal((await post(`${app.url}/opaque`, 'unknown-token')).status, 401);
  });

  test("a custom verifier's AuthInfo passes the same policy", async () => {
    const call = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'whoami', arguments: {} },
    };
    assert.equal((await post(`${app.url}/custom`, 'let-me-in', call)).status, 200);
    assert.equal(seen.at(-1).subject, 'custom-user');
    assert.equal(seen.at(-1).resource.href, resource);
    assert.equal((await post(`${app.url}/custom`, 'nope')).status, 401);
  });

  test('a server-side failure is ServerError: 500 without a challenge', async () => {
    const token = await iss.mint({ aud: `${app.url}/broken` });
    const res = await post(`${app.url}/broken`, token);
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('www-authenticate'), null);
    assert.equal((await res.json()).error, 'server_error');
  });

  test("failures are the SDK's error classes, with the package's error as the cause", async () => {
    const verifier = mcpAuth.tokenVerifier({ resource, requiredScopes: ['write'] });
    const expired = await iss.mint(
      { aud: resource, exp: Math.floor(Date.now() / 1000) - 3600 },
      { expiresIn: null }
    );
    await assert.rejects(verifier.verifyAccessToken(expired), (err) => {
      assert.ok(err instanceof InvalidTokenError);
      assert.equal(err.cause.code, 'invalid_token');
      return true;
    });
    const reader = await iss.mint({ aud: resource, scope: 'read' });
    await assert.rejects(verifier.verifyAccessToken(reader), (err) => {
      assert.ok(err instanceof InsufficientScopeError);
      assert.equal(err.cause.code, 'missing_required_scopes');
      assert.deepEqual(err.cause.cause.missingScopes, ['write']);
      return true;
    });
    const broken = mcpAuth.tokenVerifier({ resource: `${app.url}/broken` });
    await assert.rejects(
      broken.verifyAccessToken(await iss.mint({ aud: `${app.url}/broken` })),
      (err) => err instanceof ServerError
    );
  });

  test('options the SDK path cannot honour are configuration errors', () => {
    assert.throws(
      () => mcpAuth.tokenVerifier({ resource, toolScopes: { whoami: ['read'] } }),
      (err) => err instanceof MCPAuthConfigError && err.code === 'invalid_operation_rules'
    );
    assert.throws(
      () => mcpAuth.tokenVerifier({ resource, sdk: 'v3' }),
      (err) => err instanceof MCPAuthConfigError && err.code === 'invalid_token_verifier_config'
    );
    assert.throws(
      () => mcpAuth.tokenVerifier({ resource: 'https://unknown.example.com' }),
      (err) => err.code === 'invalid_server_config'
    );
    assert.throws(
      () => mcpAuth.tokenVerifier({ resource, toolScope: {} }),
      (err) => err.code === 'invalid_operation_rules'
    );
  });
});
