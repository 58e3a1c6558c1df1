// tests/vectors/operations.json through bearerAuth('jwt', { toolScopes, ... }) on a real
// Express server: every request is sent as the vector describes (raw bytes), and a request let
// through must reach the handler with the very same bytes, read from the stream, in
// `req.rawBody` and as `req.body`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import express from 'express';
import { MCPAuth, MCPAuthConfigError, createVerifyJwt } from 'mcp-auth';

import { echo, send, sha256 } from './support/requests.js';
import { close, listen, serve } from './support/servers.js';

const vectorsDir =
  process.env.MCP_AUTH_VECTORS ?? new URL('../../tests/vectors/', import.meta.url).pathname;
const v = JSON.parse(readFileSync(`${vectorsDir}/operations.json`, 'utf8'));

const camel = (o) =>
  Object.fromEntries(
    Object.entries(o).map(([k, x]) => [k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()), x])
  );

/** The body bytes a vector sends (`undefined`: no body). */
const bodyOf = (r) =>
  r.body_base64 !== undefined
    ? Buffer.from(r.body_base64, 'base64')
    : r.body !== undefined
      ? Buffer.from(r.body, 'utf8')
      : undefined;

// The 'jwt' mode decides in one native call; a custom verifier (here createVerifyJwt) has its
// AuthInfo decided by the same core function afterwards. Both must give the vectors' answers.
for (const mode of ['jwt', 'custom verifier'])
  describe(`operations.json (per-operation rules, ${mode})`, () => {
    let jwks;
    let app;
    let mcpAuth;
    before(async () => {
      jwks = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v.jwks));
      });
      const base = await listen(jwks);
      const metadata = camel({ ...v.metadata, jwks_uri: `${base}/jwks` });
      mcpAuth = new MCPAuth({
        protectedResources: {
          metadata: {
            resource: v.resource,
            authorizationServers: [{ metadata, type: 'oidc' }],
          },
        },
      });
      const verify = createVerifyJwt(`${base}/jwks`);
      const router = express();
      v.cases.forEach((c, i) => {
        router.all(
          `/case/${i}`,
          mcpAuth.bearerAuth(mode === 'jwt' ? 'jwt' : verify, {
            resource: v.resource,
            audience: v.resource,
            requiredScopes: c.required_scopes ?? undefined,
            ...camel(c.rules ?? {}),
          }),
          echo
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
        const body = bodyOf(c.request);
        const headers = { ...c.request.headers };
        if (c.token !== null) {
          headers.authorization = `Bearer ${v.tokens[c.token]}`;
        }
        const res = await send(`${app.url}/case/${i}`, {
          method: c.request.method,
          headers,
          body,
        });
        const e = c.expect;
        assert.equal(res.status, e.status, res.text);
        if (e.status === 200) {
          const sent = body ?? Buffer.alloc(0);
          const got = res.json;
          assert.deepEqual(got.streamed, { length: sent.length, sha256: sha256(sent) });
          assert.equal(got.subject, 'user-1');
          if (
            c.request.method === 'POST' &&
            c.rules &&
            Object.keys(c.rules).some((k) => k !== 'scope_hierarchy')
          ) {
            assert.deepEqual(got.rawBody, { length: sent.length, sha256: sha256(sent) });
            assert.deepEqual(got.body, JSON.parse(sent.toString('utf8')));
          }
        } else if (e.status === 401 || e.status === 403) {
          assert.deepEqual(res.json, e.body);
          assert.equal(res.headers['www-authenticate'], e.www_authenticate);
        } else {
          assert.equal(res.headers['www-authenticate'], undefined);
          assert.equal(res.json.jsonrpc, '2.0');
          assert.equal(res.json.id, null);
          assert.equal(res.json.error.code, e.jsonrpc_code);
          assert.equal(typeof res.json.error.message, 'string');
        }
      });
    }

    for (const c of v.config_errors) {
      test(`refused at construction: ${c.name}`, () => {
        for (const build of [
          () =>
            mcpAuth.bearerAuth('jwt', {
              resource: v.resource,
              audience: v.resource,
              ...camel(c.rules),
            }),
          () =>
            mcpAuth.bearerAuth((token) => ({ token, issuer: v.issuer, clientId: '', scopes: [] }), {
              resource: v.resource,
              ...camel(c.rules),
            }),
        ]) {
          assert.throws(build, (err) => {
            assert.ok(err instanceof MCPAuthConfigError, String(err));
            assert.equal(err.code, c.code);
            return true;
          });
        }
      });
    }
  });
