// Secure defaults through the public API (tests/vectors/audience.json, keys.json, options.json),
// and the places where upstream's own tests lean on upstream's behaviour.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import express from 'express';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import {
  MCPAuth,
  MCPAuthAuthServerError,
  MCPAuthConfigError,
  MCPAuthTokenVerificationError,
  clearCaches,
  createVerifyJwt,
  fetchServerConfigByWellKnownUrl,
} from 'mcp-auth';
import { createResourceMetadataEndpoint } from 'mcp-auth/utils/create-resource-metadata-endpoint.js';

import { close, listen, serve } from './support/servers.js';

const vectorsDir =
  process.env.MCP_AUTH_VECTORS ?? new URL('../../tests/vectors/', import.meta.url).pathname;
const load = (name) => JSON.parse(readFileSync(`${vectorsDir}/${name}`, 'utf8'));

const camel = (o) =>
  Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()), v])
  );

/** A logger that keeps what is said at warning level. */
const recorder = () => {
  const warnings = [];
  return { warnings, logger: { warn: (m) => warnings.push(m), error: () => {}, debug: () => {} } };
};

/** Serves JSON documents by path; `hits` counts requests per path. */
const documents = async (docs) => {
  const hits = {};
  const server = http.createServer((req, res) => {
    hits[req.url] = (hits[req.url] ?? 0) + 1;
    const doc = docs[req.url];
    res.writeHead(doc === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(doc ?? { error: 'not_found' }));
  });
  const url = await listen(server);
  return { url, hits, docs, close: () => close(server) };
};

const get = async (url, header) => {
  const res = await fetch(url, { headers: header ? { authorization: header } : {} });
  return {
    status: res.status,
    body: await res.json(),
    challenge: res.headers.get('www-authenticate'),
  };
};

describe('audience.json', () => {
  const v = load('audience.json');
  let keys;
  let app;
  const built = [];
  const build = (c, logger) => {
    const server = {
      metadata: camel({ ...v.metadata, jwks_uri: `${keys.url}/jwks` }),
      type: 'oidc',
    };
    if (c.mode === 'resource') {
      return new MCPAuth({
        protectedResources: { metadata: { resource: v.resource, authorizationServers: [server] } },
        logger,
      }).bearerAuth('jwt', {
        resource: v.resource,
        audience: c.audience ?? undefined,
        acceptAnyAudience: c.accept_any_audience,
      });
    }
    return new MCPAuth({ server, logger }).bearerAuth('jwt', {
      audience: c.audience ?? undefined,
      acceptAnyAudience: c.accept_any_audience,
    });
  };
  before(async () => {
    keys = await documents({ '/jwks': v.jwks });
    const router = express();
    v.cases.forEach((c, i) => {
      const { warnings, logger } = recorder();
      router.get(`/case/${i}`, build(c, logger), (_req, res) => res.json({ ok: true }));
      built.push(warnings.filter((w) => w.includes('audience')));
    });
    app = await serve(router);
  });
  after(async () => {
    await app.close();
    await keys.close();
  });

  for (const [i, c] of v.cases.entries()) {
    test(c.name, async () => {
      assert.equal(built[i].length > 0, c.warning, JSON.stringify(built[i]));
      const { status, body, challenge } = await get(
        `${app.url}/case/${i}`,
        `Bearer ${v.tokens[c.token]}`
      );
      assert.equal(status, c.expect.status, JSON.stringify(body));
      if (status !== 200) {
        assert.deepEqual(body, c.expect.body);
        assert.equal(challenge, c.expect.www_authenticate);
      }
    });
  }
  for (const c of v.config_errors) {
    test(c.name, () => {
      assert.throws(
        () => build(c, recorder().logger),
        (e) => e instanceof MCPAuthAuthServerError && e.code === c.code
      );
    });
  }
  test('the opt-out warning is logged once per instance', () => {
    const { warnings, logger } = recorder();
    const server = { metadata: camel({ ...v.metadata, jwks_uri: 'https://x/jwks' }), type: 'oidc' };
    const mcpAuth = new MCPAuth({
      protectedResources: { metadata: { resource: v.resource, authorizationServers: [server] } },
      logger,
    });
    for (let i = 0; i < 3; i++) {
      mcpAuth.bearerAuth('jwt', { resource: v.resource, acceptAnyAudience: true });
    }
    assert.equal(warnings.filter((w) => w.includes('audience')).length, 1);
  });
});

const expectTokens = async (verify, tokens, name) => {
  for (const [i, t] of tokens.entries()) {
    try {
      const info = await verify(t.token);
      assert.ok(t.valid, `${name}: token ${i} accepted`);
      assert.equal(info.subject, 'user-1');
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.ok(!t.valid, `${name}: token ${i} refused: ${e}`);
      assert.ok(
        e instanceof MCPAuthTokenVerificationError && e.code === 'invalid_token',
        String(e)
      );
    }
  }
};

describe('keys.json', () => {
  const v = load('keys.json');
  for (const c of [...v.secrets, ...v.jwks]) {
    test(c.name, async () => {
      const key =
        'secret_base64' in c ? new Uint8Array(Buffer.from(c.secret_base64, 'base64')) : c.keys;
      const options = c.algorithms ? { algorithms: c.algorithms } : undefined;
      if (c.error) {
        assert.throws(
          () => createVerifyJwt(key, options),
          (e) => e instanceof MCPAuthConfigError && e.code === c.error
        );
        return;
      }
      await expectTokens(createVerifyJwt(key, options), c.tokens, c.name);
    });
  }
  test('a Buffer holding a public key is no secret either', () => {
    const pem = readFileSync(`${vectorsDir}/keys/rsa1.pem`);
    assert.throws(
      () => createVerifyJwt(pem),
      (e) => e instanceof MCPAuthConfigError && e.code === 'invalid_key'
    );
  });

  let keys;
  before(async () => {
    keys = await documents(
      Object.fromEntries(v.published.map((c, i) => [`/published/${i}`, c.jwks]))
    );
  });
  after(() => keys.close());
  for (const [i, c] of v.published.entries()) {
    test(`published: ${c.name}`, async () => {
      const warned = [];
      const warn = console.warn;
      console.warn = (m) => warned.push(String(m));
      try {
        const verify = createVerifyJwt(`${keys.url}/published/${i}`, { algorithms: c.algorithms });
        await expectTokens(verify, c.tokens, c.name);
      } finally {
        console.warn = warn;
      }
      if (c.notice) {
        assert.equal(warned.filter((w) => w.includes(c.notice)).length, 1, JSON.stringify(warned));
      }
    });
  }
});

describe('options.json', () => {
  const v = load('options.json');
  const issuer = 'https://issuer.example.com';
  const resource = 'https://mcp.example.com/mcp';
  const mcpAuth = new MCPAuth({
    protectedResources: {
      metadata: { resource, authorizationServers: [{ issuer, type: 'oidc' }] },
    },
  });
  for (const c of v.durations) {
    test(`${c.seconds} seconds`, () => {
      const attempts = [
        () =>
          mcpAuth.bearerAuth('jwt', {
            resource,
            remoteJwkSet: { cooldownDuration: c.seconds * 1000 },
          }),
        () =>
          mcpAuth.bearerAuth('jwt', { resource, remoteJwkSet: { cacheMaxAge: c.seconds * 1000 } }),
        () =>
          mcpAuth.bearerAuth('introspection', {
            resource,
            introspection: {
              clientId: 'rs',
              clientSecret: 's',
              endpoint: `${issuer}/i`,
              cacheMaxAge: c.seconds * 1000,
            },
          }),
        () => createVerifyJwt(`${issuer}/jwks`, {}, { cooldownDuration: c.seconds * 1000 }),
      ];
      for (const attempt of attempts) {
        if (c.ok) {
          attempt();
        } else {
          assert.throws(attempt, (e) => e instanceof MCPAuthConfigError && e.code === v.code);
        }
      }
    });
  }
});

// --- upstream's own tests lean on these ------------------------------------------------------------

describe('upstream behaviour', () => {
  test('createResourceMetadataEndpoint throws a TypeError for a non-URL', () => {
    assert.throws(() => createResourceMetadataEndpoint('not a url'), TypeError);
  });

  test('protectedResourceMetadataRouter throws a TypeError for a non-URL resource', () => {
    const mcpAuth = new MCPAuth({ protectedResources: { metadata: { resource: 'not a url' } } });
    assert.throws(() => mcpAuth.protectedResourceMetadataRouter(), TypeError);
  });

  test('the metadata fetch error names the status text as upstream does', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    const base = await listen(server);
    try {
      const url = `${base}/.well-known/oauth-authorization-server`;
      await assert.rejects(
        fetchServerConfigByWellKnownUrl(url, { type: 'oauth' }),
        (e) =>
          e instanceof MCPAuthConfigError &&
          e.message === `Failed to fetch server config from ${url}: Internal Server Error`
      );
    } finally {
      await close(server);
    }
  });

  test('a token-verification cause is shown as { cause } with showErrorDetails', async () => {
    const keys = await documents({ '/jwks': { keys: [] } });
    const metadata = {
      issuer: 'https://issuer.example.com',
      authorizationEndpoint: 'https://issuer.example.com/a',
      tokenEndpoint: 'https://issuer.example.com/t',
      jwksUri: `${keys.url}/jwks`,
      responseTypesSupported: ['code'],
      codeChallengeMethodsSupported: ['S256'],
    };
    const mcpAuth = new MCPAuth({ server: { metadata, type: 'oauth' }, logger: recorder().logger });
    const app = await serve(
      express().get('/', mcpAuth.bearerAuth('jwt', { showErrorDetails: true }), (_q, r) => r.end())
    );
    try {
      const { status, body } = await get(`${app.url}/`, 'Bearer not.a.jwt');
      assert.equal(status, 401);
      assert.equal(typeof body.cause, 'object');
      assert.equal(typeof body.cause.cause, 'string');
    } finally {
      await app.close();
      await keys.close();
    }
  });

  test('a second MCPAuth whose kid-less token fails with cached keys refetches once', async () => {
    // Upstream's suites build a new MCPAuth (and new keys) per test against one JWKS URL.
    const keys = await documents({});
    const issuer = 'https://issuer.example.com';
    const resource = 'https://api.example.com/resource';
    const metadata = {
      issuer,
      authorizationEndpoint: `${issuer}/a`,
      tokenEndpoint: `${issuer}/t`,
      jwksUri: `${keys.url}/jwks`,
      responseTypesSupported: ['code'],
      codeChallengeMethodsSupported: ['S256'],
    };
    const round = async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      keys.docs['/jwks'] = { keys: [await exportJWK(publicKey)] };
      const token = await new SignJWT({ iss: issuer, sub: 'u', aud: resource })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey);
      const mcpAuth = new MCPAuth({
        protectedResources: {
          metadata: { resource, authorizationServers: [{ metadata, type: 'oauth' }] },
        },
      });
      const app = await serve(
        express().get('/', mcpAuth.bearerAuth('jwt', { resource }), (_q, r) => r.json({ ok: true }))
      );
      try {
        return (await get(`${app.url}/`, `Bearer ${token}`)).status;
      } finally {
        await app.close();
      }
    };
    try {
      assert.equal(await round(), 200);
      assert.equal(await round(), 200);
      assert.equal(keys.hits['/jwks'], 2);
    } finally {
      await keys.close();
    }
  });

  test('clearCaches makes the next verification fetch again', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const keys = await documents({
      '/jwks': { keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] },
    });
    try {
      const token = await new SignJWT({ iss: 'https://i.example.com', sub: 'user-1' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k' })
        .setExpirationTime('1h')
        .sign(privateKey);
      const verify = createVerifyJwt(`${keys.url}/jwks`);
      await verify(token);
      await verify(token);
      assert.equal(keys.hits['/jwks'], 1);
      clearCaches();
      await verify(token);
      assert.equal(keys.hits['/jwks'], 2);
    } finally {
      await keys.close();
    }
  });
});
