import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { basic, postForm, startServer } from './helpers.js';

const OPAQUE = 'http://127.0.0.1:3011/mcp';
let server;
before(async () => {
  server = await startServer('--resource-alg', `${OPAQUE}=opaque`);
});
after(() => server.stop());

const opaqueToken = async (scope) => {
  const { status, body } = await postForm(`${server.issuer}/token`, {
    grant_type: 'client_credentials', scope, resource: OPAQUE,
  }, basic('todo-service', 'todo-service-secret'));
  assert.equal(status, 200, JSON.stringify(body));
  return body.access_token;
};

test('the discovery document advertises the introspection endpoint', async () => {
  const md = await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json();
  assert.equal(md.introspection_endpoint, `${server.issuer}/token/introspection`);
});

test('an opaque-format resource gets opaque tokens that introspect with aud, scope and client_id', async () => {
  const token = await opaqueToken('read:todos');
  assert.equal(token.split('.').length, 1, 'not a JWT');
  const { status, body } = await postForm(`${server.issuer}/token/introspection`, { token },
    basic('mcp-resource-server', 'mcp-resource-server-secret'));
  assert.equal(status, 200);
  assert.equal(body.active, true);
  assert.equal(body.aud, OPAQUE);
  assert.equal(body.scope, 'read:todos');
  assert.equal(body.client_id, 'todo-service');
  assert.equal(body.iss, server.issuer);
  assert.ok(body.exp > Date.now() / 1000);
});

test('client_secret_post works for the post client; a wrong secret is refused', async () => {
  const token = await opaqueToken('read:todos');
  const ok = await postForm(`${server.issuer}/token/introspection`, {
    token, client_id: 'mcp-resource-server-post', client_secret: 'mcp-resource-server-post-secret',
  });
  assert.equal(ok.body.active, true);
  const bad = await postForm(`${server.issuer}/token/introspection`, { token },
    basic('mcp-resource-server', 'nope'));
  assert.equal(bad.status, 401);
});

test('a revoked token introspects as inactive', async () => {
  const token = await opaqueToken('read:todos');
  const auth = basic('todo-service', 'todo-service-secret');
  const res = await fetch(`${server.issuer}/token/revocation`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
    body: new URLSearchParams({ token }),
  });
  assert.equal(res.status, 200);
  const { body } = await postForm(`${server.issuer}/token/introspection`, { token },
    basic('mcp-resource-server', 'mcp-resource-server-secret'));
  assert.deepEqual(body, { active: false });
});
