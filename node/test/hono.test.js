// mcp-auth/hono: protectedResourceMetadata + bearerAuth in a real Hono app served over HTTP
// (@hono/node-server), the MCP SDK's web-standard transport behind, driven by the SDK's Client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono } from 'hono';
import { MCPAuth } from 'mcp-auth';
import { bearerAuth, protectedResourceMetadata } from 'mcp-auth/hono';

import { serveFetch, startIssuer } from './support/servers.js';

const runs = { 'delete-note': 0 };

describe('mcp-auth/hono', () => {
  let iss;
  let app;
  let resource;

  before(async () => {
    iss = await startIssuer();
    const hono = new Hono();
    app = await serveFetch(hono.fetch);
    resource = `${app.url}/mcp`;
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: {
          resource,
          authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }],
          scopesSupported: ['read', 'delete'],
        },
      },
    });

    hono.use(protectedResourceMetadata(mcpAuth));
    const guard = bearerAuth(mcpAuth, 'jwt', {
      resource,
      audience: resource,
      requiredScopes: ['read'],
      toolScopes: { 'delete-note': ['delete'] },
    });
    const mcp = async (c) => {
      const server = new McpServer({ name: 'notes', version: '1.0.0' });
      server.registerTool('whoami', { inputSchema: {} }, (_a, extra) => ({
        content: [{ type: 'text', text: extra.authInfo.subject }],
      }));
      server.registerTool('delete-note', { inputSchema: {} }, () => {
        runs['delete-note'] += 1;
        return { content: [{ type: 'text', text: 'deleted' }] };
      });
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      await server.connect(transport);
      return transport.handleRequest(c.req.raw, { authInfo: c.get('auth') });
    };
    hono.all('/mcp', guard, mcp);
    // A middleware before the guard read the body through Hono: the guard decides on Hono's
    // copy, and the handler still gets the parsed body.
    hono.post(
      '/read-first',
      async (c, next) => {
        await c.req.json();
        await next();
      },
      guard,
      async (c) => c.json({ subject: c.get('auth').subject, body: await c.req.json() })
    );
  });
  after(async () => {
    await app.close();
    await iss.close();
  });

  const connect = async (scope, sub) => {
    const token = await iss.mint({ aud: resource, sub, scope });
    const seen = [];
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(resource), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
        fetch: async (u, init) => {
          const res = await fetch(u, init);
          seen.push({ status: res.status, challenge: res.headers.get('www-authenticate') });
          return res;
        },
      })
    );
    return { client, seen };
  };

  test("a real MCP client's tool call sees the caller through c.get('auth')", async () => {
    const { client } = await connect('read', 'hono-user');
    try {
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal(who.content[0].text, 'hono-user');
    } finally {
      await client.close();
    }
  });

  test('a ruled tool without its scope is 403 before it runs; with it, it runs', async () => {
    const { client, seen } = await connect('read', 'reader');
    try {
      const before = runs['delete-note'];
      await assert.rejects(client.callTool({ name: 'delete-note', arguments: {} }));
      assert.equal(runs['delete-note'], before);
      const refused = seen.find((x) => x.status === 403);
      assert.match(refused.challenge, /^Bearer error="insufficient_scope", .*scope="read delete"/);
    } finally {
      await client.close();
    }
    const writer = await connect('read delete', 'writer');
    try {
      const done = await writer.client.callTool({ name: 'delete-note', arguments: {} });
      assert.equal(done.content[0].text, 'deleted');
    } finally {
      await writer.client.close();
    }
  });

  test('401 without a token or with a bad one; the metadata document is served with CORS', async () => {
    const none = await fetch(resource, { method: 'POST', body: '{}' });
    assert.equal(none.status, 401);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(none.headers.get('www-authenticate'))[1];
    assert.equal(metadataUrl, `${app.url}/.well-known/oauth-protected-resource/mcp`);
    const bad = await fetch(resource, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-jwt', 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate'), /error="invalid_token"/);
    const doc = await fetch(metadataUrl);
    assert.equal(doc.status, 200);
    assert.equal(doc.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual((await doc.json()).authorization_servers, [iss.issuer]);
    const preflight = await fetch(metadataUrl, { method: 'OPTIONS' });
    assert.equal(preflight.status, 204);
  });

  test('a body read by Hono before the guard is decided on and still readable after', async () => {
    const reader = await iss.mint({ aud: resource, sub: 'r', scope: 'read' });
    const post = (token, body) =>
      fetch(`${app.url}/read-first`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const message = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } };
    const ok = await post(reader, message);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { subject: 'r', body: message });
    const refused = await post(reader, { ...message, params: { name: 'delete-note' } });
    assert.equal(refused.status, 403);
  });
});
