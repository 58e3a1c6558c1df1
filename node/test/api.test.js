// The documented API surface: exports, error classes, MCPAuth configuration rules, legacy mode,
// metadata fetching and validation, createVerifyJwt's key inputs, handleBearerAuth.
import assert from 'node:assert/strict';
import { generateKeyPairSync, createHmac, createSecretKey } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import express from 'express';
import { SignJWT, createRemoteJWKSet, exportJWK } from 'jose';
import * as mcpAuthModule from 'mcp-auth';
import { z } from 'zod';

import { listen, close, serve, startIssuer } from './support/servers.js';

const {
  MCPAuth,
  MCPAuthError,
  MCPAuthConfigError,
  MCPAuthAuthServerError,
  MCPAuthBearerAuthError,
  MCPAuthTokenVerificationError,
  authServerErrorDescription,
  bearerAuthErrorDescription,
  tokenVerificationErrorDescription,
  authorizationServerMetadataSchema,
  camelCaseAuthorizationServerMetadataSchema,
  protectedResourceMetadataSchema,
  camelCaseProtectedResourceMetadataSchema,
  defaultValues,
  serverMetadataPaths,
  getIssuer,
  handleBearerAuth,
  fetchServerConfig,
  fetchServerConfigByWellKnownUrl,
  validateServerConfig,
  createVerifyJwt,
} = mcpAuthModule;

test('the root exports every documented runtime value', () => {
  const expected = [
    'authorizationServerMetadataSchema',
    'camelCaseAuthorizationServerMetadataSchema',
    'defaultValues',
    'protectedResourceMetadataSchema',
    'camelCaseProtectedResourceMetadataSchema',
    'getIssuer',
    'MCPAuthError',
    'MCPAuthConfigError',
    'authServerErrorDescription',
    'MCPAuthAuthServerError',
    'bearerAuthErrorDescription',
    'MCPAuthBearerAuthError',
    'tokenVerificationErrorDescription',
    'MCPAuthTokenVerificationError',
    'handleBearerAuth',
    'serverMetadataPaths',
    'fetchServerConfigByWellKnownUrl',
    'fetchServerConfig',
    'validateServerConfig',
    'createVerifyJwt',
    'MCPAuth',
  ];
  // Beyond upstream: emptying the process's key and metadata caches.
  expected.push('clearCaches');
  // And the headers a DPoP route adds to a web answer (`DPoP-Nonce`).
  expected.push('answerHeaders', 'withAnswerHeaders');
  // Plus the error name the bearer-auth documentation uses; nothing internal leaks.
  assert.deepEqual(
    Object.keys(mcpAuthModule).sort(),
    [...expected, 'MCPAuthJwtVerificationError'].sort()
  );
});

describe('errors', () => {
  test('names, messages, codes and toJson', () => {
    const bearer = new MCPAuthBearerAuthError('missing_required_scopes', {
      missingScopes: ['read'],
      uri: new URL('https://docs.example.com/e'),
    });
    assert.ok(bearer instanceof MCPAuthError && bearer instanceof Error);
    assert.equal(bearer.name, 'MCPAuthBearerAuthError');
    assert.equal(bearer.code, 'missing_required_scopes');
    assert.equal(
      bearer.message,
      'The token does not contain the necessary scopes for this request.'
    );
    assert.deepEqual(bearer.toJson(), {
      error: 'missing_required_scopes',
      errorDescription: 'The token does not contain the necessary scopes for this request.',
      errorUri: 'https://docs.example.com/e',
      missingScopes: ['read'],
    });
    assert.deepEqual(
      new MCPAuthBearerAuthError('invalid_issuer', { expected: 'a', actual: 'b' }).toJson(true),
      {
        error: 'invalid_issuer',
        errorDescription: 'The token issuer does not match the expected issuer.',
        cause: { expected: 'a', actual: 'b' },
      }
    );

    const server = new MCPAuthAuthServerError('invalid_server_config', { cause: 'x' });
    assert.equal(server.name, 'MCPAuthAuthServerError');
    assert.equal(server.message, 'The server configuration does not match the MCP specification.');
    assert.deepEqual(server.cause, { cause: 'x' });
    assert.deepEqual(server.toJson(), {
      error: 'invalid_server_config',
      errorDescription: server.message,
    });
    assert.equal(
      new MCPAuthAuthServerError('whatever').message,
      'An error occurred with the authorization server.'
    );

    const token = new MCPAuthTokenVerificationError('token_verification_failed');
    assert.equal(token.name, 'MCPAuthTokenVerificationError');
    assert.equal(token.message, 'Token verification failed due to an error.');
    assert.equal(
      new MCPAuthTokenVerificationError('x').message,
      'An error occurred while verifying the token.'
    );
    assert.equal(
      new MCPAuthBearerAuthError('x').message,
      'An error occurred with the Bearer auth.'
    );

    const config = new MCPAuthConfigError('some_code', 'Some message.');
    assert.equal(config.name, 'MCPAuthConfigError');
    assert.equal(String(config), 'MCPAuthConfigError: Some message.');
    assert.deepEqual(config.toJson(true), {
      error: 'some_code',
      errorDescription: 'Some message.',
    });

    assert.equal(
      bearerAuthErrorDescription.missing_auth_header,
      'Missing `Authorization` header. Please provide a valid bearer token.'
    );
    assert.equal(
      authServerErrorDescription.missing_jwks_uri,
      'The server metadata does not contain a JWKS URI, which is required for JWT verification.'
    );
    assert.equal(
      tokenVerificationErrorDescription.invalid_token,
      'The provided token is invalid or malformed.'
    );
    assert.ok(Object.isFrozen(bearerAuthErrorDescription));
  });
});

describe('schemas and constants', () => {
  test('zod 3 schemas strip unknown keys; constants are frozen', () => {
    const parsed = authorizationServerMetadataSchema.parse({
      issuer: 'i',
      authorization_endpoint: 'a',
      token_endpoint: 't',
      response_types_supported: ['code'],
      extra: 1,
    });
    assert.equal('extra' in parsed, false);
    assert.ok(
      camelCaseAuthorizationServerMetadataSchema.safeParse({
        issuer: 'i',
        authorizationEndpoint: 'a',
        tokenEndpoint: 't',
        responseTypesSupported: ['code'],
        jwksUri: 'j',
      }).success
    );
    assert.ok(
      protectedResourceMetadataSchema.safeParse({
        resource: 'r',
        dpop_bound_access_tokens_required: true,
      }).success
    );
    assert.ok(
      camelCaseProtectedResourceMetadataSchema.safeParse({ resource: 'r', scopesSupported: ['a'] })
        .success
    );
    assert.ok(authorizationServerMetadataSchema instanceof z.ZodObject);
    assert.deepEqual(defaultValues, {
      grantTypesSupported: ['authorization_code', 'implicit'],
      responseModesSupported: ['query', 'fragment'],
    });
    assert.deepEqual(serverMetadataPaths, {
      oauth: '/.well-known/oauth-authorization-server',
      oidc: '/.well-known/openid-configuration',
    });
    assert.ok(Object.isFrozen(defaultValues) && Object.isFrozen(serverMetadataPaths));
    assert.equal(getIssuer({ issuer: 'x', type: 'oidc' }), 'x');
    assert.equal(getIssuer({ metadata: { issuer: 'y' }, type: 'oidc' }), 'y');
  });
});

describe('metadata fetching and validation', () => {
  let iss;
  let failing;
  let failingUrl;
  before(async () => {
    iss = await startIssuer();
    failing = http.createServer((_req, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    failingUrl = await listen(failing);
  });
  after(async () => {
    await iss.close();
    await close(failing);
  });

  test('fetchServerConfig returns camelCase metadata', async () => {
    const config = await fetchServerConfig(iss.issuer, { type: 'oidc' });
    assert.equal(config.type, 'oidc');
    assert.equal(config.metadata.issuer, iss.issuer);
    assert.equal(config.metadata.jwksUri, iss.jwksUri);
    assert.deepEqual(config.metadata.codeChallengeMethodsSupported, ['S256']);
    const oauth = await fetchServerConfig(iss.issuer, { type: 'oauth' });
    assert.equal(oauth.type, 'oauth');
    assert.equal(iss.hits.get('/.well-known/oauth-authorization-server') >= 1, true);
    const result = validateServerConfig(config);
    assert.deepEqual(result, { isValid: true, warnings: [] });
  });

  test('transpileData may be sync or async and gets snake_case data', async () => {
    const sync = await fetchServerConfig(iss.issuer, {
      type: 'oidc',
      transpileData: (data) => ({ ...data, response_types_supported: ['code', 'token'] }),
    });
    assert.deepEqual(sync.metadata.responseTypesSupported, ['code', 'token']);
    const asyncResult = await fetchServerConfigByWellKnownUrl(
      `${iss.issuer}/.well-known/openid-configuration`,
      {
        type: 'oidc',
        transpileData: async (data) => {
          assert.ok('jwks_uri' in data);
          return { ...data, scopes_supported: ['x'] };
        },
      }
    );
    assert.deepEqual(asyncResult.metadata.scopesSupported, ['x']);
  });

  test('failures keep their classes and codes across the async boundary', async () => {
    await assert.rejects(
      fetchServerConfigByWellKnownUrl(`${failingUrl}/meta`, { type: 'oauth' }),
      (e) => {
        assert.ok(e instanceof MCPAuthConfigError);
        assert.equal(e.code, 'fetch_server_config_error');
        assert.ok(e.message.startsWith(`Failed to fetch server config from ${failingUrl}/meta`));
        return true;
      }
    );
    await assert.rejects(
      fetchServerConfig(iss.issuer, {
        type: 'oidc',
        transpileData: (d) => ({ ...d, issuer: 'https://other.example.com' }),
      }),
      (e) => e instanceof MCPAuthAuthServerError && e.code === 'invalid_server_metadata'
    );
    const relaxed = await fetchServerConfig(iss.issuer, {
      type: 'oidc',
      checkIssuer: false,
      transpileData: (d) => ({ ...d, issuer: 'https://other.example.com' }),
    });
    assert.equal(relaxed.metadata.issuer, 'https://other.example.com');
    await assert.rejects(
      fetchServerConfig(iss.issuer, { type: 'oidc', transpileData: () => ({ issuer: 1 }) }),
      (e) => e instanceof MCPAuthAuthServerError && e.code === 'invalid_server_metadata'
    );
  });

  test('validateServerConfig: isValid always present, successes only when verbose', () => {
    const result = validateServerConfig({
      type: 'oauth',
      metadata: {
        issuer: 'https://i',
        authorizationEndpoint: 'a',
        tokenEndpoint: 't',
        responseTypesSupported: ['token'],
      },
    });
    assert.equal(result.isValid, false);
    assert.deepEqual(
      result.errors.map((e) => e.code),
      ['code_response_type_not_supported', 'pkce_not_supported']
    );
    assert.deepEqual(
      result.warnings.map((e) => e.code),
      ['dynamic_registration_not_supported']
    );
    assert.equal('successes' in result, false);
  });
});

describe('MCPAuth configuration', () => {
  const metadata = {
    issuer: 'https://issuer.example.com',
    authorizationEndpoint: 'https://issuer.example.com/a',
    tokenEndpoint: 'https://issuer.example.com/t',
    responseTypesSupported: ['code'],
    codeChallengeMethodsSupported: ['S256'],
    registrationEndpoint: 'https://issuer.example.com/r',
    jwksUri: 'https://issuer.example.com/jwks',
  };
  const server = { metadata, type: 'oidc' };
  const cause = (fn) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof MCPAuthAuthServerError);
      assert.equal(e.code, 'invalid_server_config');
      return e.cause;
    }
    assert.fail('did not throw');
  };
  const quiet = { warn: () => {} };

  test('configuration errors say what is wrong', () => {
    assert.deepEqual(
      cause(() => new MCPAuth({})),
      { cause: 'No authorization server or protected resource metadata is provided.' }
    );
    const r = 'https://api.example.com';
    assert.deepEqual(
      cause(
        () =>
          new MCPAuth({
            protectedResources: [{ metadata: { resource: r } }, { metadata: { resource: r } }],
          })
      ),
      { cause: 'The resource metadata (`https://api.example.com`) is duplicated.' }
    );
    assert.deepEqual(
      cause(
        () =>
          new MCPAuth({
            protectedResources: {
              metadata: {
                resource: r,
                authorizationServers: [server, { issuer: metadata.issuer, type: 'oidc' }],
              },
            },
          })
      ),
      {
        cause:
          'The authorization server (`https://issuer.example.com`) for resource `https://api.example.com` is duplicated.',
      }
    );
    const invalid = cause(
      () =>
        new MCPAuth({
          protectedResources: {
            metadata: {
              resource: r,
              authorizationServers: [
                {
                  type: 'oidc',
                  metadata: { ...metadata, codeChallengeMethodsSupported: undefined },
                },
              ],
            },
          },
        })
    );
    assert.deepEqual(
      invalid.errors.map((e) => e.code),
      ['pkce_not_supported']
    );

    const auth = new MCPAuth({
      protectedResources: { metadata: { resource: r, authorizationServers: [server] } },
    });
    assert.deepEqual(
      cause(() => auth.bearerAuth('jwt')),
      {
        cause:
          'A `resource` must be specified in the `bearerAuth` configuration when using a `protectedResources` configuration.',
      }
    );
    assert.match(
      cause(() => auth.bearerAuth('jwt', { resource: 'https://nope.example.com' })).cause,
      /^No token verifier found for the specified resource: `https:\/\/nope.example.com`/
    );
    assert.deepEqual(
      cause(() => auth.delegatedRouter()),
      { cause: '`delegatedRouter` is not available in `resource server` mode.' }
    );
    assert.throws(() => auth.bearerAuth('opaque', { resource: r }), TypeError);
    assert.equal(auth.bearerAuth(() => ({}), { resource: r }).name, 'bearerAuthHandler');
    const empty = new MCPAuth({ protectedResources: [] });
    assert.ok(empty.protectedResourceMetadataRouter());

    const legacy = new MCPAuth({ server, logger: quiet });
    assert.deepEqual(
      cause(() => legacy.protectedResourceMetadataRouter()),
      {
        cause: '`protectedResourceMetadataRouter` is not available in `authorization server` mode.',
      }
    );
  });

  test('warnings go to the logger', () => {
    const warnings = [];
    new MCPAuth({
      logger: { warn: (m) => warnings.push(m) },
      protectedResources: {
        metadata: {
          resource: 'https://api.example.com',
          authorizationServers: [
            { type: 'oidc', metadata: { ...metadata, registrationEndpoint: undefined } },
          ],
        },
      },
    });
    assert.deepEqual(warnings, [
      'The authorization server (issuer: `https://issuer.example.com`) configuration has warnings:\n\n  - Dynamic Client Registration (RFC 7591) is not supported by the server.\n',
    ]);
  });

  test('legacy mode serves the authorization server metadata (fetched once) and protects routes', async () => {
    const iss = await startIssuer();
    const legacy = new MCPAuth({ server: { issuer: iss.issuer, type: 'oidc' }, logger: quiet });
    const app = express();
    app.use(legacy.delegatedRouter());
    app.get('/me', legacy.bearerAuth('jwt', { requiredScopes: ['read'] }), (req, res) =>
      res.json(req.auth)
    );
    const s = await serve(app);
    try {
      const [a, b] = await Promise.all(
        [1, 2].map(() => fetch(`${s.url}/.well-known/oauth-authorization-server`))
      );
      assert.equal(a.status, 200);
      assert.equal(a.headers.get('access-control-allow-origin'), '*');
      const body = await a.json();
      assert.equal(body.jwks_uri, iss.jwksUri);
      assert.deepEqual(await b.json(), body);
      assert.equal(iss.hits.get('/.well-known/openid-configuration'), 1);
      const token = await iss.mint({});
      const me = await fetch(`${s.url}/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(me.status, 200);
      // Serving the metadata and verifying tokens shared one fetch.
      assert.equal(iss.hits.get('/.well-known/openid-configuration'), 1);
      const none = await fetch(`${s.url}/me`);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer scope="read"');
      const preflight = await fetch(`${s.url}/.well-known/oauth-authorization-server`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
      });
      assert.equal(preflight.status, 204);
    } finally {
      await s.close();
      await iss.close();
    }
  });
});

describe('createVerifyJwt', () => {
  let iss;
  before(async () => {
    iss = await startIssuer();
  });
  after(() => iss.close());

  const expectClaims = (info, token) => {
    assert.equal(info.token, token);
    assert.equal(info.issuer, iss.issuer);
    assert.equal(info.subject, 'user-1');
    assert.equal(info.clientId, 'client-1');
    assert.deepEqual(info.scopes, ['read', 'write']);
  };

  test('accepts a JWKS URL (string or URL), a JWK Set, a JWK, a KeyObject, a CryptoKey and a key function', async () => {
    const token = await iss.mint({});
    const inputs = [
      iss.jwksUri,
      new URL(iss.jwksUri),
      { keys: [iss.jwk] },
      iss.jwk,
      iss.publicKey,
      createRemoteJWKSet(new URL(iss.jwksUri)),
      async () => iss.publicKey,
    ];
    for (const input of inputs) {
      expectClaims(await createVerifyJwt(input)(token), token);
    }
    // With the keys at hand the answer is synchronous: no promise on the hot path.
    const sync = createVerifyJwt(iss.jwk)(token);
    assert.equal(typeof sync.then, 'undefined');
    expectClaims(sync, token);
    // A JWKS URL: the first call fetches (a promise), later ones use the cached keys.
    const remote = createVerifyJwt(`${iss.jwksUri}?fresh`);
    const first = remote(token);
    assert.equal(typeof first.then, 'function');
    expectClaims(await first, token);
    const cached = remote(token);
    assert.equal(typeof cached.then, 'undefined');
    expectClaims(cached, token);
  });

  test('node KeyObjects and HMAC secrets', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const es = await new SignJWT({ iss: 'https://i.example.com', sub: 's' })
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-1' })
      .sign(privateKey);
    assert.equal((await createVerifyJwt(publicKey)(es)).subject, 's');
    assert.equal((await createVerifyJwt(privateKey)(es)).subject, 's');
    assert.equal(
      (await createVerifyJwt(await exportJWK(publicKey))(es)).issuer,
      'https://i.example.com'
    );

    const secret = new TextEncoder().encode('a-very-long-shared-secret-for-hs256-tests!');
    // A key given on its own verifies whatever kid the token names.
    const hs = await new SignJWT({ iss: 'https://i.example.com', sub: 'h', scope: ['a', 'b'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'k-9' })
      .sign(secret);
    const info = await createVerifyJwt(secret)(hs);
    assert.deepEqual(info.scopes, ['a', 'b']);
    assert.equal((await createVerifyJwt(() => secret)(hs)).subject, 'h');
    assert.equal((await createVerifyJwt(createSecretKey(secret))(hs)).subject, 'h');
  });

  test('claims reach the AuthInfo exactly as the token carries them', async () => {
    const secret = new TextEncoder().encode('a-very-long-shared-secret-for-hs256-tests!');
    const b64 = (text) => Buffer.from(text).toString('base64url');
    const sign = (payload) => {
      const input = `${b64('{"alg":"HS256"}')}.${b64(payload)}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };
    const verify = createVerifyJwt(secret);
    const payload =
      '{"iss":"https://i.example.com","sub":"s","2":"index-like","n":-1.5e-7,"z":-0,' +
      '"safe":9007199254740991,"deep":{"a":[1,"x",null,true,{"b":[]}]},"t":"\\u00e9\\ud83d\\ude00\\n\\""}';
    const token = sign(payload);
    const info = await verify(token);
    assert.deepEqual(Object.keys(info), [
      'token',
      'issuer',
      'clientId',
      'scopes',
      'subject',
      'claims',
    ]);
    assert.equal(info.token, token);
    assert.equal(info.clientId, '');
    assert.deepEqual(info.scopes, []);
    assert.deepEqual(info.claims, JSON.parse(payload));
    assert.deepEqual(Object.keys(info.claims), Object.keys(JSON.parse(payload)));
    // Integers past 2^53 arrive as BigInts, as napi has always handed them over.
    const big = await verify(
      sign('{"iss":"https://i.example.com","sub":"s","big":9007199254740993}')
    );
    assert.equal(big.claims.big, 9007199254740993n);
    // A `__proto__` claim never reaches Object.prototype.
    await verify(sign('{"iss":"https://i.example.com","sub":"s","__proto__":{"polluted":true}}'));
    assert.equal({}.polluted, undefined);
    // 'jwt' mode through bearerAuth builds the same AuthInfo as createVerifyJwt.
    const app = express();
    const mcpAuth = new MCPAuth({
      server: { issuer: iss.issuer, type: 'oidc' },
      logger: { warn: () => {} },
    });
    app.get('/', mcpAuth.bearerAuth('jwt'), (req, res) => {
      res.json({ keys: Object.keys(req.auth), auth: req.auth });
    });
    const s = await serve(app);
    try {
      const minted = await iss.mint({ aud: ['a', 'b'], client_id: 'c', scope: 'x y' });
      const expected = await createVerifyJwt(iss.jwksUri)(minted);
      const res = await fetch(`${s.url}/`, { headers: { authorization: `Bearer ${minted}` } });
      const body = await res.json();
      assert.deepEqual(body.keys, Object.keys(expected));
      assert.deepEqual(body.auth, JSON.parse(JSON.stringify(expected)));
      assert.deepEqual(expected.audience, ['a', 'b']);
      assert.deepEqual(expected.scopes, ['x', 'y']);
    } finally {
      await s.close();
    }
  });

  test('rejections are MCPAuthTokenVerificationError with invalid_token', async () => {
    const verify = createVerifyJwt(iss.jwksUri);
    const expired = await iss.mint(
      { exp: Math.floor(Date.now() / 1000) - 10 },
      { expiresIn: null }
    );
    const noSub = await iss.mint({ sub: undefined });
    for (const bad of [expired, noSub, 'a.b.c', `${expired.slice(0, -3)}abc`]) {
      await assert.rejects(
        async () => verify(bad),
        (e) => {
          assert.ok(e instanceof MCPAuthTokenVerificationError, String(e));
          assert.equal(e.code, 'invalid_token');
          return true;
        }
      );
    }
    // jose's options: tolerance, issuer and audience.
    const tolerant = createVerifyJwt(iss.jwksUri, { clockTolerance: '1 minute' });
    assert.equal((await tolerant(expired)).subject, 'user-1');
    await assert.rejects(
      async () =>
        createVerifyJwt(iss.jwksUri, { issuer: 'https://x.example.com' })(await iss.mint({})),
      MCPAuthTokenVerificationError
    );
    await assert.rejects(
      async () =>
        createVerifyJwt(iss.jwksUri, { audience: 'urn:x' })(await iss.mint({ aud: 'urn:y' })),
      MCPAuthTokenVerificationError
    );
    assert.equal(
      (
        await createVerifyJwt(iss.jwksUri, { audience: 'urn:x' })(
          await iss.mint({ aud: ['urn:y', 'urn:x'] })
        )
      ).subject,
      'user-1'
    );
    await assert.rejects(
      async () => createVerifyJwt(iss.jwksUri, { algorithms: ['ES256'] })(await iss.mint({})),
      MCPAuthTokenVerificationError
    );
    await assert.rejects(
      async () =>
        createVerifyJwt(() => {
          throw Object.assign(new Error('no key'), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
        })(await iss.mint({})),
      (e) => {
        assert.ok(e instanceof MCPAuthTokenVerificationError);
        assert.equal(e.cause.code, 'ERR_JWKS_NO_MATCHING_KEY');
        return true;
      }
    );
  });
});

describe('handleBearerAuth', () => {
  test('validates its configuration', () => {
    const verifyAccessToken = () => ({});
    assert.throws(() => handleBearerAuth({ issuer: 'https://i' }), {
      name: 'TypeError',
      message:
        '`verifyAccessToken` must be a function that takes a token and returns an `AuthInfo` object.',
    });
    assert.throws(() => handleBearerAuth({ verifyAccessToken, issuer: 1 }), {
      message: '`issuer` must be either a string or a function that validates the token issuer.',
    });
    assert.throws(() => handleBearerAuth({ verifyAccessToken, issuer: 'not a url' }), {
      message: '`issuer` must be a valid URL.',
    });
  });

  test('a custom verifier with a string issuer, a validator function, and no scopes in its answer', async () => {
    const app = express();
    const seen = [];
    app.get(
      '/s',
      handleBearerAuth({
        verifyAccessToken: async (token) => ({
          token,
          issuer: 'https://i.example.com',
          clientId: '',
          scopes: [],
        }),
        issuer: 'https://i.example.com',
        requiredScopes: ['read'],
      }),
      (_req, res) => res.json({})
    );
    app.get(
      '/f',
      handleBearerAuth({
        verifyAccessToken: (token) => ({ token, issuer: 'https://j.example.com', clientId: '' }),
        issuer: (iss) => {
          seen.push(iss);
          throw new MCPAuthBearerAuthError('invalid_issuer', { expected: 'x', actual: iss });
        },
        showErrorDetails: true,
      }),
      (_req, res) => res.json({})
    );
    app.get(
      '/n',
      handleBearerAuth({
        // A verifier that returns no scopes is a 403 when scopes are required, not a crash.
        verifyAccessToken: (token) => ({ token, issuer: 'https://i.example.com', clientId: '' }),
        issuer: 'https://i.example.com',
        requiredScopes: ['read'],
      }),
      (_req, res) => res.json({})
    );
    app.get(
      '/e',
      handleBearerAuth({
        verifyAccessToken: () => {
          throw new Error('a bug');
        },
        issuer: 'https://i.example.com',
      }),
      (_req, res) => res.json({})
    );
    app.use((err, _req, res, _next) => res.status(555).json({ message: err.message }));
    const s = await serve(app);
    try {
      const call = (p) => fetch(`${s.url}${p}`, { headers: { authorization: 'Bearer t' } });
      assert.equal((await call('/s')).status, 403);
      const f = await call('/f');
      assert.equal(f.status, 401);
      assert.deepEqual(await f.json(), {
        error: 'invalid_issuer',
        error_description: 'The token issuer does not match the expected issuer.',
        cause: { expected: 'x', actual: 'https://j.example.com' },
      });
      assert.deepEqual(seen, ['https://j.example.com']);
      const n = await call('/n');
      assert.equal(n.status, 403);
      assert.deepEqual((await n.json()).missing_scopes, ['read']);
      // Errors that are not the package's own propagate to Express.
      const e = await call('/e');
      assert.equal(e.status, 555);
      assert.deepEqual(await e.json(), { message: 'a bug' });
    } finally {
      await s.close();
    }
  });
});

test('the issuer validator bearerAuth hands to custom verifiers throws invalid_issuer', async () => {
  const { MCPAuth: Auth } = mcpAuthModule;
  const auth = new Auth({
    protectedResources: {
      metadata: {
        resource: 'https://api.example.com',
        authorizationServers: [
          { issuer: 'https://a.example.com', type: 'oidc' },
          { issuer: 'https://b.example.com', type: 'oidc' },
        ],
      },
    },
  });
  let validator;
  const handler = auth.bearerAuth(() => ({}), {
    resource: 'https://api.example.com',
    // The verifier names no audience; this test is about the issuer check alone.
    acceptAnyAudience: true,
    // A caller-provided issuer check replaces the configured issuers, as upstream.
    issuer: (iss) => {
      validator = iss;
    },
  });
  assert.equal(handler.name, 'bearerAuthHandler');
  const app = express();
  app.get('/', handler, (_req, res) => res.json({ ok: true }));
  app.get(
    '/trusted',
    auth.bearerAuth(
      (token) => ({ token, issuer: 'https://c.example.com', clientId: '', scopes: [] }),
      {
        resource: 'https://api.example.com',
        showErrorDetails: true,
      }
    ),
    (_req, res) => res.json({ ok: true })
  );
  const s = await serve(app);
  try {
    const res = await fetch(s.url, { headers: { authorization: 'Bearer x' } });
    // The verifier returned no issuer: the custom check saw it, nothing else rejected it.
    assert.equal(res.status, 200);
    assert.equal(validator, undefined);
    const untrusted = await fetch(`${s.url}/trusted`, { headers: { authorization: 'Bearer x' } });
    assert.equal(untrusted.status, 401);
    assert.deepEqual(await untrusted.json(), {
      error: 'invalid_issuer',
      error_description: 'The token issuer does not match the expected issuer.',
      cause: {
        expected: 'https://a.example.com, https://b.example.com',
        actual: 'https://c.example.com',
      },
    });
  } finally {
    await s.close();
  }
});

test("jose's claim options apply in 'jwt' mode and in createVerifyJwt", async () => {
  const iss = await startIssuer();
  const resource = 'https://api.example.com';
  try {
    const auth = new MCPAuth({
      protectedResources: {
        metadata: { resource, authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }] },
      },
    });
    const app = express();
    app.get(
      '/',
      auth.bearerAuth('jwt', {
        resource,
        acceptAnyAudience: true,
        jwtVerify: { requiredClaims: ['tenant'], maxTokenAge: '10 minutes' },
      }),
      (req, res) => res.json({ tenant: req.auth.claims.tenant })
    );
    const s = await serve(app);
    try {
      const call = async (token) => fetch(s.url, { headers: { authorization: `Bearer ${token}` } });
      const ok = await call(await iss.mint({ tenant: 't1' }));
      assert.deepEqual(await ok.json(), { tenant: 't1' });
      const missing = await call(await iss.mint({}));
      assert.equal(missing.status, 401);
      assert.equal((await missing.json()).error, 'invalid_token');
      assert.match(missing.headers.get('www-authenticate'), /^Bearer error="invalid_token"/);
      const old = await call(
        await iss.mint({ tenant: 't1', iat: Math.floor(Date.now() / 1000) - 3600 })
      );
      assert.equal(old.status, 401);
    } finally {
      await s.close();
    }
    const verify = createVerifyJwt(iss.jwksUri, { subject: 'user-1', requiredClaims: ['scope'] });
    assert.equal((await verify(await iss.mint({}))).subject, 'user-1');
    await assert.rejects(
      async () => verify(await iss.mint({ sub: 'other' })),
      (e) => {
        assert.ok(e instanceof MCPAuthTokenVerificationError);
        assert.equal(e.cause.code, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
        return true;
      }
    );
  } finally {
    await iss.close();
  }
});

test('resource paths with route-pattern characters are served literally', async () => {
  const resource = 'https://x.example.com/api:v1/*/(x)';
  const auth = new MCPAuth({ protectedResources: { metadata: { resource } } });
  const s = await serve(express().use(auth.protectedResourceMetadataRouter()));
  try {
    const literal = await fetch(`${s.url}/.well-known/oauth-protected-resource/api:v1/*/(x)`);
    assert.deepEqual(await literal.json(), { resource });
    const other = await fetch(`${s.url}/.well-known/oauth-protected-resource/apiXv1/a/(x)`);
    assert.equal(other.status, 404);
  } finally {
    await s.close();
  }
});

test('a second bearerAuth on the same request warns before replacing req.auth', async () => {
  const warnings = [];
  const logger = { warn: (m) => warnings.push(m) };
  const verify = (token) => ({ token, issuer: 'https://i.example.com', clientId: '', scopes: [] });
  const first = handleBearerAuth({ verifyAccessToken: verify, issuer: 'https://i.example.com' });
  const second = handleBearerAuth({
    verifyAccessToken: verify,
    issuer: 'https://i.example.com',
    logger,
  });
  const s = await serve(express().get('/', first, second, (req, res) => res.json(req.auth)));
  try {
    const res = await fetch(s.url, { headers: { authorization: 'Bearer t' } });
    assert.equal(res.status, 200);
    assert.deepEqual(warnings, [
      'Request already contains auth info and will be overwritten. Please double-check if this is intended.',
    ]);
  } finally {
    await s.close();
  }
});

test('causes thrown by custom verifiers reach error bodies as data', async () => {
  const s = await serve(
    express().get(
      '/',
      handleBearerAuth({
        verifyAccessToken: () => {
          throw new MCPAuthTokenVerificationError('invalid_token', {
            code: 'ERR_JWT_EXPIRED',
            cause: new Error('"exp" claim timestamp check failed'),
          });
        },
        issuer: 'https://i.example.com',
        showErrorDetails: true,
      }),
      (_req, res) => res.json({})
    )
  );
  try {
    const res = await fetch(s.url, { headers: { authorization: 'Bearer t' } });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), {
      error: 'invalid_token',
      error_description: 'The provided token is invalid or malformed.',
      cause: { code: 'ERR_JWT_EXPIRED', cause: '"exp" claim timestamp check failed' },
    });
  } finally {
    await s.close();
  }
});

test('bearerAuth checks the audience by default and warns once when told not to', () => {
  const warnings = [];
  const auth = new MCPAuth({
    logger: { warn: (m) => warnings.push(m) },
    protectedResources: {
      metadata: {
        resource: 'https://api.example.com',
        authorizationServers: [{ issuer: 'https://i.example.com', type: 'oidc' }],
      },
    },
  });
  auth.bearerAuth('jwt', { resource: 'https://api.example.com' });
  auth.bearerAuth('jwt', {
    resource: 'https://api.example.com',
    audience: 'https://api.example.com',
  });
  assert.deepEqual(warnings, []);
  auth.bearerAuth('jwt', { resource: 'https://api.example.com', acceptAnyAudience: true });
  auth.bearerAuth('jwt', { resource: 'https://api.example.com', acceptAnyAudience: true });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /any audience/);
});
