// Real Express apps on 127.0.0.1 against a local test issuer: the 'jwt' mode end to end.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import express from 'express';
import { SignJWT, base64url } from 'jose';
import { MCPAuth, MCPAuthBearerAuthError } from 'mcp-auth';

import { listen, close, startIssuer } from './support/servers.js';

const resource = 'https://mcp.example.com/mcp';
const prm = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
const enc = (o) => base64url.encode(JSON.stringify(o));
const now = () => Math.floor(Date.now() / 1000);

describe('bearerAuth("jwt") against a local issuer', () => {
  let iss;
  let server;
  let url;
  const logs = [];
  const logger = { debug: (message, meta) => logs.push({ message, meta }), warn: () => {} };
  const downstreamErrors = [];

  before(async () => {
    iss = await startIssuer();
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: { resource, authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }] },
      },
    });
    const app = express();
    const protect = mcpAuth.bearerAuth('jwt', {
      resource,
      audience: resource,
      requiredScopes: ['read'],
      logger,
    });
    assert.equal(protect.name, 'bearerAuthHandler');
    app.get('/p', protect, (req, res) => res.json(req.auth));
    app.get('/throws', protect, () => {
      // An auth error raised by the application itself is not an authentication failure.
      throw new MCPAuthBearerAuthError('missing_required_scopes');
    });
    app.use((err, _req, res, _next) => {
      downstreamErrors.push(err);
      res.status(599).json({ app: err.name });
    });
    // A larger header limit than Node's default, so oversized headers reach the middleware.
    server = http.createServer({ maxHeaderSize: 256 * 1024 }, app);
    url = await listen(server);
  });
  after(async () => {
    await close(server);
    await iss.close();
  });

  const get = async (header, path = '/p') => {
    const res = await fetch(`${url}${path}`, { headers: header ? { authorization: header } : {} });
    const text = await res.text();
    return {
      status: res.status,
      body: JSON.parse(text),
      challenge: res.headers.get('www-authenticate'),
    };
  };

  test('a valid token reaches the handler with its auth info', async () => {
    const token = await iss.mint({ aud: resource, sub: 'alice', scope: 'read write' });
    const { status, body, challenge } = await get(`Bearer ${token}`);
    assert.equal(status, 200);
    assert.equal(challenge, null);
    assert.equal(body.token, token);
    assert.equal(body.issuer, iss.issuer);
    assert.equal(body.subject, 'alice');
    assert.equal(body.clientId, 'client-1');
    assert.deepEqual(body.scopes, ['read', 'write']);
    assert.equal(body.audience, resource);
    assert.equal(typeof body.expiresAt, 'number');
    assert.equal(body.claims.sub, 'alice');
  });

  test('scheme is case-insensitive and extra spaces are tolerated', async () => {
    const token = await iss.mint({ aud: resource });
    assert.equal((await get(`bearer   ${token}`)).status, 200);
  });

  const bad = async () => {
    const ok = await iss.mint({ aud: resource });
    const [h, p, s] = ok.split('.');
    const pem = createPublicKey({ key: iss.jwk, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const hs256 = await new SignJWT({ iss: iss.issuer, sub: 'x', aud: resource, scope: 'read' })
      .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
      .sign(new TextEncoder().encode(pem));
    return [
      ['missing header', null, 401, 'missing_auth_header', null],
      [
        'another scheme',
        'Basic dXNlcjpwdw==',
        401,
        'invalid_auth_header_format',
        'invalid_request',
      ],
      ['no token', 'Bearer', 401, 'missing_bearer_token', 'invalid_request'],
      ['two tokens', 'Bearer a b', 401, 'invalid_auth_header_format', 'invalid_request'],
      [
        'oversized header',
        `Bearer ${'a'.repeat(70_000)}`,
        401,
        'invalid_auth_header_format',
        'invalid_request',
      ],
      [
        'oversized token',
        `Bearer ${'a'.repeat(40_000)}.b.c`,
        401,
        'invalid_token',
        'invalid_token',
      ],
      ['not a JWT', 'Bearer abc.def.ghi', 401, 'invalid_token', 'invalid_token'],
      [
        'expired',
        `Bearer ${await iss.mint({ aud: resource, exp: now() - 100 }, { expiresIn: null })}`,
        401,
        'invalid_token',
        'invalid_token',
      ],
      [
        'not yet valid',
        `Bearer ${await iss.mint({ aud: resource, nbf: now() + 1000 })}`,
        401,
        'invalid_token',
        'invalid_token',
      ],
      [
        'wrong issuer',
        `Bearer ${await iss.mint({ aud: resource, iss: 'https://evil.example.com' })}`,
        401,
        'invalid_issuer',
        'invalid_token',
      ],
      [
        'wrong audience',
        `Bearer ${await iss.mint({ aud: 'https://other.example.com' })}`,
        401,
        'invalid_audience',
        'invalid_token',
      ],
      [
        'missing scopes',
        `Bearer ${await iss.mint({ aud: resource, scope: 'write' })}`,
        403,
        'missing_required_scopes',
        'insufficient_scope',
      ],
      ['alg none', `Bearer ${enc({ alg: 'none' })}.${p}.`, 401, 'invalid_token', 'invalid_token'],
      [
        'HS256 signed with the RSA public key',
        `Bearer ${hs256}`,
        401,
        'invalid_token',
        'invalid_token',
      ],
      [
        'unknown kid',
        `Bearer ${await iss.mint({ aud: resource }, { header: { kid: 'nope' } })}`,
        401,
        'invalid_token',
        'invalid_token',
      ],
      [
        'tampered payload',
        `Bearer ${h}.${enc({ ...JSON.parse(Buffer.from(p, 'base64url')), sub: 'admin' })}.${s}`,
        401,
        'invalid_token',
        'invalid_token',
      ],
      [
        'tampered signature',
        `Bearer ${h}.${p}.${s.slice(0, -4)}AAAA`,
        401,
        'invalid_token',
        'invalid_token',
      ],
    ];
  };

  test('every bad input gets its 401/403 and documented body, never a 500', async () => {
    for (const [name, header, status, code, challengeCode] of await bad()) {
      logs.length = 0;
      const res = await get(header);
      assert.equal(res.status, status, name);
      assert.equal(res.body.error, code, name);
      assert.equal(typeof res.body.error_description, 'string', name);
      assert.ok(res.challenge.startsWith('Bearer '), name);
      assert.ok(res.challenge.endsWith(`scope="read", resource_metadata="${prm}"`), name);
      if (challengeCode) {
        assert.ok(
          res.challenge.startsWith(`Bearer error="${challengeCode}", error_description="`),
          name
        );
      } else {
        assert.ok(!res.challenge.includes('error='), name);
      }
      if (code === 'missing_required_scopes') {
        assert.deepEqual(res.body.missing_scopes, ['read']);
      }
      // The logger says why, and never carries the token.
      assert.equal(logs.length, 1, name);
      assert.equal(logs[0].meta.code, code, name);
      const token = header?.split(' ')[1];
      if (token && token.length > 3) {
        assert.ok(!JSON.stringify(logs).includes(token), name);
      }
    }
  });

  test('errors raised by the application propagate untouched', async () => {
    const token = await iss.mint({ aud: resource });
    const res = await get(`Bearer ${token}`, '/throws');
    assert.equal(res.status, 599);
    assert.equal(downstreamErrors.length, 1);
    assert.ok(downstreamErrors[0] instanceof MCPAuthBearerAuthError);
  });
});

describe('lazy discovery', () => {
  test('concurrent first requests share one metadata fetch and one JWKS fetch', async () => {
    const iss = await startIssuer({ delayMs: 150 });
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: { resource, authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }] },
      },
    });
    // Nothing is fetched at configuration time.
    assert.equal(iss.hits.size, 0);
    const app = express();
    app.get('/p', mcpAuth.bearerAuth('jwt', { resource, audience: resource }), (req, res) =>
      res.json({ sub: req.auth.subject })
    );
    const server = http.createServer(app);
    const url = await listen(server);
    try {
      const tokens = await Promise.all(
        Array.from({ length: 8 }, (_, i) => iss.mint({ aud: resource, sub: `user-${i}` }))
      );
      const results = await Promise.all(
        tokens.map((t) =>
          fetch(`${url}/p`, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.json())
        )
      );
      assert.deepEqual(
        results.map((r) => r.sub),
        tokens.map((_, i) => `user-${i}`)
      );
      assert.equal(iss.hits.get('/.well-known/openid-configuration'), 1);
      assert.equal(iss.hits.get('/jwks'), 1);
    } finally {
      await close(server);
      await iss.close();
    }
  });

  test('an unreachable issuer is a 500 server_error without challenge', async () => {
    const dead = http.createServer();
    const deadUrl = await listen(dead);
    await close(dead);
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: { resource, authorizationServers: [{ issuer: deadUrl, type: 'oauth' }] },
      },
    });
    const app = express();
    app.get('/p', mcpAuth.bearerAuth('jwt', { resource, showErrorDetails: true }), (_req, res) =>
      res.json({})
    );
    const server = http.createServer(app);
    const url = await listen(server);
    try {
      const token = `${enc({ alg: 'RS256' })}.${enc({ iss: deadUrl, sub: 'x' })}.c2ln`;
      const res = await fetch(`${url}/p`, { headers: { authorization: `Bearer ${token}` } });
      const body = await res.json();
      assert.equal(res.status, 500);
      assert.equal(res.headers.get('www-authenticate'), null);
      assert.equal(body.error, 'server_error');
      assert.equal(body.error_description, 'An error occurred with the authorization server.');
      assert.equal(body.cause.error, 'fetch_server_config_error');
    } finally {
      await close(server);
    }
  });
});
