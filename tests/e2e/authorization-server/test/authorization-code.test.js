import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';

import {
  REDIRECT_URI, RESOURCE, authorize, browserlessClient, postForm, startServer,
} from './helpers.js';

let server;
let jwks;
before(async () => {
  server = await startServer();
  jwks = createRemoteJWKSet(new URL('/jwks', server.issuer));
});
after(() => server.stop());

const exchange = (code, verifier, extra = {}) => postForm(`${server.issuer}/token`, {
  grant_type: 'authorization_code',
  client_id: 'mcp-public-client',
  code,
  code_verifier: verifier,
  redirect_uri: REDIRECT_URI,
  resource: RESOURCE,
  ...extra,
});

test('authorization code + PKCE over plain HTTP, then refresh', async () => {
  const { redirect, verifier, state } = await authorize(server.issuer, {
    scope: 'openid create:todos read:todos', username: 'bob',
  });
  assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT_URI);
  assert.equal(redirect.searchParams.get('state'), state);
  assert.equal(redirect.searchParams.get('iss'), server.issuer);

  const { status, body } = await exchange(redirect.searchParams.get('code'), verifier);
  assert.equal(status, 200, JSON.stringify(body));
  assert.ok(body.refresh_token);
  assert.ok(body.id_token);
  const { payload } = await jwtVerify(body.access_token, jwks, { issuer: server.issuer, audience: RESOURCE });
  assert.equal(payload.sub, 'bob');
  assert.equal(payload.client_id, 'mcp-public-client');
  assert.equal(payload.scope, 'create:todos read:todos');

  const refreshed = await postForm(`${server.issuer}/token`, {
    grant_type: 'refresh_token',
    client_id: 'mcp-public-client',
    refresh_token: body.refresh_token,
    resource: RESOURCE,
  });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  const again = await jwtVerify(refreshed.body.access_token, jwks, { issuer: server.issuer, audience: RESOURCE });
  assert.equal(again.payload.sub, 'bob');
  assert.equal(again.payload.scope, 'create:todos read:todos');
});

test('the token request may omit resource when one was granted', async () => {
  const { redirect, verifier } = await authorize(server.issuer, { scope: 'read:todos' });
  const { status, body } = await exchange(redirect.searchParams.get('code'), verifier, { resource: undefined });
  assert.equal(status, 200, JSON.stringify(body));
  const { payload } = await jwtVerify(body.access_token, jwks, { audience: RESOURCE });
  assert.equal(payload.sub, 'alice');
});

test('the login form can grant a subset of the requested scopes (for step-up tests)', async () => {
  const { redirect, verifier } = await authorize(server.issuer, {
    scope: 'create:todos read:todos delete:todos', grant: 'read:todos',
  });
  const { body } = await exchange(redirect.searchParams.get('code'), verifier);
  assert.equal(body.scope, 'read:todos');
  const { payload } = await jwtVerify(body.access_token, jwks, { audience: RESOURCE });
  assert.equal(payload.scope, 'read:todos');
});

test('step-up: a later request in the same session gets the scopes refused before', async () => {
  const request = browserlessClient();
  const first = await authorize(server.issuer, {
    scope: 'create:todos read:todos', grant: 'read:todos', request,
  });
  const narrow = await exchange(first.redirect.searchParams.get('code'), first.verifier);
  assert.equal(narrow.body.scope, 'read:todos');

  // The session is known, so the consent step completes without a form.
  const second = await authorize(server.issuer, { scope: 'create:todos read:todos', username: null, request });
  const wide = await exchange(second.redirect.searchParams.get('code'), second.verifier);
  const { payload } = await jwtVerify(wide.body.access_token, jwks, { audience: RESOURCE });
  assert.deepEqual(payload.scope.split(' ').sort(), ['create:todos', 'read:todos']);
  assert.equal(payload.sub, 'alice');
});

test('denying at the login step redirects with access_denied', async () => {
  const request = browserlessClient();
  const url = new URL('/auth', server.issuer);
  url.search = new URLSearchParams({
    client_id: 'mcp-public-client', response_type: 'code', redirect_uri: REDIRECT_URI, state: 's',
    scope: 'read:todos', resource: RESOURCE, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
  });
  const interaction = (await request(url)).headers.get('location');
  const resume = (await request(new URL(`${interaction}/abort`, server.issuer), { method: 'POST' })).headers.get('location');
  const back = new URL((await request(new URL(resume, server.issuer))).headers.get('location'));
  assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URI);
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.equal(back.searchParams.get('state'), 's');
});

test('PKCE is required', async () => {
  const url = new URL('/auth', server.issuer);
  url.search = new URLSearchParams({
    client_id: 'mcp-public-client', response_type: 'code', redirect_uri: REDIRECT_URI,
    scope: 'read:todos', resource: RESOURCE, state: 'x',
  });
  const res = await fetch(url, { redirect: 'manual' });
  const location = new URL(res.headers.get('location'));
  assert.equal(location.searchParams.get('error'), 'invalid_request');
  assert.match(location.searchParams.get('error_description'), /PKCE/);
});

test('a wrong code_verifier is rejected', async () => {
  const { redirect } = await authorize(server.issuer, { scope: 'read:todos' });
  const { status, body } = await exchange(redirect.searchParams.get('code'), 'x'.repeat(43));
  assert.equal(status, 400);
  assert.equal(body.error, 'invalid_grant');
});

test('unknown users are refused at the login form', async () => {
  await assert.rejects(
    authorize(server.issuer, { scope: 'read:todos', username: 'mallory' }),
    /expected a redirect, got 400: .*unknown user/s,
  );
});

test('login_hint of a known user logs in without a form', async () => {
  const { redirect, verifier } = await authorize(server.issuer, {
    scope: 'read:todos', username: null, extra: { login_hint: 'bob' },
  });
  const { body } = await exchange(redirect.searchParams.get('code'), verifier);
  const { payload } = await jwtVerify(body.access_token, jwks, { audience: RESOURCE });
  assert.equal(payload.sub, 'bob');
});
