// Fault injection against real local servers: the JWKS and metadata servers time out, refuse
// connections, answer 5xx, redirect in a loop, truncate, send 50 MB, invalid JSON or HTML, and
// then recover. Requests finish within the configured timeout plus a margin with a clear answer,
// known keys keep working while the key server fails (stale-if-error), recovery needs no
// restart, and no flood of unknown `kid`s makes the key server be asked more than the cooldown
// allows (requests are counted at the server).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import express from 'express';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { MCPAuth, MCPAuthConfigError, createVerifyJwt, fetchServerConfig } from 'mcp-auth';

import { close, listen } from './support/servers.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const TIMEOUT = 300; // ms, the JWKS timeout given to the middleware
const COOLDOWN = 500; // ms
const MARGIN = 2500; // ms of slack on a loaded 2-core machine; far below the 10 s defaults
const FAULTS = ['slow', 'refused', '503', 'loop', 'truncated', 'huge', 'invalid-json', 'html'];
const MB = 1024 * 1024;

/**
 * One server for metadata and key sets whose behaviour is switched per path. `hits` counts
 * requests per path; 'refused' closes the listener (same port) until another mode is set.
 */
const startFaulty = async () => {
  const modes = new Map(); // path -> { mode, body }
  const hits = new Map();
  const sockets = new Set();
  let bytesSent = 0;
  const handler = async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const { mode = 'ok', body = {} } = modes.get(path.replace(/\/hop\/\d+$/, '')) ?? {};
    switch (mode) {
      case 'ok':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(typeof body === 'function' ? body() : body));
      case 'slow':
        // Longer than any timeout used here; the client gives up first.
        await sleep(TIMEOUT * 5);
        if (!res.destroyed) res.end('{}');
        return;
      case '503':
        res.writeHead(503, { 'content-type': 'application/json' });
        return res.end('{"error":"unavailable"}');
      case 'loop': {
        const hop = Number(/\/hop\/(\d+)$/.exec(path)?.[1] ?? 0);
        const base = path.replace(/\/hop\/\d+$/, '');
        res.writeHead(302, { location: `${base}/hop/${hop + 1}` });
        return res.end();
      }
      case 'truncated':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4000' });
        res.write('{"keys":[{"kty":"RSA","kid":"');
        return setTimeout(() => res.destroy(), 20);
      case 'huge': {
        // 50 MB of a JSON string, streamed (no Content-Length) until the client hangs up.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"keys":[],"padding":"');
        const chunk = Buffer.alloc(64 * 1024, 'a');
        let sent = 0;
        const pump = () => {
          while (sent < 50 * MB && !res.destroyed) {
            sent += chunk.length;
            bytesSent += chunk.length;
            if (!res.write(chunk)) return res.once('drain', pump);
          }
          if (!res.destroyed) res.end('"}');
        };
        res.on('close', () => (sent = Infinity));
        return pump();
      }
      case 'invalid-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"keys": [ {"kty": "RSA",');
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<!doctype html><html><body>Please sign in to the Wi-Fi</body></html>');
      default:
        throw new Error(mode);
    }
  };
  let server = http.createServer(handler);
  const track = (s) =>
    s.on('connection', (c) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
  track(server);
  const url = await listen(server);
  const port = Number(new URL(url).port);
  let refused = false;
  const set = async (path, mode, body) => {
    const previous = modes.get(path);
    modes.set(path, { mode, body: body ?? previous?.body });
    if (mode === 'refused' && !refused) {
      refused = true;
      for (const s of sockets) s.destroy();
      await close(server);
    } else if (mode !== 'refused' && refused) {
      refused = false;
      server = http.createServer(handler);
      track(server);
      await new Promise((r) => server.listen(port, '127.0.0.1', r));
    }
  };
  return {
    url,
    hits: (path) => hits.get(path) ?? 0,
    bytesSent: () => bytesSent,
    set,
    close: () => (refused ? undefined : close(server)),
  };
};

const keyPair = async (kid) => {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
};

describe('fault injection', () => {
  let faulty;
  let issuer; // the metadata's issuer: the faulty server itself
  let key1;
  let key2;
  let stranger; // signs tokens whose kid nobody publishes
  let app;
  let appUrl;
  const routes = new Map();

  const mint = (key, { iss = issuer, ...claims } = {}) =>
    new SignJWT({ scope: 'read', client_id: 'c', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setIssuer(iss)
      .setSubject('user-1')
      .setAudience(RESOURCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key.privateKey);

  const metadata = (jwksUri) => ({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: jwksUri,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code'],
    code_challenge_methods_supported: ['S256'],
  });

  /** A route protected by its own MCPAuth; `server` is a resolved or a discovery config. */
  const protect = (name, server, remoteJwkSet) => {
    const mcpAuth = new MCPAuth({
      protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [server] } },
      logger: { warn: () => {}, debug: () => {}, info: () => {}, error: () => {} },
    });
    routes.set(
      name,
      mcpAuth.bearerAuth('jwt', {
        resource: RESOURCE,
        audience: RESOURCE,
        remoteJwkSet: { timeoutDuration: TIMEOUT, cooldownDuration: COOLDOWN, ...remoteJwkSet },
      })
    );
  };

  const resolved = (jwksPath, server = faulty) => ({
    type: 'oidc',
    metadata: {
      issuer,
      authorizationEndpoint: `${issuer}/authorize`,
      tokenEndpoint: `${issuer}/token`,
      jwksUri: `${server.url}${jwksPath}`,
      responseTypesSupported: ['code'],
      grantTypesSupported: ['authorization_code'],
      codeChallengeMethodsSupported: ['S256'],
    },
  });

  /** GET /<route> with a bearer token: `{ status, body, ms }`. */
  const get = async (route, token) => {
    const started = performance.now();
    const res = await fetch(`${appUrl}/${route}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = await res.json();
    return { status: res.status, body, ms: performance.now() - started };
  };

  before(async () => {
    faulty = await startFaulty();
    issuer = faulty.url;
    key1 = await keyPair('key-1');
    key2 = await keyPair('key-2');
    stranger = await keyPair('stranger');
    app = express();
    app.get(
      '/:route',
      (req, res, next) => routes.get(req.params.route)(req, res, next),
      (req, res) => res.json({ subject: req.auth.subject })
    );
    const server = http.createServer(app);
    appUrl = await listen(server);
    app.server = server;
  });
  after(async () => {
    await close(app.server);
    await faulty.set('/none', 'ok');
    await faulty.close();
  });

  test('a failing key server on first use: a quick 401, one fetch per cooldown, then recovery', async () => {
    const keys = { keys: [key1.jwk] };
    // A refused connection needs a listener of its own to close.
    const servers = { refused: await startFaulty() };
    const at = (fault) => servers[fault] ?? faulty;
    for (const fault of FAULTS) {
      const path = `/jwks-first-${fault}`;
      await at(fault).set(path, fault, keys);
      protect(`first-${fault}`, resolved(path, at(fault)));
    }
    const token = await mint(key1);
    const started = performance.now();
    // All faults at once, with a burst of requests each (valid and unknown-kid tokens).
    const burst = async (fault) => {
      const tokens = [token, token, await mint({ ...stranger, kid: randomUUID() }), token];
      return Promise.all(tokens.map((t) => get(`first-${fault}`, t)));
    };
    const answers = await Promise.all(FAULTS.map(burst));
    const elapsed = performance.now() - started;
    for (const [i, fault] of FAULTS.entries()) {
      for (const r of answers[i]) {
        assert.equal(r.status, 401, `${fault}: ${JSON.stringify(r.body)}`);
        assert.deepEqual(r.body, {
          error: 'token_verification_failed',
          error_description: 'Token verification failed due to an error.',
        });
        assert.ok(r.ms < TIMEOUT + MARGIN, `${fault}: ${r.ms} ms`);
      }
      const path = `/jwks-first-${fault}`;
      const allowed = Math.floor(elapsed / COOLDOWN) + 1;
      if (fault !== 'refused') {
        assert.ok(
          faulty.hits(path) >= 1 && faulty.hits(path) <= allowed,
          `${fault}: ${faulty.hits(path)} fetches`
        );
      }
    }
    // A redirect loop is followed at most 5 hops; 50 MB are not downloaded.
    assert.ok(
      faulty.hits('/jwks-first-loop') + faulty.hits('/jwks-first-loop/hop/1') <=
        2 * (Math.floor(elapsed / COOLDOWN) + 1)
    );
    for (let hop = 6; hop < 12; hop += 1)
      assert.equal(faulty.hits(`/jwks-first-loop/hop/${hop}`), 0);
    assert.ok(faulty.bytesSent() < 8 * MB, `${faulty.bytesSent()} bytes sent`);

    // Recovery: the servers heal; after the cooldown the same processes verify again.
    for (const fault of FAULTS) await at(fault).set(`/jwks-first-${fault}`, 'ok', keys);
    await sleep(COOLDOWN + 100);
    for (const fault of FAULTS) {
      const r = await get(`first-${fault}`, token);
      assert.equal(r.status, 200, `${fault}: ${JSON.stringify(r.body)}`);
    }
    await servers.refused.close();
  });

  test('stale-if-error: known keys keep working through every fault; a new key after recovery', async () => {
    const path = '/jwks-stale';
    let published = [key1.jwk];
    await faulty.set(path, 'ok', () => ({ keys: published }));
    protect('stale', resolved(path), { cacheMaxAge: COOLDOWN });
    const token1 = await mint(key1);
    assert.equal((await get('stale', token1)).status, 200);
    assert.equal(faulty.hits(path), 1);

    for (const fault of FAULTS) {
      await faulty.set(path, fault);
      await sleep(COOLDOWN + 100); // the set is now stale and a refresh is allowed
      const before = faulty.hits(path);
      const r = await get('stale', token1);
      assert.equal(r.status, 200, `${fault}: ${JSON.stringify(r.body)}`);
      assert.ok(r.ms < TIMEOUT + MARGIN, `${fault}: ${r.ms} ms`);
      if (fault !== 'refused') assert.equal(faulty.hits(path), before + 1, fault);
    }

    // A flood of unknown kids while the server is down: one refresh per cooldown at most.
    await faulty.set(path, '503');
    await sleep(COOLDOWN + 100);
    const before = faulty.hits(path);
    const started = performance.now();
    const bad = await Promise.all(
      Array.from({ length: 10 }, () => mint({ ...stranger, kid: randomUUID() }))
    );
    const flood = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        get('stale', i % 10 === 0 ? token1 : bad[i % bad.length])
      )
    );
    const elapsed = performance.now() - started;
    for (const [i, r] of flood.entries()) {
      if (i % 10 === 0) assert.equal(r.status, 200);
      else
        assert.ok(
          r.status === 401 && ['invalid_token', 'token_verification_failed'].includes(r.body.error),
          JSON.stringify(r.body)
        );
    }
    const fetched = faulty.hits(path) - before;
    assert.ok(
      fetched >= 1 && fetched <= Math.floor(elapsed / COOLDOWN) + 1,
      `${fetched} fetches in ${elapsed} ms`
    );

    // Recovery with a rotated key: the new kid is fetched once the cooldown allows.
    published = [key1.jwk, key2.jwk];
    await faulty.set(path, 'ok');
    await sleep(COOLDOWN + 100);
    const token2 = await mint(key2);
    assert.equal((await get('stale', token2)).status, 200);
    assert.equal((await get('stale', token1)).status, 200);
  });

  test('a failing metadata server: a quick 500, then recovery without a restart', async () => {
    // Discovery configs: the metadata is fetched on first use, with its 10 s default timeout.
    const faults = FAULTS.filter((f) => f !== 'slow');
    const servers = { refused: await startFaulty() };
    const at = (fault) => servers[fault] ?? faulty;
    const issuerOf = (fault) => `${at(fault).url}/md-${fault}`;
    const mdPath = (fault) => `/md-${fault}/.well-known/openid-configuration`;
    for (const fault of faults) {
      await at(fault).set(mdPath(fault), fault);
      protect(`md-${fault}`, { issuer: issuerOf(fault), type: 'oidc' });
    }
    const answers = await Promise.all(
      faults.map(async (fault) => get(`md-${fault}`, await mint(key1, { iss: issuerOf(fault) })))
    );
    for (const [i, fault] of faults.entries()) {
      const r = answers[i];
      assert.equal(r.status, 500, `${fault}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body, {
        error: 'server_error',
        error_description: 'An error occurred with the authorization server.',
      });
      assert.ok(r.ms < 10_000 + MARGIN, `${fault}: ${r.ms} ms`);
    }
    // Healed: the next request fetches the metadata and the keys and passes.
    await faulty.set('/jwks-md', 'ok', { keys: [key1.jwk] });
    for (const fault of faults) {
      await at(fault).set(mdPath(fault), 'ok', {
        ...metadata(`${faulty.url}/jwks-md`),
        issuer: issuerOf(fault),
      });
      const r = await get(`md-${fault}`, await mint(key1, { iss: issuerOf(fault) }));
      assert.equal(r.status, 200, `${fault}: ${JSON.stringify(r.body)}`);
    }
    await servers.refused.close();
  });

  test('fetchServerConfig fails within its timeout for every fault, then succeeds', async () => {
    const own = await startFaulty();
    for (const fault of FAULTS) {
      const server = fault === 'refused' ? own : faulty;
      const iss = `${server.url}/fsc-${fault}`;
      const mdPath = `/fsc-${fault}/.well-known/openid-configuration`;
      await server.set(mdPath, fault);
      const started = performance.now();
      await assert.rejects(
        fetchServerConfig(iss, { type: 'oidc', timeout: TIMEOUT }),
        (e) =>
          e instanceof MCPAuthConfigError &&
          e.code === 'fetch_server_config_error' &&
          e.message.includes(`Failed to fetch server config from ${server.url}`),
        fault
      );
      assert.ok(performance.now() - started < TIMEOUT + MARGIN, fault);
      await server.set(mdPath, 'ok', { ...metadata(`${iss}/jwks`), issuer: iss });
      const config = await fetchServerConfig(iss, { type: 'oidc', timeout: TIMEOUT });
      assert.equal(config.metadata.issuer, iss);
    }
    await own.close();
  });

  test('JSON under another content type is read; the size cap holds with a Content-Length', async () => {
    // Servers often send a JWKS as text/plain; only the body has to be JSON.
    const plain = http.createServer((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(50 * MB),
        });
        res.write('{"keys":[');
        return setTimeout(() => res.destroy(), 1000);
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(JSON.stringify({ keys: [key1.jwk] }));
    });
    const plainUrl = await listen(plain);
    try {
      const verify = createVerifyJwt(`${plainUrl}/jwks`, undefined, { timeoutDuration: TIMEOUT });
      assert.equal((await verify(await mint(key1))).subject, 'user-1');
      const big = createVerifyJwt(`${plainUrl}/big`, undefined, { timeoutDuration: 5000 });
      const started = performance.now();
      await assert.rejects(async () => big(await mint(key1)));
      // Refused on the declared length, not after waiting for the body or the timeout.
      assert.ok(performance.now() - started < 1000 + MARGIN);
    } finally {
      await close(plain);
    }
  });
});
