import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startServer } from './helpers.js';

let server;
before(async () => { server = await startServer(); });
after(() => server.stop());

test('prints its issuer on 127.0.0.1', () => {
  assert.equal(server.issuer, `http://127.0.0.1:${server.port}`);
  assert.ok(server.port > 0);
});

for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
  test(`${path} satisfies what MCP clients check`, async () => {
    const res = await fetch(new URL(path, server.issuer));
    assert.equal(res.status, 200);
    const meta = await res.json();
    assert.equal(meta.issuer, server.issuer);
    assert.ok(meta.response_types_supported.includes('code'));
    assert.ok(meta.code_challenge_methods_supported.includes('S256'));
    assert.equal(meta.registration_endpoint, `${server.issuer}/reg`);
    for (const grant of ['authorization_code', 'client_credentials', 'refresh_token']) {
      assert.ok(meta.grant_types_supported.includes(grant), grant);
    }
    for (const scope of ['openid', 'offline_access', 'create:todos', 'read:todos', 'delete:todos']) {
      assert.ok(meta.scopes_supported.includes(scope), scope);
    }
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
  });
}

test('JWKS publishes an RSA and an EC signing key', async () => {
  const { keys } = await (await fetch(new URL('/jwks', server.issuer))).json();
  assert.deepEqual(keys.map((k) => [k.kty, k.alg]).sort(), [['EC', 'ES256'], ['RSA', 'RS256']]);
  for (const key of keys) {
    assert.ok(key.kid);
    assert.equal(key.d, undefined, 'private part must not be published');
  }
});
