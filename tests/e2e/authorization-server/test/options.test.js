import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';

import { RESOURCE, authorize, postForm, startServer } from './helpers.js';

let server;
before(async () => {
  server = await startServer('--scopes', 'write:notes read:notes', '--auto-login', 'bob', '--grace-seconds', '0');
});
after(() => server.stop());

test('--scopes adds resource scopes and --auto-login signs in without a form', async () => {
  const meta = await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json();
  assert.ok(meta.scopes_supported.includes('write:notes'));

  const resource = 'http://localhost:4000/notes';
  const { redirect, verifier } = await authorize(server.issuer, {
    scope: 'write:notes', resource, username: null, redirectUri: 'http://localhost:1234/callback',
  });
  const { body } = await postForm(`${server.issuer}/token`, {
    grant_type: 'authorization_code',
    client_id: 'mcp-public-client',
    code: redirect.searchParams.get('code'),
    code_verifier: verifier,
    redirect_uri: 'http://localhost:1234/callback',
  });
  const { payload } = await jwtVerify(body.access_token, createRemoteJWKSet(new URL('/jwks', server.issuer)), {
    issuer: server.issuer, audience: resource,
  });
  assert.equal(payload.sub, 'bob');
  assert.equal(payload.scope, 'write:notes');
});

test('redirect URIs outside the registered ones are refused', async () => {
  const url = new URL('/auth', server.issuer);
  url.search = new URLSearchParams({
    client_id: 'mcp-public-client', response_type: 'code', redirect_uri: 'http://evil.example/callback',
    scope: 'read:notes', resource: RESOURCE, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
  });
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error, 'invalid_redirect_uri');
});

test('--grace-seconds 0 unpublishes rotated keys at once', async () => {
  const before = (await (await fetch(`${server.issuer}/jwks`)).json()).keys.map((k) => k.kid);
  const { body } = await postForm(`${server.issuer}/admin/rotate`, {});
  const after = (await (await fetch(`${server.issuer}/jwks`)).json()).keys.map((k) => k.kid);
  assert.deepEqual(after.sort(), body.rotated.map((k) => k.kid).sort());
  assert.ok(before.every((kid) => !after.includes(kid)));
});
