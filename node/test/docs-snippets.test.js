// The documentation's other Node snippets (configure MCP Auth, bearer auth, custom verifiers,
// legacy server mode), run against a local issuer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import express from 'express';
import {
  MCPAuth,
  MCPAuthJwtVerificationError,
  MCPAuthTokenVerificationError,
  fetchServerConfig,
  fetchServerConfigByWellKnownUrl,
} from 'mcp-auth';

import { serve, startIssuer } from './support/servers.js';

describe('documented configuration and bearer-auth snippets', () => {
  let iss;
  before(async () => {
    iss = await startIssuer();
  });
  after(() => iss.close());

  test('other ways to configure the authorization server', async () => {
    const transpiled = await fetchServerConfig(iss.issuer, {
      type: 'oidc',
      transpileData: (data) => ({ ...data, response_types_supported: ['code'] }),
    });
    assert.deepEqual(transpiled.metadata.responseTypesSupported, ['code']);
    const byUrl = await fetchServerConfigByWellKnownUrl(
      `${iss.issuer}/.well-known/openid-configuration`,
      { type: 'oidc' }
    );
    assert.equal(byUrl.metadata.issuer, iss.issuer);
    const byUrlTranspiled = await fetchServerConfigByWellKnownUrl(
      `${iss.issuer}/.well-known/openid-configuration`,
      {
        type: 'oidc',
        transpileData: (data) => ({ ...data, response_types_supported: ['code'] }),
      }
    );
    assert.deepEqual(byUrlTranspiled.metadata.responseTypesSupported, ['code']);
    // Manual metadata, camelCase.
    const manual = new MCPAuth({
      protectedResources: [
        {
          metadata: {
            resource: 'https://api.example.com',
            authorizationServers: [
              {
                metadata: {
                  issuer: iss.issuer,
                  authorizationEndpoint: `${iss.issuer}/authorize`,
                  tokenEndpoint: `${iss.issuer}/token`,
                  responseTypesSupported: ['code'],
                  codeChallengeMethodsSupported: ['S256'],
                  registrationEndpoint: `${iss.issuer}/register`,
                  jwksUri: iss.jwksUri,
                },
                type: 'oidc',
              },
            ],
          },
        },
      ],
    });
    assert.ok(manual.protectedResourceMetadataRouter());
  });

  test('JWT mode with jwtVerify / remoteJwtSet options, applied to a path', async () => {
    const resourceIdentifier = 'https://api.example.com';
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: {
          resource: resourceIdentifier,
          authorizationServers: [await fetchServerConfig(iss.issuer, { type: 'oidc' })],
        },
      },
    });
    const bearerAuth = mcpAuth.bearerAuth('jwt', {
      resource: resourceIdentifier,
      audience: resourceIdentifier,
      requiredScopes: ['read', 'write'],
      jwtVerify: { clockTolerance: 60 },
      remoteJwtSet: { timeoutDuration: 10 * 1000 },
    });
    const app = express();
    app.use('/mcp', bearerAuth, (req, res) => {
      res.json({ subject: req.auth.subject });
    });
    const s = await serve(app);
    try {
      // Expired 30 s ago: inside the 60 s tolerance.
      const token = await iss.mint(
        { aud: resourceIdentifier, sub: 'dana', exp: Math.floor(Date.now() / 1000) - 30 },
        { expiresIn: null }
      );
      const res = await fetch(`${s.url}/mcp`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { subject: 'dana' });
    } finally {
      await s.close();
    }
  });

  test('custom verification: the documented error names, sync and async verifiers', async () => {
    const resource = 'https://api.example.com';
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: { resource, authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }] },
      },
    });
    const verifyToken = async (token) =>
      token === 'good'
        ? {
            token,
            issuer: iss.issuer,
            subject: 'erin',
            clientId: 'c',
            scopes: ['read', 'write'],
            audience: resource,
          }
        : undefined;
    const bearerAuth = mcpAuth.bearerAuth(
      async (token) => {
        const info = await verifyToken(token);
        if (!info) {
          throw new MCPAuthJwtVerificationError('jwt_verification_failed');
        }
        return info;
      },
      { resource, audience: resource, requiredScopes: ['read', 'write'] }
    );
    const app = express();
    app.use(bearerAuth);
    app.get('/whoami', (req, res) => res.json({ subject: req.auth.subject }));
    const s = await serve(app);
    try {
      const good = await fetch(`${s.url}/whoami`, { headers: { authorization: 'Bearer good' } });
      assert.deepEqual(await good.json(), { subject: 'erin' });
      const bad = await fetch(`${s.url}/whoami`, { headers: { authorization: 'Bearer bad' } });
      assert.equal(bad.status, 401);
      assert.deepEqual(await bad.json(), {
        error: 'token_verification_failed',
        error_description: 'Token verification failed due to an error.',
      });
      assert.ok(
        new MCPAuthJwtVerificationError('jwt_verification_failed') instanceof
          MCPAuthTokenVerificationError
      );
    } finally {
      await s.close();
    }
  });
});
