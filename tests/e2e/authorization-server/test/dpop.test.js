// RFC 9449 at the token endpoint: DPoP-bound access and refresh tokens, replay, nonces.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  SignJWT, calculateJwkThumbprint, createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify,
} from 'jose';

import {
  REDIRECT_URI, RESOURCE, authorize, basic, postForm, startServer,
} from './helpers.js';

async function dpopKey(alg = 'ES256') {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

const proof = (key, htu, { htm = 'POST', nonce, iat = Math.floor(Date.now() / 1000) } = {}) => new SignJWT({
  htm, htu, jti: randomUUID(), iat, ...(nonce && { nonce }),
}).setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk }).sign(key.privateKey);

const codeGrant = async (issuer, scope = 'read:todos') => {
  const { redirect, verifier } = await authorize(issuer, { scope });
  return {
    grant_type: 'authorization_code',
    client_id: 'mcp-public-client',
    code: redirect.searchParams.get('code'),
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    resource: RESOURCE,
  };
};

describe('without --dpop-nonce', () => {
  let server;
  let jwks;
  let tokenUrl;
  before(async () => {
    server = await startServer();
    jwks = createRemoteJWKSet(new URL('/jwks', server.issuer));
    tokenUrl = `${server.issuer}/token`;
  });
  after(() => server.stop());

  test('the metadata lists the DPoP signing algorithms', async () => {
    const meta = await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json();
    assert.ok(meta.dpop_signing_alg_values_supported.includes('ES256'), JSON.stringify(meta));
  });

  test('a proof at the token endpoint binds the access token (cnf.jkt) and the refresh token', async () => {
    const key = await dpopKey();
    const { status, body, headers } = await postForm(tokenUrl, await codeGrant(server.issuer), {
      dpop: await proof(key, tokenUrl),
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'DPoP');
    // Nonces are offered, not demanded: the answer carries one for the next proof.
    assert.ok(headers.get('dpop-nonce'));
    const { payload } = await jwtVerify(body.access_token, jwks, { issuer: server.issuer, audience: RESOURCE });
    assert.deepEqual(payload.cnf, { jkt: key.jkt });
    assert.equal(payload.sub, 'alice');

    const refresh = { grant_type: 'refresh_token', client_id: 'mcp-public-client', refresh_token: body.refresh_token };
    // A public client's refresh token works only with a proof of the same key.
    const without = await postForm(tokenUrl, refresh);
    assert.equal(without.status, 400);
    assert.equal(without.body.error, 'invalid_grant');
    const other = await postForm(tokenUrl, refresh, { dpop: await proof(await dpopKey(), tokenUrl) });
    assert.equal(other.status, 400);
    assert.equal(other.body.error, 'invalid_grant');
    const same = await postForm(tokenUrl, refresh, { dpop: await proof(key, tokenUrl) });
    assert.equal(same.status, 200, JSON.stringify(same.body));
    assert.equal(same.body.token_type, 'DPoP');
    const again = await jwtVerify(same.body.access_token, jwks, { audience: RESOURCE });
    assert.deepEqual(again.payload.cnf, { jkt: key.jkt });
  });

  test('without a proof the token is a Bearer token, as before', async () => {
    const { status, body } = await postForm(tokenUrl, await codeGrant(server.issuer));
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'Bearer');
    const { payload } = await jwtVerify(body.access_token, jwks, { audience: RESOURCE });
    assert.equal(payload.cnf, undefined);
  });

  test('client credentials with a proof: a bound token (EdDSA key)', async () => {
    const key = await dpopKey('EdDSA');
    const { status, body } = await postForm(tokenUrl, {
      grant_type: 'client_credentials', scope: 'read:todos', resource: RESOURCE,
    }, { ...basic('todo-service', 'todo-service-secret'), dpop: await proof(key, tokenUrl) });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'DPoP');
    const { payload } = await jwtVerify(body.access_token, jwks, { audience: RESOURCE });
    assert.deepEqual(payload.cnf, { jkt: key.jkt });
  });

  test('bad proofs are refused: replayed, wrong htu, HMAC', async () => {
    const key = await dpopKey();
    const replayed = await proof(key, tokenUrl);
    const first = await postForm(tokenUrl, await codeGrant(server.issuer), { dpop: replayed });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const form = await codeGrant(server.issuer);
    const second = await postForm(tokenUrl, form, { dpop: replayed });
    assert.equal(second.status, 400);
    assert.equal(second.body.error, 'invalid_grant');
    // The control: another code with a fresh proof of the same key is accepted (oidc-provider
    // checks replay after consuming the code, so the refused code cannot be retried).
    const fresh = await postForm(tokenUrl, await codeGrant(server.issuer), { dpop: await proof(key, tokenUrl) });
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));

    const elsewhere = await postForm(tokenUrl, await codeGrant(server.issuer), {
      dpop: await proof(key, `${server.issuer}/elsewhere`),
    });
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.body.error, 'invalid_dpop_proof');

    const hmac = await new SignJWT({ htm: 'POST', htu: tokenUrl, jti: randomUUID(), iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } })
      .sign(new TextEncoder().encode('secret'));
    const symmetric = await postForm(tokenUrl, await codeGrant(server.issuer), { dpop: hmac });
    assert.equal(symmetric.status, 400);
    assert.equal(symmetric.body.error, 'invalid_dpop_proof');
  });

  test('a client registered with dpop_bound_access_tokens gets no token without a proof', async () => {
    const reg = await fetch(`${server.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'],
        response_types: ['code'], dpop_bound_access_tokens: true,
      }),
    });
    assert.equal(reg.status, 201);
    const { client_id: clientId } = await reg.json();
    const grant = async () => {
      const { redirect, verifier } = await authorize(server.issuer, { clientId, scope: 'read:todos' });
      return {
        grant_type: 'authorization_code', client_id: clientId, code: redirect.searchParams.get('code'),
        code_verifier: verifier, redirect_uri: REDIRECT_URI, resource: RESOURCE,
      };
    };
    const refused = await postForm(tokenUrl, await grant());
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
    const bound = await postForm(tokenUrl, await grant(), { dpop: await proof(await dpopKey(), tokenUrl) });
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
    assert.equal(bound.body.token_type, 'DPoP');
  });

  test('dpop_jkt in the authorization request binds the code to that key', async () => {
    const key = await dpopKey();
    const { redirect, verifier } = await authorize(server.issuer, { scope: 'read:todos', extra: { dpop_jkt: key.jkt } });
    const form = {
      grant_type: 'authorization_code', client_id: 'mcp-public-client', code: redirect.searchParams.get('code'),
      code_verifier: verifier, redirect_uri: REDIRECT_URI, resource: RESOURCE,
    };
    const other = await postForm(tokenUrl, form, { dpop: await proof(await dpopKey(), tokenUrl) });
    assert.equal(other.status, 400);
    assert.equal(other.body.error, 'invalid_grant');
  });
});

describe('with --dpop-nonce', () => {
  let server;
  let tokenUrl;
  before(async () => {
    server = await startServer('--dpop-nonce');
    tokenUrl = `${server.issuer}/token`;
  });
  after(() => server.stop());

  test('a proof without a nonce gets use_dpop_nonce and a DPoP-Nonce; the retry with it succeeds', async () => {
    const key = await dpopKey();
    const form = await codeGrant(server.issuer);
    const first = await postForm(tokenUrl, form, { dpop: await proof(key, tokenUrl) });
    assert.equal(first.status, 400);
    assert.equal(first.body.error, 'use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    assert.ok(nonce);
    const retry = await postForm(tokenUrl, form, { dpop: await proof(key, tokenUrl, { nonce }) });
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.equal(retry.body.token_type, 'DPoP');
  });

  test('Bearer token requests are unaffected', async () => {
    const { status, body } = await postForm(tokenUrl, await codeGrant(server.issuer));
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'Bearer');
  });
});
