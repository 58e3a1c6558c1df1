import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

import {
  REDIRECT_URI, RESOURCE, authorize, basic, browserlessClient, postForm, startServer,
} from './helpers.js';

let server;
before(async () => { server = await startServer(); });
after(() => server.stop());

const jwks = async () => (await fetch(`${server.issuer}/jwks`)).json();
const kids = async () => (await jwks()).keys.map((k) => k.kid).sort();
const admin = (path, form = {}) => postForm(`${server.issuer}${path}`, form);

async function token(resource = RESOURCE) {
  const { body } = await postForm(`${server.issuer}/token`, {
    grant_type: 'client_credentials', scope: 'read:todos', resource,
  }, basic('todo-service', 'todo-service-secret'));
  return body.access_token;
}

async function verify(jwt) {
  // A fresh fetch of the JWKS each time, as a resource server would after an unknown kid.
  return jwtVerify(jwt, createLocalJWKSet(await jwks()), { issuer: server.issuer, audience: RESOURCE });
}

test('rotation publishes a new key, signs with it, and keeps the old one published', async () => {
  const oldToken = await token();
  const oldKid = decodeProtectedHeader(oldToken).kid;
  const before = await kids();
  assert.ok(before.includes(oldKid));

  const { status, body } = await admin('/admin/rotate', { alg: 'RS256' });
  assert.equal(status, 200, JSON.stringify(body));
  const [{ kid: newKid }] = body.rotated;
  assert.notEqual(newKid, oldKid);
  assert.deepEqual(body.retired.map((k) => k.kid), [oldKid]);

  const after = await kids();
  assert.ok(after.includes(newKid));
  assert.ok(after.includes(oldKid), 'old key stays published during the grace period');
  assert.equal(after.length, before.length + 1);

  const newToken = await token();
  assert.equal(decodeProtectedHeader(newToken).kid, newKid);
  await verify(newToken);
  await verify(oldToken);

  const { body: state } = await fetch(`${server.issuer}/admin/keys`).then(async (r) => ({ body: await r.json() }));
  assert.equal(state.signing.RS256, newKid);
  assert.ok(state.retired.some((k) => k.kid === oldKid));
});

test('rotation with grace_seconds=0 unpublishes the old key at once', async () => {
  const es = 'http://127.0.0.1:3002/mcp';
  await admin('/admin/resources', { resource: es, alg: 'ES256' });
  const oldToken = await token(es);
  const oldKid = decodeProtectedHeader(oldToken).kid;

  const { body } = await admin('/admin/rotate', { alg: 'ES256', grace_seconds: '0' });
  const [{ kid: newKid }] = body.rotated;
  assert.deepEqual(body.retired, []);

  const published = await kids();
  assert.ok(published.includes(newKid));
  assert.ok(!published.includes(oldKid));
  assert.equal(decodeProtectedHeader(await token(es)).kid, newKid);
  await assert.rejects(
    jwtVerify(oldToken, createLocalJWKSet(await jwks()), { audience: es }),
    { code: 'ERR_JWKS_NO_MATCHING_KEY' },
  );
});

test('sessions and refresh tokens survive a rotation', async () => {
  const request = browserlessClient();
  const first = await authorize(server.issuer, { scope: 'read:todos', username: 'bob', request });
  const { body: tokens } = await postForm(`${server.issuer}/token`, {
    grant_type: 'authorization_code',
    client_id: 'mcp-public-client',
    code: first.redirect.searchParams.get('code'),
    code_verifier: first.verifier,
    redirect_uri: REDIRECT_URI,
    resource: RESOURCE,
  });
  assert.ok(tokens.refresh_token);

  await admin('/admin/rotate');

  // Same cookie jar, no login: the session and its grant are still known.
  const second = await authorize(server.issuer, { scope: 'read:todos', username: null, request });
  assert.ok(second.redirect.searchParams.get('code'));
  const refreshed = await postForm(`${server.issuer}/token`, {
    grant_type: 'refresh_token', client_id: 'mcp-public-client', refresh_token: tokens.refresh_token,
  });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  const { payload, protectedHeader } = await verify(refreshed.body.access_token);
  assert.equal(payload.sub, 'bob');
  assert.equal(protectedHeader.kid, (await (await fetch(`${server.issuer}/admin/keys`)).json()).signing.RS256);

  // Dynamic clients live in the shared store, so one registered before a rotation still works after it.
  const reg = await fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [], response_types: [], grant_types: ['client_credentials'] }),
  }).then((r) => r.json());
  await admin('/admin/rotate');
  const { status } = await postForm(`${server.issuer}/token`, {
    grant_type: 'client_credentials', resource: RESOURCE, scope: 'read:todos',
  }, basic(reg.client_id, reg.client_secret));
  assert.equal(status, 200);
});

test('bad admin input is a 400', async () => {
  const { status, body } = await admin('/admin/rotate', { alg: 'HS256' });
  assert.equal(status, 400);
  assert.equal(body.error, 'invalid_request');
});
