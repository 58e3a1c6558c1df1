// Discovery without a type: `fetchServerConfig(issuer)` and lazy `{ issuer }` configs try the
// MCP 2025-11-25 order (OAuth path-inserted, OIDC path-inserted, OIDC path-appended) against
// local issuers that each publish only one of those documents.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import express from 'express';
import { MCPAuth, MCPAuthAuthServerError, MCPAuthConfigError, fetchServerConfig } from 'mcp-auth';

import { close, listen, serve, startIssuer } from './support/servers.js';

const path = '/tenant-a';
const candidates = () => [
  `/.well-known/oauth-authorization-server${path}`,
  `/.well-known/openid-configuration${path}`,
  `${path}/.well-known/openid-configuration`,
];

describe('fetchServerConfig(issuer) without a type', () => {
  const issuers = {};
  before(async () => {
    for (const kind of ['oauth', 'oidc-inserted', 'oidc']) {
      issuers[kind] = await startIssuer({ path, serves: [kind] });
    }
    issuers.none = await startIssuer({ path, serves: [] });
  });
  after(async () => {
    for (const iss of Object.values(issuers)) {
      await iss.close();
    }
  });

  for (const [kind, type, tried] of [
    ['oauth', 'oauth', 1],
    ['oidc-inserted', 'oidc', 2],
    ['oidc', 'oidc', 3],
  ]) {
    test(`finds the ${kind} document and says its type`, async () => {
      const iss = issuers[kind];
      const config = await fetchServerConfig(iss.issuer);
      assert.equal(config.type, type);
      assert.equal(config.metadata.issuer, iss.issuer);
      assert.equal(config.metadata.jwksUri, iss.jwksUri);
      // Tried in order, stopping at the first document found.
      assert.deepEqual(
        candidates().map((p) => iss.hits.get(p) ?? 0),
        [1, 1, 1].map((_, i) => (i < tried ? 1 : 0))
      );
    });
  }

  test('an issuer that publishes none of them is a clear error', async () => {
    const iss = issuers.none;
    await assert.rejects(fetchServerConfig(iss.issuer), (e) => {
      assert.ok(e instanceof MCPAuthConfigError, String(e));
      assert.equal(e.code, 'fetch_server_config_error');
      assert.match(e.message, /^Failed to fetch server config from http:\/\/127\.0\.0\.1:\d+\//);
      assert.match(e.message, /404/);
      // Every URL tried is named.
      for (const p of candidates()) {
        assert.ok(e.message.includes(`${iss.origin}${p}`), e.message);
      }
      return true;
    });
    assert.deepEqual(
      candidates().map((p) => iss.hits.get(p)),
      [1, 1, 1]
    );
  });

  test('a server error stops discovery instead of moving on', async () => {
    const failing = http.createServer((_req, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    const url = await listen(failing);
    try {
      // Upstream's wording: the status text after the URL.
      await assert.rejects(
        fetchServerConfig(`${url}/x`),
        (e) =>
          e instanceof MCPAuthConfigError &&
          e.message ===
            `Failed to fetch server config from ${url}/.well-known/oauth-authorization-server/x: Internal Server Error`
      );
    } finally {
      await close(failing);
    }
  });

  test('a typed call fetches exactly its own URL, as before', async () => {
    const iss = issuers['oidc-inserted'];
    await assert.rejects(fetchServerConfig(iss.issuer, { type: 'oauth' }), (e) => {
      assert.ok(e instanceof MCPAuthConfigError);
      assert.equal(e.code, 'fetch_server_config_error');
      assert.ok(
        e.message.startsWith(
          `Failed to fetch server config from ${iss.origin}/.well-known/oauth-authorization-server${path}`
        ),
        e.message
      );
      return true;
    });
    const oidc = await fetchServerConfig(issuers.oidc.issuer, { type: 'oidc' });
    assert.equal(oidc.type, 'oidc');
  });

  test('transpileData and checkIssuer work without a type too', async () => {
    const iss = issuers.oidc;
    let seen;
    const config = await fetchServerConfig(iss.issuer, {
      transpileData: async (data) => {
        seen = data;
        return { ...data, scopes_supported: ['notes:read'] };
      },
    });
    assert.equal(config.type, 'oidc');
    assert.equal(seen.jwks_uri, iss.jwksUri);
    assert.deepEqual(config.metadata.scopesSupported, ['notes:read']);
    // The raw document may even need the rewrite to be valid.
    const fixed = await fetchServerConfig(issuers.oauth.issuer, {
      transpileData: ({ response_types_supported: _, ...rest }) => ({
        ...rest,
        response_types_supported: ['code'],
      }),
    });
    assert.equal(fixed.type, 'oauth');
    await assert.rejects(
      fetchServerConfig(iss.issuer, {
        transpileData: (d) => ({ ...d, issuer: 'https://other.example.com' }),
      }),
      (e) => e instanceof MCPAuthAuthServerError && e.code === 'invalid_server_metadata'
    );
    const relaxed = await fetchServerConfig(iss.issuer, {
      checkIssuer: false,
      transpileData: (d) => ({ ...d, issuer: 'https://other.example.com' }),
    });
    assert.equal(relaxed.metadata.issuer, 'https://other.example.com');
  });

  test('an invalid issuer URL is rejected before any request', async () => {
    await assert.rejects(
      fetchServerConfig('not a url'),
      (e) => e instanceof MCPAuthConfigError && e.code === 'fetch_server_config_error'
    );
  });
});

describe('lazy { issuer } configs without a type', () => {
  for (const kind of ['oauth', 'oidc-inserted', 'oidc']) {
    test(`bearerAuth('jwt') discovers a ${kind} issuer on the first request`, async () => {
      const iss = await startIssuer({ path, serves: [kind] });
      const resource = 'https://notes.example.com/mcp';
      const mcpAuth = new MCPAuth({
        protectedResources: {
          metadata: { resource, authorizationServers: [{ issuer: iss.issuer }] },
        },
      });
      const app = await serve(
        express().get(
          '/notes',
          mcpAuth.bearerAuth('jwt', { resource, audience: resource }),
          (req, res) => res.json(req.auth)
        )
      );
      try {
        const token = await iss.mint({ aud: resource });
        const res = await fetch(`${app.url}/notes`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(res.status, 200);
        const auth = await res.json();
        assert.equal(auth.issuer, iss.issuer);
        assert.equal(auth.subject, 'user-1');
        const prm = new MCPAuth({
          protectedResources: {
            metadata: { resource, authorizationServers: [{ issuer: iss.issuer }] },
          },
        });
        const served = await serve(express().use(prm.protectedResourceMetadataRouter()));
        try {
          const doc = await (
            await fetch(`${served.url}/.well-known/oauth-protected-resource/mcp`)
          ).json();
          assert.deepEqual(doc.authorization_servers, [iss.issuer]);
        } finally {
          await served.close();
        }
      } finally {
        await app.close();
        await iss.close();
      }
    });
  }

  test('legacy mode serves a discovered issuer without a type', async () => {
    const iss = await startIssuer({ path, serves: ['oidc-inserted'] });
    const mcpAuth = new MCPAuth({ server: { issuer: iss.issuer }, logger: {} });
    const app = await serve(express().use(mcpAuth.delegatedRouter()));
    try {
      const res = await fetch(`${app.url}/.well-known/oauth-authorization-server`);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).issuer, iss.issuer);
    } finally {
      await app.close();
      await iss.close();
    }
  });
});
