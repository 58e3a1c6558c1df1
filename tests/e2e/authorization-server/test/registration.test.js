import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';

import { RESOURCE, authorize, basic, postForm, startServer } from './helpers.js';

let server;
let jwks;
before(async () => {
  server = await startServer();
  jwks = createRemoteJWKSet(new URL('/jwks', server.issuer));
});
after(() => server.stop());

async function register(metadata) {
  const res = await fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  });
  return { status: res.status, body: await res.json() };
}

test('an MCP client registers itself (public, PKCE) and completes the flow', async () => {
  const redirectUri = 'http://localhost:53682/callback';
  // The metadata the MCP SDKs send.
  const { status, body: client } = await register({
    client_name: 'Example MCP client',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  });
  assert.equal(status, 201, JSON.stringify(client));
  assert.ok(client.client_id);
  assert.equal(client.client_secret, undefined);

  const { redirect, verifier } = await authorize(server.issuer, {
    clientId: client.client_id, redirectUri, scope: 'create:todos offline_access',
  });
  const { body } = await postForm(`${server.issuer}/token`, {
    grant_type: 'authorization_code',
    client_id: client.client_id,
    code: redirect.searchParams.get('code'),
    code_verifier: verifier,
    redirect_uri: redirectUri,
    resource: RESOURCE,
  });
  assert.ok(body.refresh_token);
  const { payload } = await jwtVerify(body.access_token, jwks, { issuer: server.issuer, audience: RESOURCE });
  assert.equal(payload.client_id, client.client_id);
  assert.equal(payload.sub, 'alice');
  assert.equal(payload.scope, 'create:todos');
});

test('a registered confidential client limited to one scope uses client_credentials', async () => {
  const { status, body: client } = await register({
    client_name: 'Example service',
    redirect_uris: [],
    response_types: [],
    grant_types: ['client_credentials'],
    scope: 'read:todos',
  });
  assert.equal(status, 201, JSON.stringify(client));
  assert.ok(client.client_secret);

  const ok = await postForm(`${server.issuer}/token`, {
    grant_type: 'client_credentials', scope: 'read:todos', resource: RESOURCE,
  }, basic(client.client_id, client.client_secret));
  const { payload } = await jwtVerify(ok.body.access_token, jwks, { audience: RESOURCE });
  assert.equal(payload.sub, client.client_id);
  assert.equal(payload.scope, 'read:todos');

  const denied = await postForm(`${server.issuer}/token`, {
    grant_type: 'client_credentials', scope: 'delete:todos', resource: RESOURCE,
  }, basic(client.client_id, client.client_secret));
  assert.equal(denied.body.error, 'invalid_scope');
});

test('invalid registrations are refused', async () => {
  const { status, body } = await register({ redirect_uris: ['not a url'] });
  assert.equal(status, 400);
  assert.equal(body.error, 'invalid_redirect_uri');
});
