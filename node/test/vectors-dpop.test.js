// tests/vectors/dpop.json (RFC 9449) through bearerAuth('jwt' | 'introspection', { dpop }) on
// real servers on 127.0.0.1, with "now" pinned to each case's: every `DPoP` header line is sent
// as a line of its own, and every answer is read from the raw header lines.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import express from 'express';
import { MCPAuth, MCPAuthConfigError, clearCaches, withAnswerHeaders } from 'mcp-auth';
import { dpopNonceIssuedAt, dpopTestNow } from 'mcp-auth/handlers/dpop.js';

import { startIntrospection } from './support/introspection.js';
import { close, listen, serve, serveFetch } from './support/servers.js';

const vectorsDir =
  process.env.MCP_AUTH_VECTORS ?? new URL('../../tests/vectors/', import.meta.url).pathname;
const v = JSON.parse(readFileSync(`${vectorsDir}/dpop.json`, 'utf8'));

const camel = (o) =>
  Object.fromEntries(
    Object.entries(o).map(([k, x]) => [k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()), x])
  );

const tokenOf = (c) => c.request.authorization.trim().split(/\s+/)[1];

/** The case's `dpop` settings as `bearerAuth` takes them, "now" pinned; `undefined`: none. */
const dpopOption = (c) => (c.dpop ? { ...camel(c.dpop), [dpopTestNow]: c.now } : undefined);

/**
 * Sends the case's request to `url` with `x-case` naming its route; resolves to the status,
 * the JSON body and the raw header lines by lower-cased name.
 */
const send = (url, c, route) =>
  new Promise((resolve, reject) => {
    const r = c.request;
    const target = new URL(r.path, url);
    const headers = { 'x-case': String(route) };
    if (r.authorization !== null) {
      headers.authorization = r.authorization;
    }
    if (r.dpop.length > 0) {
      // An array: node:http sends one `DPoP` line per element.
      headers.dpop = r.dpop.length === 1 ? r.dpop[0] : r.dpop;
    }
    const req = http.request(target, { method: r.method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        const lines = {};
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i].toLowerCase();
          (lines[name] ??= []).push(res.rawHeaders[i + 1]);
        }
        resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined, lines });
      });
    });
    req.on('error', reject);
    req.end(r.method === 'POST' ? '{}' : undefined);
  });

/** What `dpop_nonce` says of the answer's `DPoP-Nonce` lines (see core/tests/vectors.rs). */
const nonceOk = (c, lines) => {
  const values = lines['dpop-nonce'] ?? [];
  if (values.length === 0) {
    return false;
  }
  if (values.length > 1) {
    return 'several DPoP-Nonce headers';
  }
  const at = c.dpop ? dpopNonceIssuedAt(camel(c.dpop), v.resource, values[0]) : undefined;
  return at === Math.floor(c.now) ? true : `a DPoP-Nonce made at ${at}, not at ${c.now}`;
};

// The same cases on Express (the synchronous path where keys are cached), on Express with
// the caches cleared before every request (so every check waits on the async path), and on
// the web-standard handler (fetchBearerAuth behind @hono/node-server).
const variants = ['express', 'express, cold caches', 'fetch'];

describe('dpop.json (DPoP, RFC 9449)', () => {
  let jwks;
  let introspection;
  let mcpAuth;
  const apps = {};
  const routes = [];

  before(async () => {
    jwks = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v.jwks));
    });
    const base = await listen(jwks);
    introspection = await startIntrospection({
      clientId: v.introspection.client_id,
      clientSecret: v.introspection.client_secret,
      answers: new Map(
        v.cases.filter((c) => c.introspection).map((c) => [tokenOf(c), c.introspection])
      ),
    });
    const metadata = camel({ ...v.metadata, jwks_uri: `${base}/jwks` });
    const newMcpAuth = () =>
      new MCPAuth({
        protectedResources: {
          metadata: { resource: v.resource, authorizationServers: [{ metadata, type: 'oidc' }] },
        },
        logger: {},
      });
    mcpAuth = newMcpAuth();
    // An instance per route: the cases' routes differ in DPoP mode and algorithms, which the
    // routes of one instance's resource may not (one metadata document advertises them).
    const route = (c, adapter) => {
      const auth = newMcpAuth();
      const common = {
        resource: v.resource,
        audience: v.resource,
        requiredScopes: c.required_scopes ?? undefined,
        showErrorDetails: c.show_error_details,
        dpop: dpopOption(c),
      };
      const mode = c.introspection ? 'introspection' : 'jwt';
      const config = c.introspection
        ? {
            ...common,
            introspection: {
              endpoint: introspection.url,
              clientId: v.introspection.client_id,
              clientSecret: v.introspection.client_secret,
              clockTolerance: c.leeway,
            },
          }
        : { ...common, jwtVerify: { clockTolerance: c.leeway } };
      return adapter === 'fetch'
        ? auth.fetchBearerAuth(mode, config)
        : auth.bearerAuth(mode, config);
    };
    // A route of its own for every case and variant: each has its own replay store.
    for (const variant of variants) {
      for (const c of v.cases) {
        routes.push({
          variant,
          handler: route(c, variant === 'fetch' ? 'fetch' : 'express'),
        });
      }
    }
    const app = express();
    app.use((req, res, next) => routes[Number(req.headers['x-case'])].handler(req, res, next));
    app.use((req, res) => res.json(req.auth));
    apps.express = await serve(app);
    apps.fetch = await serveFetch(async (request) => {
      const auth = await routes[Number(request.headers.get('x-case'))].handler(request);
      return auth instanceof Response ? auth : withAnswerHeaders(Response.json(auth), auth);
    });
  });
  after(async () => {
    await apps.express?.close();
    await apps.fetch?.close();
    await introspection?.close();
    if (jwks) {
      await close(jwks);
    }
  });

  for (const [vi, variant] of variants.entries()) {
    for (const [ci, c] of v.cases.entries()) {
      test(`${c.name} [${variant}]`, async () => {
        const route = vi * v.cases.length + ci;
        const url = variant === 'fetch' ? apps.fetch.url : apps.express.url;
        const sendOnce = () => {
          if (variant === 'express, cold caches') {
            clearCaches();
          }
          return send(url, c, route);
        };
        if (c.send_twice) {
          const first = await sendOnce();
          assert.equal(first.status, 200, `the first request got ${JSON.stringify(first.body)}`);
        }
        const { status, body, lines } = await sendOnce();
        const expect = c.expect;
        assert.equal(status, expect.status, JSON.stringify(body));
        assert.equal(nonceOk(c, lines), expect.dpop_nonce);
        if (status === 200) {
          const e = expect.auth_info;
          assert.equal(body.issuer, e.issuer);
          assert.equal(body.subject ?? null, e.subject);
          assert.equal(body.clientId, e.client_id ?? '');
          assert.deepEqual(body.scopes, e.scopes);
          assert.deepEqual(body.audience ?? null, e.audience);
          assert.equal(body.jkt ?? null, e.jkt);
          assert.equal(body.token, tokenOf(c));
          return;
        }
        assert.deepEqual(body, expect.body);
        const challenges = lines['www-authenticate'] ?? [];
        if (variant === 'fetch') {
          // A fetch `Headers` joins repeated fields with ", ".
          assert.deepEqual(challenges.join(', '), expect.www_authenticate.join(', '));
        } else {
          assert.deepEqual(challenges, expect.www_authenticate);
        }
      });
    }
  }

  for (const c of v.metadata_cases) {
    test(`metadata: ${c.name}`, async () => {
      const metadata = camel({ ...v.metadata, jwks_uri: 'https://issuer.example.com/jwks' });
      const auth = new MCPAuth({
        protectedResources: {
          metadata: {
            resource: v.resource,
            scopesSupported: ['read'],
            dpopBoundAccessTokensRequired: 'configured, replaced',
            authorizationServers: [{ metadata, type: 'oidc' }],
          },
        },
      });
      // The router is mounted before the route is made, as apps usually do.
      const app = await serve(express().use(auth.protectedResourceMetadataRouter()));
      try {
        auth.bearerAuth('jwt', { resource: v.resource, dpop: camel(c.dpop) });
        const path = new URL(v.resource_metadata).pathname;
        const res = await fetch(`${app.url}${path}`);
        assert.equal(res.status, 200);
        // Key order is part of the document.
        assert.equal(await res.text(), JSON.stringify(c.expected));
        const web = auth.protectedResourceMetadataResponse(new Request(`${app.url}${path}`));
        assert.equal(await web.text(), JSON.stringify(c.expected));
      } finally {
        await app.close();
      }
    });
  }

  for (const c of v.config_errors) {
    test(`configuration error: ${c.name}`, () => {
      const { resource, ...dpop } = c.dpop;
      if (resource !== undefined) {
        // Node takes the resource from the route, not from `dpop`; a route resource that is
        // no URL is refused before DPoP is looked at, with upstream's TypeError.
        const legacy = new MCPAuth({
          server: { metadata: camel({ ...v.metadata, jwks_uri: 'https://x.example/jwks' }) },
          logger: {},
        });
        assert.throws(
          () => legacy.bearerAuth('jwt', { resource, dpop: camel(dpop) }),
          (e) => e instanceof TypeError && e.message.includes(resource)
        );
        return;
      }
      assert.throws(
        () => mcpAuth.bearerAuth('jwt', { resource: v.resource, dpop: camel(dpop) }),
        (e) => {
          assert.ok(e instanceof MCPAuthConfigError, String(e));
          assert.equal(e.code, 'invalid_dpop_config', e.message);
          return true;
        }
      );
    });
  }
});
