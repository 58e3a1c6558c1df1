// RFC 9068 access tokens: `jwtVerify: { typ: 'at+jwt' }` refuses JWTs of any other type.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import express from 'express';
import { MCPAuth, MCPAuthTokenVerificationError, createVerifyJwt } from 'mcp-auth';

import { serve, startIssuer } from './support/servers.js';

const resource = 'https://notes.example.com/mcp';

describe("jwtVerify: { typ: 'at+jwt' }", () => {
  let iss;
  let app;
  const tokens = {};
  before(async () => {
    iss = await startIssuer();
    for (const [name, typ] of [
      ['at+jwt', 'at+jwt'],
      ['application/at+jwt', 'application/at+jwt'],
      ['AT+JWT', 'AT+JWT'],
      ['JWT', 'JWT'],
      ['absent', undefined],
    ]) {
      tokens[name] = await iss.mint({ aud: resource }, { header: { typ } });
    }
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: { resource, authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }] },
      },
    });
    const options = { resource, audience: resource, showErrorDetails: true };
    app = await serve(
      express()
        .get(
          '/strict',
          mcpAuth.bearerAuth('jwt', { ...options, jwtVerify: { typ: 'at+jwt' } }),
          (req, res) => res.json(req.auth)
        )
        .get('/lenient', mcpAuth.bearerAuth('jwt', options), (req, res) => res.json(req.auth))
    );
  });
  after(async () => {
    await app.close();
    await iss.close();
  });

  const get = async (route, token) => {
    const res = await fetch(`${app.url}${route}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return {
      status: res.status,
      body: await res.json(),
      challenge: res.headers.get('www-authenticate'),
    };
  };

  for (const name of ['at+jwt', 'application/at+jwt', 'AT+JWT']) {
    test(`accepts typ ${name}`, async () => {
      const { status, body } = await get('/strict', tokens[name]);
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.subject, 'user-1');
    });
  }

  for (const name of ['JWT', 'absent']) {
    test(`refuses typ ${name} with 401 invalid_token`, async () => {
      const { status, body, challenge } = await get('/strict', tokens[name]);
      assert.equal(status, 401);
      assert.equal(body.error, 'invalid_token');
      assert.match(JSON.stringify(body.cause), /typ/);
      assert.match(challenge, /^Bearer error="invalid_token"/);
      // Without the option the same token is fine.
      assert.equal((await get('/lenient', tokens[name])).status, 200);
    });
  }

  test('createVerifyJwt takes the same option', async () => {
    const verify = createVerifyJwt(iss.jwksUri, { typ: 'at+jwt' });
    assert.equal((await verify(tokens['at+jwt'])).subject, 'user-1');
    await assert.rejects(
      async () => verify(tokens.JWT),
      (e) => e instanceof MCPAuthTokenVerificationError && e.code === 'invalid_token'
    );
    const lenient = createVerifyJwt(iss.jwksUri);
    assert.equal((await lenient(tokens.JWT)).subject, 'user-1');
  });

  test('any other typ is enforced as jose does (media type, case-insensitive)', async () => {
    const plain = createVerifyJwt(iss.jwksUri, { typ: 'application/JWT' });
    assert.equal((await plain(tokens.JWT)).subject, 'user-1');
    await assert.rejects(
      async () => plain(tokens['at+jwt']),
      (e) => e instanceof MCPAuthTokenVerificationError && e.code === 'invalid_token'
    );
  });
});
