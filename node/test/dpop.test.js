// DPoP (RFC 9449) on bearerAuth's `dpop` option: proofs written with jose against real servers
// on 127.0.0.1 (Express, Hono, Fastify, the MCP SDK's Streamable HTTP server), a real
// redis-server as the shared replay store, and the configuration mistakes refused.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { MCPAuth, MCPAuthConfigError } from 'mcp-auth';
import {
  bearerAuth as fastifyBearerAuth,
  protectedResourceMetadata as fastifyMetadata,
} from 'mcp-auth/fastify';
import { gateFor } from 'mcp-auth/handlers/gate.js';
import {
  bearerAuth as honoBearerAuth,
  protectedResourceMetadata as honoMetadata,
} from 'mcp-auth/hono';

import { freePort, serve, serveFetch, startIssuer } from './support/servers.js';

const nonceSecret = 'a test nonce secret of at least 32 bytes';

/** A client's DPoP key: the ES256 pair and its RFC 7638 thumbprint. */
const dpopKey = async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { jwk, privateKey, jkt: await calculateJwkThumbprint(jwk) };
};

/** A fresh proof for one request (RFC 9449 §4.2). */
const proof = (key, { htm, htu, token, nonce, jti = randomUUID() }) =>
  new SignJWT({
    jti,
    htm,
    htu,
    iat: Math.floor(Date.now() / 1000),
    ...(token && { ath: createHash('sha256').update(token).digest('base64url') }),
    ...(nonce && { nonce }),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk })
    .sign(key.privateKey);

/**
 * A request by node:http; the answer with every header line by lower-cased name (fetch would
 * join repeated ones).
 */
const request = (url, { method = 'GET', headers = {}, body } = {}) =>
  new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        const lines = {};
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          (lines[res.rawHeaders[i].toLowerCase()] ??= []).push(res.rawHeaders[i + 1]);
        }
        resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined, lines });
      });
    });
    req.on('error', reject);
    req.end(body);
  });

const dpopHeaders = async (key, token, { method = 'GET', url, nonce }) => ({
  authorization: `DPoP ${token}`,
  dpop: await proof(key, { htm: method, htu: url, token, nonce }),
});

const mcpAuthFor = (iss, resource, logger) =>
  new MCPAuth({
    protectedResources: {
      metadata: { resource, authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }] },
    },
    logger,
  });

describe('DPoP on Express', () => {
  let iss;
  let app;
  let resource;
  let key;

  before(async () => {
    iss = await startIssuer();
    key = await dpopKey();
    const router = express();
    app = await serve(router);
    resource = `${app.url}/mcp`;
    const allowed = mcpAuthFor(iss, resource);
    const withNonces = mcpAuthFor(iss, resource);
    const required = mcpAuthFor(iss, resource);
    const who = (req, res) => res.json({ ...req.auth, hasJkt: 'jkt' in req.auth });
    router.get(
      '/mcp',
      allowed.bearerAuth('jwt', { resource, audience: resource, dpop: { mode: 'allowed' } }),
      who
    );
    router.get(
      '/nonce',
      withNonces.bearerAuth('jwt', { resource, audience: resource, dpop: { nonceSecret } }),
      who
    );
    router.use(
      '/mounted',
      express
        .Router()
        .get(
          '/required',
          required.bearerAuth('jwt', { resource, audience: resource, dpop: { mode: 'required' } }),
          who
        )
    );
  });
  after(async () => {
    await app.close();
    await iss.close();
  });

  test('a DPoP-bound token with its proof: req.auth.jkt is the key thumbprint', async () => {
    const token = await iss.mint({ aud: resource, cnf: { jkt: key.jkt } });
    const res = await request(`${app.url}/mcp`, {
      headers: await dpopHeaders(key, token, { url: resource }),
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.jkt, key.jkt);
    assert.equal(res.body.token, token);
    assert.equal(res.lines['dpop-nonce'], undefined);
  });

  test('a bearer token on an allowed route: req.auth.jkt is undefined', async () => {
    const token = await iss.mint({ aud: resource });
    const res = await request(`${app.url}/mcp`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.hasJkt, false);
  });

  test('a 401 offers both schemes, each challenge on its own WWW-Authenticate line', async () => {
    const res = await request(`${app.url}/mcp`);
    assert.equal(res.status, 401);
    const metadata = `resource_metadata="${app.url}/.well-known/oauth-protected-resource/mcp"`;
    assert.deepEqual(res.lines['www-authenticate'], [
      `Bearer ${metadata}`,
      `DPoP algs="ES256 ES384 ES512 EdDSA PS256 PS384 PS512 RS256 RS384 RS512", ${metadata}`,
    ]);
  });

  test('a bound token sent as a bearer token is refused', async () => {
    const token = await iss.mint({ aud: resource, cnf: { jkt: key.jkt } });
    const res = await request(`${app.url}/mcp`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_token');
  });

  test('a proof used twice is refused the second time', async () => {
    const token = await iss.mint({ aud: resource, cnf: { jkt: key.jkt } });
    const headers = await dpopHeaders(key, token, { url: resource });
    assert.equal((await request(`${app.url}/mcp`, { headers })).status, 200);
    const again = await request(`${app.url}/mcp`, { headers });
    assert.equal(again.status, 401);
    assert.equal(again.body.error, 'invalid_dpop_proof');
  });

  test('two DPoP header lines are refused', async () => {
    const token = await iss.mint({ aud: resource, cnf: { jkt: key.jkt } });
    const one = await proof(key, { htm: 'GET', htu: resource, token });
    const two = await proof(key, { htm: 'GET', htu: resource, token });
    const res = await request(`${app.url}/mcp`, {
      headers: { authorization: `DPoP ${token}`, dpop: [one, two] },
    });
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_dpop_proof');
  });

  test('nonces: use_dpop_nonce with a DPoP-Nonce, then a DPoP-Nonce on the success', async () => {
    const token = await iss.mint({ aud: resource, cnf: { jkt: key.jkt } });
    const url = `${app.url}/nonce`;
    const first = await request(url, { headers: await dpopHeaders(key, token, { url }) });
    assert.equal(first.status, 401);
    assert.equal(first.body.error, 'use_dpop_nonce');
    assert.equal(first.lines['dpop-nonce'].length, 1);
    const nonce = first.lines['dpop-nonce'][0];
    const ok = await request(url, { headers: await dpopHeaders(key, token, { url, nonce }) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.jkt, key.jkt);
    assert.equal(ok.lines['dpop-nonce'].length, 1);
    assert.match(ok.lines['dpop-nonce'][0], /^[A-Za-z0-9_-]+$/);
  });

  test('required route under a mounted router: htu names the path as sent', async () => {
    const url = `${app.url}/mounted/required`;
    const token = await iss.mint({ aud: resource, cnf: { jkt: key.jkt } });
    const ok = await request(`${url}?x=1`, { headers: await dpopHeaders(key, token, { url }) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    // The path a router sees (`/required`) is not the one the client signed.
    const wrong = await request(url, {
      headers: await dpopHeaders(key, token, { url: `${app.url}/required` }),
    });
    assert.equal(wrong.status, 401);
    const bearer = await request(url, {
      headers: { authorization: `Bearer ${await iss.mint({ aud: resource })}` },
    });
    assert.equal(bearer.status, 401);
    assert.deepEqual(
      bearer.lines['www-authenticate'].map((c) => c.split(' ')[0]),
      ['DPoP']
    );
  });
});

describe('DPoP without waiting', () => {
  let iss;
  let key;
  before(async () => {
    iss = await startIssuer();
    key = await dpopKey();
  });
  after(() => iss.close());

  test('with cached keys and the in-process store, a DPoP request is decided at once', async () => {
    const resource = 'https://mcp.example.com/mcp';
    const mcpAuth = mcpAuthFor(iss, resource);
    const gate = mcpAuth[gateFor]('bearerAuth', 'jwt', {
      resource,
      audience: resource,
      dpop: { mode: 'required' },
    });
    const token = await iss.mint({ aud: resource, cnf: { jkt: key.jkt } });
    const parts = async () => ({
      proofs: [await proof(key, { htm: 'GET', htu: resource, token })],
      path: '/mcp',
    });
    // The first request fetches the keys: it waits.
    const cold = await parts();
    assert.equal(gate.now(`DPoP ${token}`, cold, 'GET'), undefined);
    const first = await gate.decide(
      { header: `DPoP ${token}`, request: { method: 'GET' }, dpop: cold },
      () => undefined
    );
    assert.equal(first.ok, true, JSON.stringify(first));
    // Then a fresh proof is decided by the synchronous call.
    const warm = gate.now(`DPoP ${token}`, await parts(), 'GET');
    assert.equal(warm?.ok, true, JSON.stringify(warm));
    assert.equal(warm.authInfo.jkt, key.jkt);
    // A replay of the first proof is refused at once too.
    const replayed = gate.now(`DPoP ${token}`, { proofs: [cold.proofs[0]], path: '/mcp' }, 'GET');
    assert.equal(replayed?.ok, false);
    assert.equal(replayed.response.status, 401);
  });

  test('a Redis replay store is asked off the synchronous path', async () => {
    const resource = 'https://mcp.example.com/mcp';
    const gate = mcpAuthFor(iss, resource)[gateFor]('bearerAuth', 'jwt', {
      resource,
      audience: resource,
      dpop: { replayStore: `redis://127.0.0.1:${await freePort()}/0` },
    });
    // Keys cached by a bearer request, which does not touch the store.
    const bearer = await gate.decide(
      { header: `Bearer ${await iss.mint({ aud: resource })}`, request: { method: 'GET' } },
      () => undefined
    );
    assert.equal(bearer.ok, true, JSON.stringify(bearer));
    const token = await iss.mint({ aud: resource, cnf: { jkt: key.jkt } });
    const parts = {
      proofs: [await proof(key, { htm: 'GET', htu: resource, token })],
      path: '/mcp',
    };
    assert.equal(gate.now(`DPoP ${token}`, parts, 'GET'), undefined);
  });
});

describe('DPoP configuration', () => {
  let iss;
  const resource = 'https://mcp.example.com/mcp';
  before(async () => {
    iss = await startIssuer();
  });
  after(() => iss.close());

  const refused = (make, pattern) =>
    assert.throws(make, (e) => {
      assert.ok(e instanceof MCPAuthConfigError, String(e));
      assert.equal(e.code, 'invalid_dpop_config');
      assert.match(e.message, pattern);
      return true;
    });

  test('an unknown dpop option is refused, naming it', () => {
    const auth = mcpAuthFor(iss, resource);
    refused(
      () => auth.bearerAuth('jwt', { resource, dpop: { mod: 'required' } }),
      /Unknown `dpop` option `mod`/
    );
    refused(
      () => auth.bearerAuth('jwt', { resource, dpop: { replay_store: 'memory' } }),
      /`replay_store`/
    );
    refused(() => auth.fetchBearerAuth('jwt', { resource, dpop: 'required' }), /must be an object/);
    refused(
      () => auth.bearerAuth('jwt', { resource, dpop: { nonce: nonceSecret, nonceSecret } }),
      /same option/
    );
  });

  test("core's checks of the values reach the user", () => {
    const auth = mcpAuthFor(iss, resource);
    refused(() => auth.bearerAuth('jwt', { resource, dpop: { mode: 'sometimes' } }), /sometimes/);
    refused(() => auth.bearerAuth('jwt', { resource, dpop: { algorithms: ['HS256'] } }), /HS256/);
    refused(
      () => auth.bearerAuth('jwt', { resource, dpop: { replayStore: 'disk' } }),
      /`replay_store`: .* is not a Redis URL/
    );
  });

  test('the routes of one resource agree on the DPoP mode and algorithms they advertise', () => {
    const auth = mcpAuthFor(iss, resource);
    auth.bearerAuth('jwt', { resource, dpop: { mode: 'required' } });
    // Windows, nonces and replay stores may differ: the metadata does not advertise them.
    auth.bearerAuth('jwt', { resource, dpop: { mode: 'required', iatWindow: 60 } });
    refused(
      () => auth.bearerAuth('jwt', { resource, dpop: { mode: 'allowed' } }),
      /other DPoP settings/
    );
    refused(
      () =>
        auth.fetchBearerAuth('jwt', {
          resource,
          dpop: { mode: 'required', algorithms: ['ES256'] },
        }),
      /the same `mode` and `algorithms`/
    );
  });

  test('dpop where no request is seen, or with a custom verifier, is refused', () => {
    const auth = mcpAuthFor(iss, resource);
    refused(() => auth.tokenVerifier({ resource, dpop: {} }), /tokenVerifier/);
    refused(
      () =>
        auth.bearerAuth(() => ({ token: 't', clientId: '', scopes: [] }), { resource, dpop: {} }),
      /custom verifier/
    );
  });
});

/** A `redis-server` of this test on a free port of 127.0.0.1; `undefined` when not installed. */
const startRedis = async () => {
  if (spawnSync('redis-server', ['--version']).error) {
    return undefined;
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mcp-auth-redis-'));
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' }
  );
  // A readiness wait (until it answers PING), not a timing assertion.
  for (let i = 0; i < 200; i++) {
    const pong = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
      s.on('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
      s.on('error', () => resolve(false));
    });
    if (pong) {
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill();
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `redis://127.0.0.1:${port}/0`, stop };
};

describe('DPoP replay store in Redis', () => {
  let iss;
  let redis;
  let app;
  let resource;
  let key;
  const skip = spawnSync('redis-server', ['--version']).error
    ? 'redis-server is not installed (Debian: apt-get install redis-server; `make redis-server`)'
    : false;

  before(async () => {
    if (skip) {
      return;
    }
    iss = await startIssuer();
    key = await dpopKey();
    redis = await startRedis();
    const router = express();
    app = await serve(router);
    resource = `${app.url}/mcp`;
    const dpop = { replayStore: redis.url, replayKeyPrefix: `test:${randomUUID()}:` };
    // Two instances of the server: two MCPAuth objects, each with its own route, one store.
    const config = (extra) => ({ resource, audience: resource, dpop: { ...dpop, ...extra } });
    const who = (req, res) => res.json(req.auth);
    router.get('/mcp', mcpAuthFor(iss, resource).bearerAuth('jwt', config()), who);
    router.get('/other', mcpAuthFor(iss, resource).bearerAuth('jwt', config()), who);
    router.get(
      '/open',
      mcpAuthFor(iss, resource).bearerAuth('jwt', config({ replayFailOpen: true })),
      who
    );
  });
  after(async () => {
    await app?.close();
    await iss?.close();
    await redis?.stop();
  });

  test('a proof recorded by one instance is a replay at the other', { skip }, async () => {
    const token = await iss.mint({ aud: resource, cnf: { jkt: key.jkt } });
    const jti = randomUUID();
    const mcp = {
      authorization: `DPoP ${token}`,
      dpop: await proof(key, { htm: 'GET', htu: `${app.url}/mcp`, token, jti }),
    };
    const first = await request(`${app.url}/mcp`, { headers: mcp });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.jkt, key.jkt);
    // The same jti for another URL on the other instance: seen already, in Redis.
    const other = {
      authorization: `DPoP ${token}`,
      dpop: await proof(key, { htm: 'GET', htu: `${app.url}/other`, token, jti }),
    };
    const replay = await request(`${app.url}/other`, { headers: other });
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error, 'invalid_dpop_proof');
    const fresh = await request(`${app.url}/other`, {
      headers: await dpopHeaders(key, token, { url: `${app.url}/other` }),
    });
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
  });

  test(
    'Redis down: 503 temporarily_unavailable, or through with replayFailOpen',
    { skip },
    async () => {
      await redis.stop();
      const token = await iss.mint({ aud: resource, cnf: { jkt: key.jkt } });
      const down = await request(`${app.url}/mcp`, {
        headers: await dpopHeaders(key, token, { url: `${app.url}/mcp` }),
      });
      assert.equal(down.status, 503, JSON.stringify(down.body));
      assert.equal(down.body.error, 'temporarily_unavailable');
      const open = await request(`${app.url}/open`, {
        headers: await dpopHeaders(key, token, { url: `${app.url}/open` }),
      });
      assert.equal(open.status, 200, JSON.stringify(open.body));
      // A bearer request does not touch the store.
      const bearer = await request(`${app.url}/mcp`, {
        headers: { authorization: `Bearer ${await iss.mint({ aud: resource })}` },
      });
      assert.equal(bearer.status, 200);
    }
  );
});

describe('DPoP on Hono and Fastify', () => {
  let iss;
  let key;
  before(async () => {
    iss = await startIssuer();
    key = await dpopKey();
  });
  after(() => iss.close());

  test('Hono: a DPoP request reaches the handler with jkt, gets its DPoP-Nonce; metadata', async () => {
    const hono = new Hono();
    const app = await serveFetch(hono.fetch);
    try {
      const resource = `${app.url}/mcp`;
      const mcpAuth = mcpAuthFor(iss, resource);
      hono.use(honoMetadata(mcpAuth));
      hono.all(
        '/mcp',
        honoBearerAuth(mcpAuth, 'jwt', { resource, audience: resource, dpop: { nonceSecret } }),
        (c) => c.json(c.get('auth'))
      );
      const token = await iss.mint({ aud: resource, cnf: { jkt: key.jkt } });
      const challenge = await request(resource, {
        method: 'POST',
        headers: await dpopHeaders(key, token, { method: 'POST', url: resource }),
      });
      assert.equal(challenge.status, 401);
      const nonce = challenge.lines['dpop-nonce'][0];
      const ok = await request(resource, {
        method: 'POST',
        headers: await dpopHeaders(key, token, { method: 'POST', url: resource, nonce }),
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.jkt, key.jkt);
      assert.equal(ok.lines['dpop-nonce'].length, 1);
      const none = await request(resource);
      assert.equal(none.status, 401);
      // Both schemes; a fetch `Headers` may join the lines with ", ".
      assert.match(none.lines['www-authenticate'].join(', '), /^Bearer .*, DPoP algs="/);
      const metadata = await request(`${app.url}/.well-known/oauth-protected-resource/mcp`);
      assert.equal(metadata.body.dpop_bound_access_tokens_required, false);
      assert.equal(metadata.body.dpop_signing_alg_values_supported.length, 10);
    } finally {
      await app.close();
    }
  });

  test('Fastify: a DPoP request reaches the handler with jkt, gets its DPoP-Nonce; metadata', async () => {
    const port = await freePort();
    const resource = `http://127.0.0.1:${port}/mcp`;
    const mcpAuth = mcpAuthFor(iss, resource);
    const app = Fastify();
    await app.register(fastifyMetadata(mcpAuth));
    app.post(
      '/mcp',
      {
        preParsing: fastifyBearerAuth(mcpAuth, 'jwt', {
          resource,
          audience: resource,
          dpop: { mode: 'required', nonceSecret },
        }),
      },
      async (req) => ({ jkt: req.auth.jkt, body: req.body })
    );
    await app.listen({ port, host: '127.0.0.1' });
    try {
      const token = await iss.mint({ aud: resource, cnf: { jkt: key.jkt } });
      const body = JSON.stringify({ hello: 'world' });
      const json = { 'content-type': 'application/json' };
      const challenge = await request(resource, {
        method: 'POST',
        headers: { ...json, ...(await dpopHeaders(key, token, { method: 'POST', url: resource })) },
        body,
      });
      assert.equal(challenge.status, 401);
      assert.equal(challenge.body.error, 'use_dpop_nonce');
      const nonce = challenge.lines['dpop-nonce'][0];
      const ok = await request(resource, {
        method: 'POST',
        headers: {
          ...json,
          ...(await dpopHeaders(key, token, { method: 'POST', url: resource, nonce })),
        },
        body,
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(ok.body, { jkt: key.jkt, body: { hello: 'world' } });
      assert.equal(ok.lines['dpop-nonce'].length, 1);
      const bearer = await request(resource, {
        method: 'POST',
        headers: { ...json, authorization: `Bearer ${await iss.mint({ aud: resource })}` },
        body,
      });
      assert.equal(bearer.status, 401);
      assert.equal(bearer.lines['www-authenticate'].length, 1);
      assert.match(bearer.lines['www-authenticate'][0], /^DPoP /);
      // The plugin was registered before the route was made.
      const metadata = await request(
        `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`
      );
      assert.equal(metadata.body.dpop_bound_access_tokens_required, true);
      assert.ok(metadata.body.dpop_signing_alg_values_supported.includes('EdDSA'));
    } finally {
      await app.close();
    }
  });
});

describe('DPoP with the MCP SDK over Streamable HTTP', () => {
  let iss;
  let app;
  let resource;
  let key;

  before(async () => {
    iss = await startIssuer();
    key = await dpopKey();
    const appServer = express();
    app = await serve(appServer);
    resource = `${app.url}/mcp`;
    const mcpAuth = mcpAuthFor(iss, resource);
    appServer.use(mcpAuth.protectedResourceMetadataRouter());
    appServer.post(
      '/mcp',
      mcpAuth.bearerAuth('jwt', {
        resource,
        audience: resource,
        toolScopes: { whoami: ['read'] },
        dpop: { mode: 'required' },
      }),
      express.json(),
      async (req, res) => {
        const server = new McpServer({ name: 'dpop', version: '1.0.0' });
        server.registerTool('whoami', { inputSchema: {} }, (_args, { authInfo }) => ({
          content: [
            { type: 'text', text: JSON.stringify({ jkt: authInfo.jkt, sub: authInfo.subject }) },
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
  });
  after(async () => {
    await app.close();
    await iss.close();
  });

  test('a tool call carrying a DPoP proof: the tool sees the key thumbprint', async () => {
    const token = await iss.mint({ aud: resource, sub: 'dpop-user', cnf: { jkt: key.jkt } });
    let proofs = 0;
    // A fresh proof for every HTTP request the client makes (each jti is used once).
    const dpopFetch = async (url, init = {}) => {
      const method = (init.method ?? 'GET').toUpperCase();
      const u = new URL(url);
      const headers = new Headers(init.headers);
      headers.set('authorization', `DPoP ${token}`);
      headers.set(
        'dpop',
        await proof(key, { htm: method, htu: `${u.origin}${u.pathname}`, token })
      );
      proofs += 1;
      return fetch(url, { ...init, headers });
    };
    const client = new Client({ name: 'dpop-client', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(resource), { fetch: dpopFetch })
    );
    try {
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      assert.deepEqual(JSON.parse(result.content[0].text), { jkt: key.jkt, sub: 'dpop-user' });
      assert.ok(proofs >= 2);
    } finally {
      await client.close();
    }
    const metadata = await (
      await fetch(`${app.url}/.well-known/oauth-protected-resource/mcp`)
    ).json();
    assert.equal(metadata.dpop_bound_access_tokens_required, true);
    assert.ok(metadata.dpop_signing_alg_values_supported.includes('ES256'));
  });
});
