// Every shared vector in tests/vectors, through the package's public API and real servers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import express from 'express';
import {
  MCPAuth,
  MCPAuthAuthServerError,
  MCPAuthBearerAuthError,
  MCPAuthTokenVerificationError,
  validateServerConfig,
} from 'mcp-auth';
import { createResourceMetadataEndpoint } from 'mcp-auth/utils/create-resource-metadata-endpoint.js';
import { getDiscoveryUrls, getWellKnownUrl } from 'mcp-auth/utils/fetch-server-config.js';

import { startIntrospection } from './support/introspection.js';
import { listen, serve, close } from './support/servers.js';

const vectorsDir =
  process.env.MCP_AUTH_VECTORS ?? new URL('../../tests/vectors/', import.meta.url).pathname;
const load = (name) => JSON.parse(readFileSync(`${vectorsDir}/${name}`, 'utf8'));

const camel = (o) =>
  Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()), v])
  );

const request = async (url, header) => {
  const headers = header === null || header === undefined ? {} : { authorization: header };
  const res = await fetch(url, { headers });
  return {
    status: res.status,
    body: await res.json(),
    challenge: res.headers.get('www-authenticate'),
  };
};

/** A JWT-mode route's answer (`request`'s result) against a vector's expectation; `at` names it. */
const checkJwtAnswer = ({ status, body, challenge }, expect, header, at) => {
  assert.equal(status, expect.status, `${at}: ${JSON.stringify(body)}`);
  if (status === 200) {
    const e = expect.auth_info;
    assert.equal(body.issuer, e.issuer, at);
    assert.equal(body.subject, e.subject, at);
    assert.equal(body.clientId, e.client_id ?? '', at);
    assert.deepEqual(body.scopes, e.scopes, at);
    assert.deepEqual(body.audience, e.audience ?? undefined, at);
    assert.equal(body.token, header.trim().split(/\s+/)[1], at);
    for (const [claim, value] of Object.entries(e.claims ?? {})) {
      assert.deepEqual(body.claims[claim], value, `${at}: ${claim}`);
    }
  } else {
    assert.deepEqual(body, expect.body, at);
    assert.equal(challenge, expect.www_authenticate, at);
  }
};

for (const file of ['tokens.json', 'providers.json']) {
  describe(`${file} (jwt mode)`, () => {
    const v = load(file);
    let jwks;
    let app;
    before(async () => {
      jwks = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v.jwks));
      });
      const base = await listen(jwks);
      const metadata = camel({ ...v.metadata, jwks_uri: `${base}/jwks` });
      // Further trusted authorization servers publishing the same keys, when the file names them.
      const more = [...(v.second_issuer ? [v.second_issuer] : []), ...(v.more_issuers ?? [])];
      const servers = [metadata, ...more.map((issuer) => ({ ...metadata, issuer }))];
      const mcpAuth = new MCPAuth({
        protectedResources: {
          metadata: {
            resource: v.resource,
            authorizationServers: servers.map((m) => ({ metadata: m, type: 'oidc' })),
          },
        },
      });
      const router = express();
      v.cases.forEach((c, i) => {
        router.get(
          `/case/${i}`,
          mcpAuth.bearerAuth('jwt', {
            resource: v.resource,
            audience: c.audience ?? undefined,
            acceptAnyAudience: c.accept_any_audience,
            requiredScopes: c.required_scopes ?? undefined,
            showErrorDetails: c.show_error_details,
            jwtVerify: { clockTolerance: c.leeway, ...(c.require_at_jwt ? { typ: 'at+jwt' } : {}) },
          }),
          (req, res) => res.json(req.auth)
        );
      });
      app = await serve(router);
    });
    after(async () => {
      await app.close();
      await close(jwks);
    });

    for (const [i, c] of v.cases.entries()) {
      test(c.name, async () => {
        const expect = c.expect_node ?? c.expect;
        // Twice: the second answer may come from the verifier's cache of verified tokens, and
        // must be the same.
        for (const attempt of ['first', 'again']) {
          checkJwtAnswer(
            await request(`${app.url}/case/${i}`, c.header),
            expect,
            c.header,
            attempt
          );
        }
      });
    }
  });
}

describe('key_rotation.json (jwt mode, the key set changing between steps)', () => {
  const v = load('key_rotation.json');
  // The key set the JWKS URL answers with; a step's `serve` replaces it from that step on.
  let serving = v.steps[0].serve;
  let jwks;
  let app;
  before(async () => {
    jwks = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v.key_sets[serving]));
    });
    const base = await listen(jwks);
    // A path of its own: the key-set cache is process-wide, keyed by URL, and ports are reused.
    const metadata = camel({ ...v.metadata, jwks_uri: `${base}/rotation/jwks` });
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: { resource: v.resource, authorizationServers: [{ metadata, type: 'oidc' }] },
      },
    });
    const router = express();
    // Resource-server defaults: the audience is the resource, no required scopes, default leeway.
    router.get(
      '/mcp',
      mcpAuth.bearerAuth('jwt', { resource: v.resource, showErrorDetails: v.show_error_details }),
      (req, res) => res.json(req.auth)
    );
    app = await serve(router);
  });
  after(async () => {
    await app.close();
    await close(jwks);
  });

  test('the steps, in order, against one route', async () => {
    for (const step of v.steps) {
      if (step.serve !== null) {
        serving = step.serve;
      }
      const expect = step.expect_node ?? step.expect;
      const got = await request(`${app.url}/mcp`, step.header);
      checkJwtAnswer(got, expect, step.header, `step ${JSON.stringify(step.name)}`);
    }
  });
});

describe('introspection.json (introspection mode)', () => {
  const v = load('introspection.json');
  let endpoint;
  let app;
  before(async () => {
    endpoint = await startIntrospection({
      clientId: v.client_id,
      clientSecret: v.client_secret,
      answers: new Map(v.cases.map((c) => [c.token, c.answer])),
    });
    const metadata = camel({ ...v.metadata, introspection_endpoint: endpoint.url });
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: { resource: v.resource, authorizationServers: [{ metadata, type: 'oauth' }] },
      },
    });
    const router = express();
    v.cases.forEach((c, i) => {
      router.get(
        `/case/${i}`,
        mcpAuth.bearerAuth('introspection', {
          resource: v.resource,
          audience: c.audience ?? undefined,
          acceptAnyAudience: c.accept_any_audience,
          requiredScopes: c.required_scopes ?? undefined,
          showErrorDetails: c.show_error_details,
          introspection: {
            clientId: v.client_id,
            clientSecret: c.client_secret ?? v.client_secret,
            authMethod: c.auth_method,
            clockTolerance: c.leeway,
          },
        }),
        (req, res) => res.json(req.auth)
      );
    });
    app = await serve(router);
  });
  after(async () => {
    await app.close();
    await endpoint.close();
  });

  for (const [i, c] of v.cases.entries()) {
    test(c.name, async () => {
      endpoint.reset();
      const expect = c.expect_node ?? c.expect;
      const { status, body, challenge } = await request(`${app.url}/case/${i}`, c.header);
      assert.equal(status, expect.status, JSON.stringify(body));
      assert.equal(endpoint.requests.length, c.header === null ? 0 : 1);
      if (c.header !== null) {
        assert.equal(endpoint.requests[0].auth, c.auth_method);
        assert.equal(endpoint.requests[0].token, c.token);
      }
      if (status === 200) {
        const e = expect.auth_info;
        assert.equal(body.issuer, e.issuer);
        assert.equal(body.subject, e.subject ?? undefined);
        assert.equal(body.clientId, e.client_id ?? '');
        assert.deepEqual(body.scopes, e.scopes);
        assert.deepEqual(body.audience, e.audience ?? undefined);
        assert.equal(body.token, c.token);
        assert.equal(body.expiresAt, c.answer.json.exp);
        for (const [claim, value] of Object.entries(e.claims ?? {})) {
          assert.deepEqual(body.claims[claim], value, claim);
        }
      } else {
        assert.deepEqual(body, expect.body);
        assert.equal(challenge, expect.www_authenticate);
      }
    });
  }
});

describe('custom_verifiers.json', () => {
  const v = load('custom_verifiers.json');
  let app;
  const errorOf = ({ kind, code, ...d }) => {
    switch (kind) {
      case 'token_verification':
        return new MCPAuthTokenVerificationError(code);
      case 'bearer_auth': {
        const details = {};
        if (d.missing_scopes) details.missingScopes = d.missing_scopes;
        if ('expected' in d) details.expected = d.expected;
        if ('actual' in d) details.actual = d.actual;
        return new MCPAuthBearerAuthError(code, Object.keys(details).length ? details : undefined);
      }
      default:
        return new MCPAuthAuthServerError(code);
    }
  };
  before(async () => {
    const metadata = {
      issuer: v.issuer,
      authorizationEndpoint: `${v.issuer}/authorize`,
      tokenEndpoint: `${v.issuer}/token`,
      responseTypesSupported: ['code'],
      codeChallengeMethodsSupported: ['S256'],
      registrationEndpoint: `${v.issuer}/register`,
    };
    const mcpAuth = new MCPAuth({
      protectedResources: [
        { metadata: { resource: v.resource, authorizationServers: [{ metadata, type: 'oauth' }] } },
      ],
    });
    const router = express();
    v.cases.forEach((c, i) => {
      // Odd cases use async verifiers, even ones sync: both must behave the same.
      const verify = (token) => {
        if (c.raise) throw errorOf(c.raise);
        return { token, clientId: '', ...c.return };
      };
      router.get(
        `/case/${i}`,
        mcpAuth.bearerAuth(i % 2 ? async (t) => verify(t) : verify, {
          resource: v.resource,
          // A case's own `audience` (null: none configured) replaces the top level's.
          audience: ('audience' in c ? c.audience : v.audience) ?? undefined,
          acceptAnyAudience: c.accept_any_audience,
          requiredScopes: c.required_scopes,
          showErrorDetails: c.show_error_details,
        }),
        (req, res) => res.json(req.auth)
      );
    });
    app = await serve(router);
  });
  after(() => app.close());

  for (const [i, c] of v.cases.entries()) {
    test(c.name, async () => {
      const expect = c.expect_node ?? c.expect;
      const { status, body, challenge } = await request(`${app.url}/case/${i}`, 'Bearer any-token');
      assert.equal(status, expect.status, JSON.stringify(body));
      if (status === 200) {
        assert.equal(body.issuer, c.return.issuer);
        assert.equal(body.token, 'any-token');
      } else {
        assert.deepEqual(body, expect.body);
        assert.equal(challenge, expect.www_authenticate);
      }
    });
  }
});

describe('well_known_urls.json', () => {
  const v = load('well_known_urls.json');
  for (const c of v.cases) {
    test(c.issuer, () => {
      assert.equal(getWellKnownUrl(c.issuer, 'oauth'), c.oauth);
      assert.equal(getWellKnownUrl(c.issuer, 'oidc'), c.oidc);
      assert.deepEqual(getDiscoveryUrls(c.issuer), c.discovery);
    });
  }
  for (const c of v.errors) {
    test(`rejects ${c.issuer}`, () => {
      assert.throws(
        () => getWellKnownUrl(c.issuer, 'oidc'),
        (e) => e instanceof Error && e.message.length > 0
      );
    });
  }
});

describe('resource_metadata.json', () => {
  const v = load('resource_metadata.json');
  for (const c of v.urls) {
    test(`URL of ${c.resource}`, () => {
      assert.equal(createResourceMetadataEndpoint(c.resource).href, c.url);
    });
  }
  for (const c of v.url_errors) {
    test(`rejects ${c.resource}`, () => {
      assert.throws(
        () =>
          new MCPAuth({
            protectedResources: { metadata: { resource: c.resource } },
          }).protectedResourceMetadataRouter(),
        // As upstream, whose `new URL(resource)` throws one; the message says why.
        (e) => e instanceof TypeError && e.message.includes(c.resource)
      );
    });
  }
  for (const [i, c] of (v.config_errors ?? []).entries()) {
    test(`configuration error ${i}`, () => {
      assert.throws(
        () =>
          new MCPAuth({
            protectedResources: c.resources.map(({ resource, issuers }) => ({
              metadata: {
                resource,
                authorizationServers: issuers.map((issuer) => ({ issuer, type: 'oidc' })),
              },
            })),
          }),
        (e) => {
          assert.ok(e instanceof MCPAuthAuthServerError);
          assert.equal(e.code, 'invalid_server_config');
          assert.deepEqual(e.cause, { cause: c.node });
          return true;
        }
      );
    });
  }
  for (const [i, c] of v.documents.entries()) {
    test(`document ${i}`, async () => {
      const mcpAuth = new MCPAuth({
        protectedResources: {
          metadata: {
            ...camel(c.metadata),
            authorizationServers: c.issuers.map((issuer) => ({ issuer, type: 'oidc' })),
          },
        },
      });
      const app = await serve(express().use(mcpAuth.protectedResourceMetadataRouter()));
      try {
        const path = new URL(createResourceMetadataEndpoint(c.metadata.resource)).pathname;
        const res = await fetch(`${app.url}${path}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
        // Key order is part of the document.
        assert.equal(await res.text(), JSON.stringify(c.expected));
        const preflight = await fetch(`${app.url}${path}`, {
          method: 'OPTIONS',
          headers: {
            origin: 'https://inspector.example.com',
            'access-control-request-method': 'GET',
          },
        });
        assert.equal(preflight.status, 204);
        assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
      } finally {
        await app.close();
      }
    });
  }
});

describe('server_metadata_validation.json', () => {
  const v = load('server_metadata_validation.json');
  for (const c of v.cases) {
    test(c.name, () => {
      const result = validateServerConfig({ metadata: camel(c.metadata), type: 'oauth' }, true);
      const errors = c.errors_node ?? c.errors;
      assert.equal(result.isValid, c.is_valid);
      assert.deepEqual(
        (result.errors ?? []).map((e) => e.code),
        errors
      );
      assert.equal('errors' in result, errors.length > 0);
      assert.deepEqual(
        result.warnings.map((w) => w.code),
        c.warnings
      );
      if (!c.schema_error) {
        assert.deepEqual(
          result.successes.map((s) => s.code),
          c.successes_node ?? c.successes
        );
      }
      const quiet = validateServerConfig({ metadata: camel(c.metadata), type: 'oauth' });
      assert.equal('successes' in quiet, false);
    });
  }
});
