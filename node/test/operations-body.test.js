// Where the body comes from on a route with per-operation rules, and the requests built to make
// the rules and the MCP handler read a body differently: bearerAuth before express.json(),
// after it (with and without the raw bytes kept), after express.raw(), with a custom verifier,
// and followed by express.json().
import assert from 'node:assert/strict';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';

import express from 'express';
import { MCPAuth, MCPAuthConfigError } from 'mcp-auth';

import { send } from './support/requests.js';
import { serve, startIssuer } from './support/servers.js';

const rules = { requiredScopes: ['read'], toolScopes: { 'add-todo': ['create:todos'] } };
const call = (name, id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: {} },
});
const bytes = (value) =>
  Buffer.isBuffer(value)
    ? value
    : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('per-operation rules: the body, wherever it was read', () => {
  let iss;
  let app;
  let reader;
  let writer;
  /** What each handler received, by route. */
  const reached = [];
  const logs = [];

  before(async () => {
    iss = await startIssuer();
    const e = express();
    app = await serve(e);
    const resource = `${app.url}/mcp`;
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: { resource, authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }] },
      },
    });
    const protect = (extra = {}) =>
      mcpAuth.bearerAuth('jwt', { resource, audience: resource, ...rules, ...extra });
    const custom = mcpAuth.bearerAuth(
      async (token) => {
        const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
        return {
          token,
          issuer: claims.iss,
          clientId: '',
          scopes: claims.scope.split(' '),
          audience: claims.aud,
          subject: claims.sub,
        };
      },
      { resource, audience: resource, ...rules }
    );
    const record = (route) => (req, res) => {
      reached.push({ route, body: req.body });
      res.json({ route, body: req.body });
    };
    e.post('/first', protect(), record('first'));
    e.post('/custom', custom, record('custom'));
    e.post('/after-json', express.json(), protect(), record('after-json'));
    e.post(
      '/after-json-verify',
      express.json({
        verify: (req, _res, buf) => {
          req.rawBody = buf;
        },
      }),
      protect(),
      record('after-json-verify')
    );
    e.post('/after-raw', express.raw({ type: () => true }), protect(), (req, res) => {
      reached.push({ route: 'after-raw' });
      res.json({ route: 'after-raw', body: JSON.parse(req.body.toString()) });
    });
    e.post(
      '/after-reviver',
      express.json({ reviver: (k, x) => (k === 'when' ? new Date(x) : x) }),
      protect(),
      record('after-reviver')
    );
    e.post(
      '/after-drain',
      async (req, _res, next) => {
        for await (const _ of req);
        next();
      },
      protect(),
      record('after-drain')
    );
    e.post('/then-json', protect(), express.json(), record('then-json'));
    e.post('/stream', protect(), async (req, res) => {
      const chunks = [];
      for await (const chunk of req) {
        chunks.push(chunk);
      }
      res.json({
        streamed: Buffer.concat(chunks).toString('base64'),
        raw: req.rawBody.toString('base64'),
      });
    });
    e.post('/small', protect({ maxBodyBytes: 64 }), record('small'));
    e.post(
      '/logged',
      protect({ logger: { debug: (m, meta) => logs.push({ m, meta }) } }),
      record('logged')
    );
    // body-parser's own refusals, without Express printing their stacks.
    e.use((err, _req, res, _next) => {
      res.status(err.status ?? 500).json({ error: 'refused by body-parser' });
    });
    reader = await iss.mint({ aud: resource, scope: 'read' });
    writer = await iss.mint({ aud: resource, scope: 'read create:todos' });
  });
  after(async () => {
    await app.close();
    await iss.close();
  });

  const post = (route, body, { token = reader, headers = {} } = {}) =>
    send(`${app.url}/${route}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        ...headers,
      },
      body: bytes(body),
    });

  const insufficient = (res) => {
    assert.equal(res.status, 403, res.text);
    assert.match(res.headers['www-authenticate'], /^Bearer error="insufficient_scope"/);
    assert.match(res.headers['www-authenticate'], /scope="read create:todos"/);
    assert.deepEqual(res.json.missing_scopes, ['create:todos']);
  };

  const jsonRpcError = (res, status, code) => {
    assert.equal(res.status, status, res.text);
    assert.equal(res.headers['www-authenticate'], undefined);
    assert.equal(res.json.jsonrpc, '2.0');
    assert.equal(res.json.error.code, code);
  };

  const all = ['first', 'custom', 'after-json', 'after-json-verify', 'after-raw', 'then-json'];

  test('the control: a permitted call reaches the handler with its body, on every route', async () => {
    for (const route of all) {
      const res = await post(route, call('add-todo'), { token: writer });
      assert.equal(res.status, 200, `${route}: ${res.text}`);
      assert.deepEqual(res.json, { route, body: call('add-todo') });
    }
  });

  test('a batch where only a later message needs a scope: 403 on every route', async () => {
    for (const route of all) {
      const before = reached.length;
      insufficient(await post(route, [call('whoami', 1), call('add-todo', 2)]));
      assert.equal(reached.length, before, route);
    }
  });

  test('a duplicate key: refused where the raw bytes are known', async () => {
    const body =
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"add-todo"}}';
    for (const route of ['first', 'custom', 'after-json-verify', 'after-raw', 'then-json']) {
      const before = reached.length;
      jsonRpcError(await post(route, body), 400, -32700);
      assert.equal(reached.length, before, route);
    }
  });

  test('a duplicate key after express.json(): decided on the value the application gets', async () => {
    // body-parser kept the last `name`; core decides on that parsed body, which is all that
    // anything behind can read.
    const protectedLast =
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"add-todo"}}';
    insufficient(await post('after-json', protectedLast));
    const harmlessLast =
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add-todo","name":"whoami"}}';
    const res = await post('after-json', harmlessLast);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.body.params.name, 'whoami');
  });

  test('lenient JSON (an unquoted key): never reaches a handler', async () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{name:"add-todo"}}';
    for (const route of ['first', 'custom', 'after-raw', 'then-json']) {
      const before = reached.length;
      jsonRpcError(await post(route, body), 400, -32700);
      assert.equal(reached.length, before, route);
    }
    for (const route of ['after-json', 'after-json-verify']) {
      // body-parser refuses it before bearerAuth runs.
      const before = reached.length;
      assert.equal((await post(route, body)).status, 400);
      assert.equal(reached.length, before, route);
    }
  });

  test('UTF-8 bytes labelled charset=UTF-16: never reaches a handler', async () => {
    const headers = { 'content-type': 'application/json; charset=UTF-16' };
    for (const route of all) {
      const before = reached.length;
      const res = await post(route, call('add-todo'), { headers });
      assert.equal(res.status, 400, `${route}: ${res.text}`);
      assert.equal(reached.length, before, route);
      if (!route.startsWith('after-json')) {
        jsonRpcError(res, 400, -32700);
      }
    }
  });

  test('Mcp-Name differing from params.name: 400 -32020 on every route', async () => {
    const headers = { 'mcp-method': 'tools/call', 'mcp-name': 'whoami' };
    for (const route of all) {
      const before = reached.length;
      jsonRpcError(await post(route, call('add-todo'), { token: writer, headers }), 400, -32020);
      assert.equal(reached.length, before, route);
    }
  });

  test('a parsed body JSON cannot carry as it is: refused, not guessed', async () => {
    // A reviver made a Date; a number overflowed to Infinity.
    const dated = {
      ...call('whoami'),
      params: { name: 'whoami', arguments: { when: '2026-01-01' } },
    };
    jsonRpcError(await post('after-reviver', dated), 400, -32700);
    const huge =
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"n":1e400}}}';
    jsonRpcError(await post('after-json', huge), 400, -32700);
    assert.equal((await post('after-json', call('whoami'))).status, 200);
  });

  test('a body consumed before bearerAuth with nothing kept: refused', async () => {
    jsonRpcError(await post('after-drain', call('whoami')), 400, -32700);
  });

  test('express.json() after bearerAuth reads the same bytes again and does not wait', async () => {
    const body = `  ${JSON.stringify(call('whoami'))}\n`;
    const res = await post('then-json', body);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.body, call('whoami'));
  });

  test('a body sent in many pieces reaches the handler whole, from the stream and rawBody', async () => {
    const message = {
      ...call('add-todo'),
      params: { name: 'add-todo', arguments: { content: 'ü'.repeat(60_000) } },
    };
    const body = bytes(message);
    const res = await new Promise((resolve, reject) => {
      const req = http.request(`${app.url}/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${writer}` },
      });
      req.on('response', (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () =>
          resolve({ status: r.statusCode, json: JSON.parse(Buffer.concat(chunks)) })
        );
      });
      req.on('error', reject);
      // Pieces that split multi-byte characters, each sent on its own turn of the event loop.
      const pieces = [];
      for (let i = 0; i < body.length; i += 7001) {
        pieces.push(body.subarray(i, i + 7001));
      }
      const next = () => {
        const piece = pieces.shift();
        if (piece) {
          req.write(piece, () => setImmediate(next));
        } else {
          req.end();
        }
      };
      next();
    });
    assert.equal(res.status, 200);
    assert.equal(res.json.streamed, body.toString('base64'));
    assert.equal(res.json.raw, body.toString('base64'));
  });

  test('a client that goes away mid-body reaches no handler, and the server keeps serving', async () => {
    const before = reached.length;
    await new Promise((resolve) => {
      const req = http.request(`${app.url}/first`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': '1000',
          authorization: `Bearer ${writer}`,
        },
      });
      req.on('error', () => resolve());
      req.write('{"jsonrpc":"2.0","id":1,', () => {
        req.destroy();
        resolve();
      });
    });
    const res = await post('first', call('add-todo'), { token: writer });
    assert.equal(res.status, 200);
    assert.equal(reached.length, before + 1);
  });

  test('without credentials: 401 whatever the body', async () => {
    const res = await send(`${app.url}/first`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from([0xff, 0xfe, 0x00]),
    });
    assert.equal(res.status, 401);
    assert.equal(res.json.error, 'missing_auth_header');
    assert.doesNotMatch(res.headers['www-authenticate'], /error=/);
  });

  test('larger than maxBodyBytes: 413 from Content-Length, nothing read', async () => {
    const res = await post('small', call('x'.repeat(100)));
    jsonRpcError(res, 413, -32600);
    assert.equal(res.headers.connection, 'close');
  });

  test('larger than maxBodyBytes, streamed: 413 while the client is still sending', async () => {
    // The client sends more than the limit and keeps the request open: the answer must come
    // without the rest of the body.
    const res = await new Promise((resolve, reject) => {
      const req = http.request(`${app.url}/small`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${reader}` },
      });
      req.on('response', (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => {
          req.destroy();
          resolve({
            status: r.statusCode,
            headers: r.headers,
            json: JSON.parse(Buffer.concat(chunks)),
          });
        });
      });
      req.on('error', reject);
      req.write(
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${'x'.repeat(200)}`
      );
    });
    jsonRpcError(res, 413, -32600);
    assert.equal(res.headers.connection, 'close');
  });

  test('a compressed body is not inflated: refused as unreadable', async () => {
    const res = await post('first', gzipSync(bytes(call('whoami'))), {
      headers: { 'content-encoding': 'gzip' },
    });
    jsonRpcError(res, 400, -32700);
  });

  test('a refusal is logged with its code and reason, never the token or the body', async () => {
    const body =
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"pin":"4711-secret","pin":"0"}}}';
    jsonRpcError(await post('logged', body), 400, -32700);
    assert.equal(logs.length, 1);
    assert.equal(logs[0].meta.code, 'mcp_parse_error');
    assert.equal(logs[0].meta.kind, 'request');
    assert.equal(logs[0].meta.status, 400);
    assert.match(logs[0].meta.reason, /^Parse error/);
    const logged = JSON.stringify(logs);
    assert.ok(!logged.includes('4711-secret'));
    assert.ok(!logged.includes(reader));
  });

  test('unknown or misspelt options are refused when the route is built', () => {
    const resource = `${app.url}/mcp`;
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: { resource, authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }] },
      },
    });
    for (const options of [
      { toolScope: { a: ['b'] } },
      { tool_scopes: { a: ['b'] } },
      { toolScopes: ['a'] },
      { toolScopes: { a: 'b' } },
      { maxBodyBytes: -1 },
      { maxBodyBytes: 1.5 },
      { resourceScopes: { 'notes://{id': ['x'] } },
    ]) {
      assert.throws(
        () => mcpAuth.bearerAuth('jwt', { resource, audience: resource, ...options }),
        (err) => err instanceof MCPAuthConfigError && err.code === 'invalid_operation_rules',
        JSON.stringify(options)
      );
    }
  });
});
