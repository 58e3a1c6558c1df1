// bearerAuth('introspection'): opaque tokens checked by a real RFC 7662 endpoint on 127.0.0.1.
// Client authentication, req.auth, the opt-in answer cache, endpoint faults, the endpoint from
// the authorization server's metadata, and configuration errors.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { MCPAuth, MCPAuthConfigError } from 'mcp-auth';

import { startIntrospection } from './support/introspection.js';
import { close, listen, serve, startIssuer } from './support/servers.js';

const resource = 'https://notes.example.com/mcp';
const issuer = 'https://auth.example.com';
const clientId = 'notes-api';
const clientSecret = 'p@ss:w/rd+ é';
const quiet = {};

const metadataOf = (extra = {}) => ({
  issuer,
  authorizationEndpoint: `${issuer}/authorize`,
  tokenEndpoint: `${issuer}/token`,
  responseTypesSupported: ['code'],
  codeChallengeMethodsSupported: ['S256'],
  registrationEndpoint: `${issuer}/register`,
  ...extra,
});

const mcpAuthFor = (servers) =>
  new MCPAuth({
    protectedResources: { metadata: { resource, authorizationServers: servers } },
    logger: quiet,
  });

const active = (claims = {}) => ({
  active: true,
  iss: issuer,
  sub: 'user-1',
  client_id: 'notes-app',
  scope: 'notes:read notes:write',
  aud: resource,
  exp: Math.floor(Date.now() / 1000) + 3600,
  ...claims,
});

const get = async (url, token) => {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return {
    status: res.status,
    body: await res.json(),
    challenge: res.headers.get('www-authenticate'),
  };
};

/** An app with one introspection-protected route per entry of `routes` (path -> options). */
const appWith = async (mcpAuth, routes) => {
  const router = express();
  for (const [path, options] of Object.entries(routes)) {
    router.get(
      path,
      mcpAuth.bearerAuth('introspection', { resource, audience: resource, ...options }),
      (req, res) => res.json(req.auth)
    );
  }
  return serve(router);
};

describe('client authentication and req.auth', () => {
  let endpoint;
  let app;
  before(async () => {
    endpoint = await startIntrospection({ clientId, clientSecret });
    endpoint.answers.set(
      'opaque-1',
      active({ roles: ['Notes.Admin'], username: 'ada', token_type: 'Bearer' })
    );
    const mcpAuth = mcpAuthFor([
      { metadata: metadataOf({ introspectionEndpoint: endpoint.url }), type: 'oauth' },
    ]);
    const introspection = { clientId, clientSecret };
    app = await appWith(mcpAuth, {
      '/basic': { introspection },
      '/post': { introspection: { ...introspection, authMethod: 'client_secret_post' } },
      '/scoped': { introspection, requiredScopes: ['notes:admin'] },
    });
  });
  after(async () => {
    await app.close();
    await endpoint.close();
  });

  test('client_secret_basic (the default) form-encodes both halves', async () => {
    endpoint.reset();
    const { status, body } = await get(`${app.url}/basic`, 'opaque-1');
    assert.equal(status, 200, JSON.stringify(body));
    const [sent] = endpoint.requests;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.auth, 'client_secret_basic');
    assert.match(sent.contentType, /^application\/x-www-form-urlencoded/);
    assert.equal(sent.token, 'opaque-1');
    assert.equal(sent.tokenTypeHint, 'access_token');
  });

  test('client_secret_post sends the credentials in the form', async () => {
    endpoint.reset();
    const { status } = await get(`${app.url}/post`, 'opaque-1');
    assert.equal(status, 200);
    assert.equal(endpoint.requests[0].auth, 'client_secret_post');
    assert.equal(endpoint.requests[0].headers.authorization, undefined);
  });

  test('req.auth is built from the answer as in the JWT mode', async () => {
    const { body } = await get(`${app.url}/basic`, 'opaque-1');
    const answer = endpoint.answers.get('opaque-1');
    assert.deepEqual(body, {
      token: 'opaque-1',
      issuer,
      clientId: 'notes-app',
      scopes: ['notes:read', 'notes:write'],
      subject: 'user-1',
      audience: resource,
      expiresAt: answer.exp,
      claims: answer,
    });
  });

  test('policy failures answer as in the JWT mode', async () => {
    const scoped = await get(`${app.url}/scoped`, 'opaque-1');
    assert.equal(scoped.status, 403);
    assert.deepEqual(scoped.body.missing_scopes, ['notes:admin']);
    assert.match(scoped.challenge, /error="insufficient_scope", .*scope="notes:admin"/);
    const inactive = await get(`${app.url}/basic`, 'unknown-token');
    assert.equal(inactive.status, 401);
    assert.equal(inactive.body.error, 'invalid_token');
    const none = await get(`${app.url}/basic`);
    assert.equal(none.status, 401);
    assert.equal(
      none.challenge,
      'Bearer resource_metadata="https://notes.example.com/.well-known/oauth-protected-resource/mcp"'
    );
  });
});

describe('the opt-in answer cache', () => {
  let endpoint;
  let app;
  before(async () => {
    endpoint = await startIntrospection({ clientId, clientSecret });
    const mcpAuth = mcpAuthFor([{ metadata: metadataOf(), type: 'oauth' }]);
    const introspection = { clientId, clientSecret, endpoint: endpoint.url };
    app = await appWith(mcpAuth, {
      '/uncached': { introspection },
      '/cached': { introspection: { ...introspection, cacheMaxAge: 60_000 } },
    });
  });
  after(async () => {
    await app.close();
    await endpoint.close();
  });

  test('off by default: every request asks the endpoint', async () => {
    endpoint.answers.set('plain', active());
    endpoint.reset();
    assert.equal((await get(`${app.url}/uncached`, 'plain')).status, 200);
    assert.equal((await get(`${app.url}/uncached`, 'plain')).status, 200);
    assert.equal(endpoint.requests.length, 2);
  });

  test('with cacheMaxAge a second request does not reach the endpoint', async () => {
    endpoint.answers.set('cached', active());
    endpoint.reset();
    const first = await get(`${app.url}/cached`, 'cached');
    const second = await get(`${app.url}/cached`, 'cached');
    assert.equal(first.status, 200);
    assert.deepEqual(second, first);
    assert.equal(endpoint.requests.length, 1);
    // Another token is its own entry.
    endpoint.answers.set('cached-2', active({ sub: 'user-2' }));
    assert.equal((await get(`${app.url}/cached`, 'cached-2')).body.subject, 'user-2');
    assert.equal(endpoint.requests.length, 2);
  });

  test('concurrent requests with one token share one introspection', async () => {
    endpoint.answers.set('busy', active());
    endpoint.reset();
    const release = endpoint.hold();
    const pending = Array.from({ length: 20 }, () => get(`${app.url}/uncached`, 'busy'));
    // Answer only once the first request is at the endpoint and the others had time to join it.
    while (endpoint.requests.length === 0) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 200));
    release();
    const results = await Promise.all(pending);
    assert.deepEqual(
      results.map((r) => r.status),
      Array(20).fill(200)
    );
    assert.equal(endpoint.requests.length, 1);
  });

  test('inactive answers are not cached', async () => {
    endpoint.reset();
    assert.equal((await get(`${app.url}/cached`, 'never-issued')).status, 401);
    endpoint.answers.set('never-issued', active());
    assert.equal((await get(`${app.url}/cached`, 'never-issued')).status, 200);
    assert.equal(endpoint.requests.length, 2);
  });

  test('a cached answer never outlives the token’s exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    endpoint.answers.set('short-lived', active({ exp }));
    endpoint.reset();
    assert.equal((await get(`${app.url}/cached`, 'short-lived')).status, 200);
    // Past exp (whole seconds) the entry is gone: the endpoint is asked again and the answer,
    // though still "active", is refused because the token has expired.
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 200));
    const late = await get(`${app.url}/cached`, 'short-lived');
    assert.equal(late.status, 401);
    assert.equal(late.body.error, 'invalid_token');
    assert.equal(endpoint.requests.length, 2);
  });
});

describe('endpoint faults answer 401 token_verification_failed', () => {
  const expectFailure = ({ status, body, challenge }, why) => {
    assert.equal(status, 401);
    assert.equal(body.error, 'token_verification_failed');
    assert.equal(body.error_description, 'Token verification failed due to an error.');
    // Upstream's Node shape: the reason under `cause.cause`.
    assert.match(
      body.cause.cause,
      /^Failed to introspect the token at http:\/\/127\.0\.0\.1:\d+\//
    );
    assert.match(body.cause.cause, why);
    assert.match(challenge, /^Bearer error="invalid_token"/);
  };

  test('endpoint down', async () => {
    const dead = http.createServer();
    const url = `${await listen(dead)}/introspect`;
    await close(dead);
    const mcpAuth = mcpAuthFor([{ metadata: metadataOf({ introspectionEndpoint: url }) }]);
    const app = await appWith(mcpAuth, {
      '/': { showErrorDetails: true, introspection: { clientId, clientSecret } },
    });
    try {
      expectFailure(await get(`${app.url}/`, 'opaque'), /onnect/);
    } finally {
      await app.close();
    }
  });

  test('endpoint slower than timeoutDuration', async () => {
    const endpoint = await startIntrospection({ clientId, clientSecret, delayMs: 5000 });
    endpoint.answers.set('opaque', active());
    const mcpAuth = mcpAuthFor([{ metadata: metadataOf() }]);
    const app = await appWith(mcpAuth, {
      '/': {
        showErrorDetails: true,
        introspection: { clientId, clientSecret, endpoint: endpoint.url, timeoutDuration: 200 },
      },
    });
    try {
      expectFailure(await get(`${app.url}/`, 'opaque'), /timed out after 200 ms/);
    } finally {
      await app.close();
      await endpoint.close();
    }
  });

  test('endpoint answers 500, then recovers', async () => {
    const endpoint = await startIntrospection({ clientId, clientSecret });
    endpoint.answers.set('opaque', { status: 500, json: { error: 'server_error' } });
    const mcpAuth = mcpAuthFor([{ metadata: metadataOf({ introspectionEndpoint: endpoint.url }) }]);
    const app = await appWith(mcpAuth, {
      '/': { showErrorDetails: true, introspection: { clientId, clientSecret } },
    });
    try {
      expectFailure(await get(`${app.url}/`, 'opaque'), /500/);
      endpoint.answers.set('opaque', active());
      assert.equal((await get(`${app.url}/`, 'opaque')).status, 200);
    } finally {
      await app.close();
      await endpoint.close();
    }
  });

  test('the endpoint refusing our credentials', async () => {
    const endpoint = await startIntrospection({ clientId, clientSecret });
    endpoint.answers.set('opaque', active());
    const mcpAuth = mcpAuthFor([{ metadata: metadataOf({ introspectionEndpoint: endpoint.url }) }]);
    const app = await appWith(mcpAuth, {
      '/': { showErrorDetails: true, introspection: { clientId, clientSecret: 'wrong' } },
    });
    try {
      expectFailure(await get(`${app.url}/`, 'opaque'), /401/);
    } finally {
      await app.close();
      await endpoint.close();
    }
  });
});

describe('hostile input', () => {
  test('redirects are not followed: the credentials stay with the configured endpoint', async () => {
    const elsewhere = await startIntrospection({ clientId, clientSecret });
    elsewhere.answers.set('opaque', active());
    const redirecting = http.createServer((_req, res) => {
      res.writeHead(307, { location: elsewhere.url });
      res.end();
    });
    const url = `${await listen(redirecting)}/introspect`;
    const mcpAuth = mcpAuthFor([{ metadata: metadataOf({ introspectionEndpoint: url }) }]);
    const app = await appWith(mcpAuth, {
      '/': { showErrorDetails: true, introspection: { clientId, clientSecret } },
    });
    try {
      const { status, body } = await get(`${app.url}/`, 'opaque');
      assert.equal(status, 401);
      assert.equal(body.error, 'token_verification_failed');
      assert.match(body.cause.cause, /307/);
      assert.equal(elsewhere.requests.length, 0);
    } finally {
      await app.close();
      await close(redirecting);
      await elsewhere.close();
    }
  });

  test('an oversized token is refused without asking the endpoint', async () => {
    const endpoint = await startIntrospection({ clientId, clientSecret });
    const mcpAuth = mcpAuthFor([{ metadata: metadataOf({ introspectionEndpoint: endpoint.url }) }]);
    const router = express().get(
      '/',
      mcpAuth.bearerAuth('introspection', { resource, introspection: { clientId, clientSecret } }),
      (_req, res) => res.json({})
    );
    // Node's own header limit (16 KiB) would stop the request before the middleware.
    const server = http.createServer({ maxHeaderSize: 128 * 1024 }, router);
    const url = await listen(server);
    try {
      const { status, body } = await get(`${url}/`, 'a'.repeat(40 * 1024));
      assert.equal(status, 401);
      assert.equal(body.error, 'invalid_token');
      assert.equal(endpoint.requests.length, 0);
    } finally {
      await close(server);
      await endpoint.close();
    }
  });
});

describe('the endpoint from the authorization server metadata', () => {
  test('discovered lazily from { issuer } (no type): introspection_endpoint is used', async () => {
    const endpoint = await startIntrospection({ clientId, clientSecret });
    const iss = await startIssuer({
      path: '/tenant',
      serves: ['oidc'],
      metadata: { introspection_endpoint: endpoint.url },
    });
    endpoint.answers.set('opaque', active({ iss: iss.issuer }));
    endpoint.answers.set('no-iss', active({ iss: undefined }));
    const mcpAuth = mcpAuthFor([{ issuer: iss.issuer }]);
    const app = await appWith(mcpAuth, { '/': { introspection: { clientId, clientSecret } } });
    try {
      const { status, body } = await get(`${app.url}/`, 'opaque');
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.issuer, iss.issuer);
      // Without `iss` in the answer the token belongs to the one trusted server.
      assert.equal((await get(`${app.url}/`, 'no-iss')).body.issuer, iss.issuer);
      assert.equal(iss.hits.get('/tenant/.well-known/openid-configuration'), 1);
      assert.equal(endpoint.requests.length, 2);
    } finally {
      await app.close();
      await iss.close();
      await endpoint.close();
    }
  });

  test('metadata without introspection_endpoint: 500 server_error', async () => {
    const errors = [];
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: { resource, authorizationServers: [{ metadata: metadataOf(), type: 'oauth' }] },
      },
      logger: { error: (message, meta) => errors.push({ message, meta }) },
    });
    const app = await appWith(mcpAuth, {
      '/': { showErrorDetails: true, introspection: { clientId, clientSecret } },
    });
    try {
      const { status, body, challenge } = await get(`${app.url}/`, 'opaque');
      assert.equal(status, 500);
      assert.equal(body.error, 'server_error');
      assert.equal(body.cause.error, 'missing_introspection_endpoint');
      assert.equal(challenge, null);
      // The explanation goes to the server's log, not to the client.
      assert.equal(errors.length, 1);
      assert.match(errors[0].message, /missing_introspection_endpoint/);
      assert.match(
        JSON.stringify(errors[0].meta.cause),
        /does not advertise an `introspection_endpoint`/
      );
    } finally {
      await app.close();
    }
  });

  test('two trusted servers and an explicit endpoint: iss picks, absent iss is refused', async () => {
    const endpoint = await startIntrospection({ clientId, clientSecret });
    const other = 'https://other-auth.example.com';
    endpoint.answers.set('from-other', active({ iss: other }));
    endpoint.answers.set('no-iss', active({ iss: undefined }));
    const mcpAuth = mcpAuthFor([
      { metadata: metadataOf() },
      { metadata: { ...metadataOf(), issuer: other } },
    ]);
    const app = await appWith(mcpAuth, {
      '/': { introspection: { clientId, clientSecret, endpoint: new URL(endpoint.url) } },
    });
    try {
      assert.equal((await get(`${app.url}/`, 'from-other')).body.issuer, other);
      assert.equal((await get(`${app.url}/`, 'no-iss')).status, 401);
    } finally {
      await app.close();
      await endpoint.close();
    }
  });
});

describe('configuration errors at construction', () => {
  const mcpAuth = mcpAuthFor([{ metadata: metadataOf({ introspectionEndpoint: `${issuer}/i` }) }]);
  const twoServers = mcpAuthFor([
    { metadata: metadataOf() },
    { metadata: { ...metadataOf(), issuer: 'https://other-auth.example.com' } },
  ]);
  const good = { clientId, clientSecret };
  const refuses = (options, pattern, auth = mcpAuth, mode = 'introspection') => {
    assert.throws(
      () => auth.bearerAuth(mode, { resource, audience: resource, ...options }),
      (e) => {
        assert.ok(e instanceof MCPAuthConfigError, `${e}`);
        assert.equal(e.code, 'invalid_introspection_config');
        assert.match(e.message, pattern);
        return true;
      }
    );
  };

  test('the introspection options themselves', () => {
    refuses({}, /needs `introspection: \{ clientId, clientSecret \}`/);
    refuses({ introspection: 'secret' }, /needs `introspection: \{ clientId, clientSecret \}`/);
    refuses({ introspection: { clientSecret } }, /`introspection.clientId` is required/);
    refuses(
      { introspection: { clientId, clientSecret: '' } },
      /`introspection.clientSecret` is required/
    );
    refuses(
      { introspection: { clientId: 42, clientSecret } },
      /`introspection.clientId` must be a string/
    );
    refuses(
      { introspection: { ...good, authMethod: 'private_key_jwt' } },
      /Unknown `introspection.authMethod` "private_key_jwt"/
    );
    refuses(
      { introspection: { ...good, cacheTtl: 60 } },
      /Unknown option `introspection.cacheTtl`/
    );
    // Durations go through core's one rule for every configured duration.
    assert.throws(
      () =>
        mcpAuth.bearerAuth('introspection', {
          resource,
          audience: resource,
          introspection: { ...good, cacheMaxAge: -1 },
        }),
      (e) =>
        e instanceof MCPAuthConfigError &&
        e.code === 'invalid_duration' &&
        /`introspection.cacheMaxAge` must be a finite, non-negative number of milliseconds/.test(
          e.message
        )
    );
    refuses(
      { introspection: { ...good, timeoutDuration: '5s' } },
      /`introspection.timeoutDuration` must be a non-negative number of milliseconds/
    );
    refuses({ introspection: { ...good, timeoutDuration: 0 } }, /more than 0 milliseconds/);
    refuses(
      { introspection: { ...good, clockTolerance: 'soon' } },
      /`introspection.clockTolerance` must be a number of seconds/
    );
    refuses(
      { introspection: { ...good, endpoint: 'ftp://auth.example.com/i' } },
      /not an http\(s\) URL/
    );
    refuses(
      { introspection: { ...good, endpoint: 7 } },
      /`introspection.endpoint` must be a URL string/
    );
    refuses(
      { introspection: { ...good, headers: 'x' } },
      /`introspection.headers` must be an object/
    );
  });

  test('mixing the modes and ambiguous endpoints', () => {
    refuses(
      { introspection: good, jwtVerify: { clockTolerance: 5 } },
      /`jwtVerify` and `remoteJwkSet` belong to the 'jwt' mode/
    );
    refuses(
      { introspection: good },
      /only read by `bearerAuth\('introspection', \.\.\.\)`/,
      mcpAuth,
      'jwt'
    );
    refuses(
      { introspection: good },
      /needs an explicit endpoint when 2 authorization servers are trusted/,
      twoServers
    );
  });

  test('accepted forms', () => {
    for (const introspection of [
      good,
      { ...good, authMethod: 'client_secret_post', cacheMaxAge: 0, timeoutDuration: 1500 },
      { ...good, clockTolerance: '30s', endpoint: new URL('https://auth.example.com/i') },
      { ...good, clockTolerance: 30, headers: { 'x-tenant': 'a' } },
    ]) {
      assert.equal(
        typeof mcpAuth.bearerAuth('introspection', { resource, introspection }),
        'function'
      );
    }
    assert.equal(
      typeof twoServers.bearerAuth('introspection', {
        resource,
        introspection: { ...good, endpoint: 'https://auth.example.com/i' },
      }),
      'function'
    );
  });
});

describe('MCP SDK tools behind the introspection mode', () => {
  test('a tool sees the introspected auth info as extra.authInfo', async () => {
    const endpoint = await startIntrospection({ clientId, clientSecret });
    endpoint.answers.set('opaque-mcp', active({ roles: ['Notes.Admin'] }));
    const appServer = express();
    const app = await serve(appServer);
    const mcpResource = `${app.url}/mcp`;
    endpoint.answers.set('opaque-mcp', active({ aud: mcpResource, roles: ['Notes.Admin'] }));
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: {
          resource: mcpResource,
          authorizationServers: [{ metadata: metadataOf({ introspectionEndpoint: endpoint.url }) }],
        },
      },
      logger: quiet,
    });
    appServer.use(express.json());
    appServer.post(
      '/mcp',
      mcpAuth.bearerAuth('introspection', {
        resource: mcpResource,
        audience: mcpResource,
        requiredScopes: ['notes:read'],
        introspection: { clientId, clientSecret, cacheMaxAge: 30_000 },
      }),
      async (req, res) => {
        const server = new McpServer({ name: 'notes', version: '1.0.0' });
        server.tool('whoami', async ({ authInfo }) => ({
          content: [
            {
              type: 'text',
              text: JSON.stringify({
                subject: authInfo.subject,
                issuer: authInfo.issuer,
                scopes: authInfo.scopes,
                roles: authInfo.claims.roles,
              }),
            },
          ],
        }));
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        res.on('close', () => {
          void transport.close();
          void server.close();
        });
        await server.connect(transport);
        await transport.handleRequest(req, res, req.body);
      }
    );
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    try {
      await client.connect(
        new StreamableHTTPClientTransport(new URL(mcpResource), {
          requestInit: { headers: { authorization: 'Bearer opaque-mcp' } },
        })
      );
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      assert.deepEqual(JSON.parse(result.content[0].text), {
        subject: 'user-1',
        issuer,
        scopes: ['notes:read', 'notes:write'],
        roles: ['Notes.Admin'],
      });
      // Several MCP requests, one introspection thanks to the cache.
      assert.equal(endpoint.requests.length, 1);
    } finally {
      await client.close();
      await app.close();
      await endpoint.close();
    }
  });
});
