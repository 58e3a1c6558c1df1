// The README's TypeScript examples (test/fixtures/readme-examples.ts), compiled and run as
// written against a local authorization server and introspection endpoint.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { createHash, randomUUID } from 'node:crypto';

import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import ts from 'typescript';

import { startIntrospection } from './support/introspection.js';
import { freePort, startIssuer, startSnippet } from './support/servers.js';

const source = new URL('./fixtures/readme-examples.ts', import.meta.url);
// Next to the fixture, so that `mcp-auth` and `express` resolve as they do for the tests.
const compiled = new URL('./fixtures/readme-examples.run.mjs', import.meta.url);
const resource = 'https://api.example.com/notes';
const nonceSecret = 'a DPoP nonce secret of at least 32 bytes, tests only';

let iss;
let endpoint;
let child;
let base;
let output;

before(async () => {
  endpoint = await startIntrospection({ clientId: 'notes-api', clientSecret: 'from-the-env' });
  iss = await startIssuer({
    path: '/tenant',
    serves: ['oidc-inserted'],
    metadata: { introspection_endpoint: endpoint.url },
  });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const text = readFileSync(source, 'utf8');
  assert.ok(text.includes("'https://auth.example.com/tenant'") && text.includes('listen(3000)'));
  const { outputText } = ts.transpileModule(
    text
      .replaceAll("'https://auth.example.com/tenant'", JSON.stringify(iss.issuer))
      .replace('listen(3000)', `listen(${port})`),
    { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }
  );
  writeFileSync(compiled, outputText);
  ({ child, output } = await startSnippet(
    compiled.pathname,
    { NOTES_API_SECRET: 'from-the-env', DPOP_NONCE_SECRET: nonceSecret },
    `${base}/notes`
  ));
});

after(async () => {
  child?.kill();
  rmSync(compiled, { force: true });
  await iss?.close();
  await endpoint?.close();
});

const get = (path, token) =>
  fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

test('the untyped discovery found the OIDC path-inserted document', () => {
  assert.match(output.join(''), new RegExp(`Found oidc metadata for ${iss.issuer}`));
  assert.equal(iss.hits.get('/.well-known/oauth-authorization-server/tenant'), 1);
  assert.equal(iss.hits.get('/.well-known/openid-configuration/tenant'), 1);
});

test('/notes takes RFC 9068 access tokens only', async () => {
  const claims = { aud: resource, scope: 'notes:read', roles: ['Notes.Editor'] };
  const atJwt = await iss.mint(claims, { header: { typ: 'at+jwt' } });
  const ok = await get('/notes', atJwt);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { user: 'user-1', roles: ['Notes.Editor'] });
  const plainJwt = await iss.mint(claims, { header: { typ: 'JWT' } });
  const refused = await get('/notes', plainJwt);
  assert.equal(refused.status, 401);
  assert.equal((await refused.json()).error, 'invalid_token');
});

test('/archive introspects opaque tokens once, then serves from the cache', async () => {
  endpoint.answers.set('opaque-abc', {
    active: true,
    iss: iss.issuer,
    sub: 'user-7',
    client_id: 'notes-app',
    scope: 'notes:read',
    aud: resource,
    exp: Math.floor(Date.now() / 1000) + 600,
  });
  for (let i = 0; i < 3; i++) {
    const res = await get('/archive', 'opaque-abc');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      user: 'user-7',
      client: 'notes-app',
      scopes: ['notes:read'],
    });
  }
  assert.equal(endpoint.requests.length, 1);
  assert.equal(endpoint.requests[0].auth, 'client_secret_basic');
  const inactive = await get('/archive', 'revoked-token');
  assert.equal(inactive.status, 401);
});

test('/mcp: 403 naming every scope a tool call needs, 400 for a key twice, the call with the scope', async () => {
  const call = (body, token) =>
    fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body,
    });
  const deleteNote = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'delete-note', arguments: { id: '42' } },
  });
  const reader = await iss.mint({ aud: resource, scope: 'notes:read' });
  const refused = await call(deleteNote, reader);
  assert.equal(refused.status, 403);
  assert.equal(
    refused.headers.get('www-authenticate'),
    'Bearer error="insufficient_scope", error_description="The token does not contain the necessary scopes for this request.", scope="notes:read notes:write", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/notes"'
  );
  assert.deepEqual(await refused.json(), {
    error: 'missing_required_scopes',
    error_description: 'The token does not contain the necessary scopes for this request.',
    missing_scopes: ['notes:write'],
  });

  const twice =
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"delete-note"}}';
  const ambiguous = await call(twice, reader);
  assert.equal(ambiguous.status, 400);
  assert.equal(ambiguous.headers.get('www-authenticate'), null);
  const { error } = await ambiguous.json();
  assert.equal(error.code, -32700);

  const admin = await iss.mint({ aud: resource, scope: 'notes:admin' });
  const done = await call(deleteNote, admin);
  assert.equal(done.status, 200);
  const { result } = await done.json();
  assert.equal(result.content[0].text, 'user-1 deleted note 42');
});

test('/private: DPoP only, the nonce round trip, the key in req.auth, replay and Bearer refused', async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const { kty, crv, x, y } = await exportJWK(publicKey);
  const jkt = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
  const token = await iss.mint({ aud: resource, cnf: { jkt } });
  const htu = 'https://api.example.com/private';
  const proof = (nonce) =>
    new SignJWT({
      jti: randomUUID(),
      htm: 'GET',
      htu,
      iat: Math.floor(Date.now() / 1000),
      ath: createHash('sha256').update(token).digest('base64url'),
      ...(nonce && { nonce }),
    })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } })
      .sign(privateKey);
  const call = (headers) => fetch(`${base}/private`, { headers });

  const first = await call({ authorization: `DPoP ${token}`, dpop: await proof() });
  assert.equal(first.status, 401);
  assert.match(first.headers.get('www-authenticate'), /^DPoP algs="[^"]+", error="use_dpop_nonce"/);
  const signed = await proof(first.headers.get('dpop-nonce'));
  const ok = await call({ authorization: `DPoP ${token}`, dpop: signed });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { user: 'user-1', key: jkt });
  assert.ok(ok.headers.get('dpop-nonce'));
  const replay = await call({ authorization: `DPoP ${token}`, dpop: signed });
  assert.equal(replay.status, 401);
  assert.equal((await replay.json()).error, 'invalid_dpop_proof');
  const downgraded = await call({ authorization: `Bearer ${token}` });
  assert.equal(downgraded.status, 401);
});
