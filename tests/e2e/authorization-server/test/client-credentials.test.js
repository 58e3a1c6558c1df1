import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

import { RESOURCE, basic, postForm, startServer } from './helpers.js';

let server;
let jwks;
before(async () => {
  server = await startServer('--resource-alg', 'http://localhost:3009/mcp=ES256');
  jwks = createRemoteJWKSet(new URL('/jwks', server.issuer));
});
after(() => server.stop());

const token = (client, secret, form) => postForm(`${server.issuer}/token`, {
  grant_type: 'client_credentials', ...form,
}, basic(client, secret));

test('client_credentials with a resource yields a JWT for that audience', async () => {
  const { status, body } = await token('todo-service', 'todo-service-secret', {
    scope: 'create:todos read:todos', resource: RESOURCE,
  });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.scope, 'create:todos read:todos');

  const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, {
    issuer: server.issuer, audience: RESOURCE, typ: 'at+jwt',
  });
  assert.equal(protectedHeader.alg, 'RS256');
  assert.ok(protectedHeader.kid);
  assert.equal(payload.aud, RESOURCE);
  assert.equal(payload.scope, 'create:todos read:todos');
  assert.equal(payload.client_id, 'todo-service');
  assert.equal(payload.sub, 'todo-service');
  assert.ok(payload.exp > payload.iat);
});

test('a client cannot obtain scopes it was not registered with', async () => {
  const { status, body } = await token('todo-writer', 'todo-writer-secret', {
    scope: 'create:todos read:todos', resource: RESOURCE,
  });
  assert.equal(status, 400);
  assert.equal(body.error, 'invalid_scope');

  const ok = await token('todo-writer', 'todo-writer-secret', { scope: 'create:todos', resource: RESOURCE });
  assert.equal(ok.status, 200);
  const { payload } = await jwtVerify(ok.body.access_token, jwks, { audience: RESOURCE });
  assert.equal(payload.scope, 'create:todos');
});

test('wrong secret is rejected', async () => {
  const { status, body } = await token('todo-service', 'nope', { scope: 'read:todos', resource: RESOURCE });
  assert.equal(status, 401);
  assert.equal(body.error, 'invalid_client');
});

test('resources off this machine are refused', async () => {
  const { status, body } = await token('todo-service', 'todo-service-secret', {
    scope: 'read:todos', resource: 'https://example.com/mcp',
  });
  assert.equal(status, 400);
  assert.equal(body.error, 'invalid_target');
});

test('the signing algorithm is chosen per resource (flag and admin endpoint)', async () => {
  const viaFlag = await token('todo-service', 'todo-service-secret', {
    scope: 'read:todos', resource: 'http://localhost:3009/mcp',
  });
  assert.equal(decodeProtectedHeader(viaFlag.body.access_token).alg, 'ES256');
  await jwtVerify(viaFlag.body.access_token, jwks, { audience: 'http://localhost:3009/mcp' });

  const other = 'http://127.0.0.1:3010/mcp';
  const before = await token('todo-service', 'todo-service-secret', { scope: 'read:todos', resource: other });
  assert.equal(decodeProtectedHeader(before.body.access_token).alg, 'RS256');

  const set = await postForm(`${server.issuer}/admin/resources`, { resource: other, alg: 'ES256' });
  assert.equal(set.status, 200);
  const afterSet = await token('todo-service', 'todo-service-secret', { scope: 'read:todos', resource: other });
  const header = decodeProtectedHeader(afterSet.body.access_token);
  assert.equal(header.alg, 'ES256');
  const { payload } = await jwtVerify(afterSet.body.access_token, jwks, { audience: other, algorithms: ['ES256'] });
  assert.equal(payload.scope, 'read:todos');
});

test('--alg ES256 changes the default', async () => {
  const es = await startServer('--alg', 'ES256');
  try {
    const { body } = await postForm(`${es.issuer}/token`, {
      grant_type: 'client_credentials', scope: 'read:todos', resource: RESOURCE,
    }, basic('todo-service', 'todo-service-secret'));
    const { protectedHeader } = await jwtVerify(
      body.access_token, createRemoteJWKSet(new URL('/jwks', es.issuer)), { issuer: es.issuer, audience: RESOURCE },
    );
    assert.equal(protectedHeader.alg, 'ES256');
  } finally {
    await es.stop();
  }
});
