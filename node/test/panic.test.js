// A panic inside the native core never crosses into JavaScript: it becomes an Error, the
// request gets a 500, and the process keeps serving. The core panics on purpose when it
// verifies exactly the token named by MCP_AUTH_TEST_PANIC (read once per process), so the
// server runs in a child process started with that variable.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { SignJWT } from 'jose';
import { createVerifyJwt } from 'mcp-auth';

// The packed-tarball run copies test/ elsewhere and says where the vectors are.
const vectorsUrl = process.env.MCP_AUTH_VECTORS
  ? pathToFileURL(`${process.env.MCP_AUTH_VECTORS}/`)
  : new URL('../../tests/vectors/', import.meta.url);
const V = JSON.parse(readFileSync(new URL('tokens.json', vectorsUrl), 'utf8'));
const key = createPrivateKey(readFileSync(new URL('keys/rsa1.pem', vectorsUrl)));

const mint = (sub) =>
  new SignJWT({ scope: 'read', client_id: 'client-1' })
    .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
    .setIssuer(V.issuer)
    .setSubject(sub)
    .setAudience(V.resource)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);

const CHILD = `
import http from 'node:http';
import { readFileSync } from 'node:fs';
import express from 'express';
import { MCPAuth, createVerifyJwt } from 'mcp-auth';

const v = JSON.parse(readFileSync(process.argv[1], 'utf8'));
const app = express();
const server = http.createServer(app);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = 'http://127.0.0.1:' + server.address().port;
const m = v.metadata;
const mcpAuth = new MCPAuth({
  protectedResources: { metadata: { resource: v.resource, authorizationServers: [{ type: 'oidc', metadata: {
    issuer: m.issuer, authorizationEndpoint: m.authorization_endpoint, tokenEndpoint: m.token_endpoint,
    jwksUri: url + '/jwks', responseTypesSupported: ['code'], codeChallengeMethodsSupported: ['S256'],
    grantTypesSupported: m.grant_types_supported, registrationEndpoint: m.registration_endpoint,
  } }] } },
});
const direct = createVerifyJwt(v.jwks);
app.get('/jwks', (req, res) => res.json(v.jwks));
app.post('/direct', express.text({ type: '*/*' }), async (req, res) => {
  try {
    res.json({ subject: (await direct(req.body)).subject });
  } catch (e) {
    res.json({ raised: e.constructor.name, code: e.code ?? null, message: String(e.message) });
  }
});
app.get('/mcp', mcpAuth.bearerAuth('jwt', { resource: v.resource, audience: v.resource }),
  (req, res) => res.json({ subject: req.auth.subject }));
// An introspection endpoint that calls every token active, and a route checked through it.
app.post('/introspect', express.urlencoded({ extended: false }), (req, res) =>
  res.json({ active: true, iss: m.issuer, sub: 'opaque-user', aud: v.resource }));
app.get('/opaque', mcpAuth.bearerAuth('introspection', { resource: v.resource, audience: v.resource,
  introspection: { clientId: 'rs', clientSecret: 'secret', endpoint: url + '/introspect' } }),
  (req, res) => res.json({ subject: req.auth.subject }));
console.log(JSON.stringify({ url }));
`;

describe('a panic in the core', () => {
  let child;
  let url;
  let doomed;
  let fine;
  let stderr = '';

  before(async () => {
    doomed = await mint('doomed');
    fine = await mint('fine');
    child = spawn(
      process.execPath,
      ['--input-type=module', '-e', CHILD, fileURLToPath(new URL('tokens.json', vectorsUrl))],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env: { ...process.env, MCP_AUTH_TEST_PANIC: doomed },
        stdio: ['ignore', 'pipe', 'pipe'],
      }
    );
    child.stderr.on('data', (d) => (stderr += d));
    url = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]).url);
      });
      child.on('exit', (code) => reject(new Error(`child exited (${code}): ${stderr}`)));
    });
  });
  after(() => {
    child.kill('SIGTERM');
  });

  test('the doomed token is valid without the hook', async () => {
    // So a 500 below can only come from the panic.
    assert.equal((await createVerifyJwt(V.jwks)(doomed)).subject, 'doomed');
  });

  test('bearerAuth answers 500 and the next request is served', async () => {
    for (let i = 0; i < 3; i += 1) {
      let res = await fetch(`${url}/mcp`, { headers: { authorization: `Bearer ${doomed}` } });
      assert.equal(res.status, 500, stderr);
      assert.deepEqual(await res.json(), {
        error: 'server_error',
        error_description: 'An error occurred with the authorization server.',
      });
      assert.equal(res.headers.get('www-authenticate'), null);
      res = await fetch(`${url}/mcp`, { headers: { authorization: `Bearer ${fine}` } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { subject: 'fine' });
    }
    assert.equal(child.exitCode, null);
  });

  test('the introspection mode answers 500 too and keeps serving', async () => {
    for (let i = 0; i < 2; i += 1) {
      let res = await fetch(`${url}/opaque`, { headers: { authorization: `Bearer ${doomed}` } });
      assert.equal(res.status, 500, stderr);
      assert.equal((await res.json()).error, 'server_error');
      res = await fetch(`${url}/opaque`, { headers: { authorization: 'Bearer opaque-fine' } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { subject: 'opaque-user' });
    }
    assert.equal(child.exitCode, null);
  });

  test('a verify function throws an Error instead', async () => {
    const got = await (await fetch(`${url}/direct`, { method: 'POST', body: doomed })).json();
    assert.equal(got.raised, 'MCPAuthConfigError', JSON.stringify(got));
    assert.equal(got.code, 'internal_error');
    const ok = await (await fetch(`${url}/direct`, { method: 'POST', body: fine })).json();
    assert.deepEqual(ok, { subject: 'fine' });
  });
});
