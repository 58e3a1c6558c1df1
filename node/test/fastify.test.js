// mcp-auth/fastify: the protectedResourceMetadata plugin and the bearerAuth preParsing hook in
// a real Fastify app on 127.0.0.1, the MCP SDK's Node transport behind, driven by the SDK's
// Client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import Fastify from 'fastify';
import { MCPAuth } from 'mcp-auth';
import { bearerAuth, protectedResourceMetadata } from 'mcp-auth/fastify';

import { send } from './support/requests.js';
import { freePort, startIssuer } from './support/servers.js';

const runs = { 'delete-note': 0 };

describe('mcp-auth/fastify', () => {
  let iss;
  let app;
  let url;
  let resource;

  before(async () => {
    iss = await startIssuer();
    app = Fastify();
    // The resource identifier names the port, and Fastify takes no routes once listening.
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    resource = `${url}/mcp`;
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: {
          resource,
          authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }],
          scopesSupported: ['read', 'delete'],
        },
      },
    });

    await app.register(protectedResourceMetadata(mcpAuth));
    const guard = bearerAuth(mcpAuth, 'jwt', {
      resource,
      audience: resource,
      requiredScopes: ['read'],
      toolScopes: { 'delete-note': ['delete'] },
      maxBodyBytes: 4096,
    });
    app.post('/mcp', { preParsing: guard }, async (request, reply) => {
      const server = new McpServer({ name: 'notes', version: '1.0.0' });
      server.registerTool('whoami', { inputSchema: {} }, (_a, extra) => ({
        content: [{ type: 'text', text: extra.authInfo.subject }],
      }));
      server.registerTool('delete-note', { inputSchema: {} }, () => {
        runs['delete-note'] += 1;
        return { content: [{ type: 'text', text: 'deleted' }] };
      });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      reply.hijack();
      reply.raw.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    });
    app.post('/echo', { preParsing: guard }, async (request) => ({
      subject: request.auth.subject,
      body: request.body,
    }));
    // The hook in a scope, for every route of it.
    await app.register(async (scope) => {
      scope.addHook('preParsing', guard);
      scope.get('/scoped/who', async (request) => ({ subject: request.auth.subject }));
    });
    await app.listen({ port, host: '127.0.0.1' });
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

  test("a real MCP client's tool call sees the caller (request.auth, request.raw.auth)", async () => {
    const { client } = await connect('read', 'fastify-user');
    try {
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal(who.content[0].text, 'fastify-user');
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
    assert.equal(metadataUrl, `${url}/.well-known/oauth-protected-resource/mcp`);
    assert.equal((await none.json()).error, 'missing_auth_header');
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
    const head = await fetch(metadataUrl, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const preflight = await fetch(metadataUrl, {
      method: 'OPTIONS',
      headers: { 'access-control-request-headers': 'authorization' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'authorization');
  });

  test('the bytes the rules read are the bytes Fastify parses', async () => {
    const token = await iss.mint({ aud: resource, sub: 'echo', scope: 'read' });
    const text =
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"s":"é"}}}';
    const ok = await send(`${url}/echo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: text,
    });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { subject: 'echo', body: JSON.parse(text) });

    // Two parsers could read a duplicate key differently: refused before Fastify parses it.
    const duplicate = await send(`${url}/echo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"delete-note"}}',
    });
    assert.equal(duplicate.status, 400);
    assert.equal(duplicate.json.error.code, -32700);

    const big = await send(`${url}/echo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'ping',
        params: { pad: 'x'.repeat(8000) },
      }),
    });
    assert.equal(big.status, 413);
    assert.equal(big.headers.connection, 'close');
  });

  test('as a scope hook: GET needs only the route scopes', async () => {
    const token = await iss.mint({ aud: resource, sub: 'scoped', scope: 'read' });
    const res = await fetch(`${url}/scoped/who`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { subject: 'scoped' });
    const other = await iss.mint({ aud: resource, scope: 'other' });
    const refused = await fetch(`${url}/scoped/who`, {
      headers: { authorization: `Bearer ${other}` },
    });
    assert.equal(refused.status, 403);
  });
});
