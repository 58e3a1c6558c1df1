// The web-standard face: mcpAuth.fetchBearerAuth(...) on WHATWG Requests (Node's own Request
// and Response), mcpAuth.fetchHandler(...) and protectedResourceMetadataResponse(...) over real
// HTTP (@hono/node-server), with the MCP SDK v1's WebStandardStreamableHTTPServerTransport and
// the SDK v2's createMcpHandler behind, driven by each SDK's client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  McpServer as McpServerV2,
  createMcpHandler,
  requireBearerAuth as requireBearerAuthV2,
} from '@modelcontextprotocol/server';
import { MCPAuth } from 'mcp-auth';
import { z as z4 } from 'zod/v4';

import { serveFetch, startIssuer } from './support/servers.js';

const call = (name, args = {}) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('fetchBearerAuth on WHATWG Requests', () => {
  let iss;
  let mcpAuth;
  const resource = 'https://mcp.example.com/mcp';
  let authenticate;

  before(async () => {
    iss = await startIssuer();
    mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: {
          resource,
          authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }],
          scopesSupported: ['read', 'delete'],
        },
      },
    });
    authenticate = mcpAuth.fetchBearerAuth('jwt', {
      resource,
      audience: resource,
      requiredScopes: ['read'],
      toolScopes: { 'delete-note': ['delete'] },
      maxBodyBytes: 1024,
    });
  });
  after(() => iss.close());

  const request = (token, body, headers = {}) =>
    new Request(resource, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  test('no credentials: a 401 Response with the challenge and no error code', async () => {
    const res = await authenticate(request(undefined, call('whoami')));
    assert.ok(res instanceof Response);
    assert.equal(res.status, 401);
    assert.equal(
      res.headers.get('www-authenticate'),
      'Bearer scope="read", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'
    );
    assert.equal((await res.json()).error, 'missing_auth_header');
  });

  test('a good token: the AuthInfo, and the request body still reads as sent', async () => {
    const token = await iss.mint({ aud: resource, sub: 'alice', scope: 'read' });
    const text = JSON.stringify(call('whoami'));
    const req = request(token, text);
    const auth = await authenticate(req);
    assert.ok(!(auth instanceof Response));
    assert.equal(auth.subject, 'alice');
    assert.equal(req.bodyUsed, false);
    assert.equal(await req.text(), text);
  });

  test('a ruled tool without its scope: 403 with every scope the request needs', async () => {
    const token = await iss.mint({ aud: resource, scope: 'read' });
    const res = await authenticate(request(token, call('delete-note', { id: '1' })));
    assert.equal(res.status, 403);
    assert.equal(
      res.headers.get('www-authenticate'),
      'Bearer error="insufficient_scope", error_description="The token does not contain the necessary scopes for this request.", scope="read delete", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'
    );
    assert.deepEqual((await res.json()).missing_scopes, ['delete']);
    const writer = await iss.mint({ aud: resource, scope: 'read delete' });
    const ok = await authenticate(request(writer, call('delete-note', { id: '1' })));
    assert.ok(!(ok instanceof Response));
  });

  test('bodies the rules cannot read are refused with JSON-RPC errors, not let through', async () => {
    const token = await iss.mint({ aud: resource, scope: 'read delete' });
    const duplicate = await authenticate(
      request(
        token,
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"delete-note"}}'
      )
    );
    assert.equal(duplicate.status, 400);
    assert.equal((await duplicate.json()).error.code, -32700);

    const big = await authenticate(request(token, call('whoami', { pad: 'x'.repeat(2000) })));
    assert.equal(big.status, 413);

    const form = await authenticate(
      request(token, 'a=b', { 'content-type': 'application/x-www-form-urlencoded' })
    );
    assert.equal(form.status, 415);

    // Someone read the body before: nothing is left to check.
    const read = request(token, call('whoami'));
    await read.text();
    const consumed = await authenticate(read);
    assert.equal(consumed.status, 400);
    assert.equal((await consumed.json()).error.code, -32700);
  });

  test('GET needs only the route scopes; the body is not read', async () => {
    const token = await iss.mint({ aud: resource, scope: 'read' });
    const auth = await authenticate(
      new Request(resource, { headers: { authorization: `Bearer ${token}` } })
    );
    assert.ok(!(auth instanceof Response));
  });

  test('custom verifiers go through the same policy and rules', async () => {
    const custom = mcpAuth.fetchBearerAuth(
      (token) => ({
        token,
        issuer: iss.issuer,
        clientId: 'c',
        scopes: token === 'admin' ? ['read', 'delete'] : ['read'],
        subject: token,
        audience: resource,
      }),
      { resource, audience: resource, toolScopes: { 'delete-note': ['delete'] } }
    );
    assert.equal((await custom(request('reader', call('delete-note')))).status, 403);
    assert.equal((await custom(request('admin', call('delete-note')))).subject, 'admin');
  });

  test('protectedResourceMetadataResponse answers the metadata path only', async () => {
    const url = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
    const doc = mcpAuth.protectedResourceMetadataResponse(new Request(url));
    assert.equal(doc.status, 200);
    assert.equal(doc.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await doc.json(), {
      resource,
      scopes_supported: ['read', 'delete'],
      authorization_servers: [iss.issuer],
    });
    const preflight = mcpAuth.protectedResourceMetadataResponse(
      new Request(url, {
        method: 'OPTIONS',
        headers: { 'access-control-request-headers': 'mcp-protocol-version' },
      })
    );
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'mcp-protocol-version');
    assert.equal(mcpAuth.protectedResourceMetadataResponse(new Request(resource)), undefined);
    assert.equal(
      mcpAuth.protectedResourceMetadataResponse(new Request(url, { method: 'POST', body: '' })),
      undefined
    );
  });
});

describe('fetchHandler over real HTTP with the MCP SDKs behind', () => {
  let iss;
  let app;
  let resource;
  let mcpAuth;
  const runs = { 'delete-note': 0 };

  before(async () => {
    iss = await startIssuer();
    let handler;
    app = await serveFetch((request) => handler(request));
    resource = `${app.url}/mcp`;
    mcpAuth = new MCPAuth({
      protectedResources: [
        {
          metadata: {
            resource,
            authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }],
            scopesSupported: ['read', 'delete'],
          },
        },
        {
          metadata: {
            resource: `${app.url}/v2`,
            authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }],
          },
        },
        {
          metadata: {
            resource: `${app.url}/v2-gate`,
            authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }],
          },
        },
      ],
    });
    const rules = { requiredScopes: ['read'], toolScopes: { 'delete-note': ['delete'] } };

    // SDK v1: a stateless web-standard transport per request.
    const v1 = mcpAuth.fetchHandler(
      mcpAuth.fetchBearerAuth('jwt', { resource, audience: resource, ...rules }),
      async (request, authInfo) => {
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
        return transport.handleRequest(request, { authInfo });
      }
    );

    // SDK v2: createMcpHandler behind fetchBearerAuth (per-operation rules) ...
    const notes = () => {
      const server = new McpServerV2({ name: 'notes', version: '2.0.0' });
      server.registerTool('whoami', { inputSchema: z4.object({}) }, (_a, ctx) => ({
        content: [{ type: 'text', text: ctx.http.authInfo.subject }],
      }));
      server.registerTool('delete-note', { inputSchema: z4.object({}) }, () => {
        runs['delete-note'] += 1;
        return { content: [{ type: 'text', text: 'deleted' }] };
      });
      return server;
    };
    const mcpV2 = createMcpHandler(notes);
    const v2 = mcpAuth.fetchHandler(
      mcpAuth.fetchBearerAuth('jwt', {
        resource: `${app.url}/v2`,
        audience: `${app.url}/v2`,
        ...rules,
      }),
      (request, authInfo) => mcpV2.fetch(request, { authInfo })
    );
    // ... and the SDK v2's own gate with mcp-auth's verifier.
    const gate = requireBearerAuthV2({
      verifier: mcpAuth.tokenVerifier({ resource: `${app.url}/v2-gate`, sdk: 'v2' }),
      requiredScopes: ['read'],
      expectedResource: new URL(`${app.url}/v2-gate`),
      resourceMetadataUrl: `${app.url}/.well-known/oauth-protected-resource/v2-gate`,
    });
    const v2Gate = async (request) => {
      const auth = await gate(request);
      return auth instanceof Response ? auth : mcpV2.fetch(request, { authInfo: auth });
    };

    handler = (request) => {
      const { pathname } = new URL(request.url);
      if (pathname.endsWith('/v2-gate')) {
        return v2Gate(request);
      }
      return pathname.endsWith('/v2') ? v2(request) : v1(request);
    };
  });
  after(async () => {
    await app.close();
    await iss.close();
  });

  /** A connected client (v1 or v2) whose HTTP answers are recorded. */
  const connect = async (Impl, Transport, url, scope, sub) => {
    const token = await iss.mint({ aud: url, sub, scope });
    const seen = [];
    const client = new Impl({ name: 'test', version: '1.0.0' });
    await client.connect(
      new Transport(new URL(url), {
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

  for (const [name, Impl, Transport, path] of [
    ['SDK v1 web-standard transport', Client, StreamableHTTPClientTransport, 'mcp'],
    ['SDK v2 createMcpHandler', ClientV2, TransportV2, 'v2'],
  ]) {
    test(`${name}: the tool sees the caller; a ruled tool is 403 before it runs`, async () => {
      const url = `${app.url}/${path}`;
      const { client, seen } = await connect(Impl, Transport, url, 'read', `reader-${path}`);
      try {
        const who = await client.callTool({ name: 'whoami', arguments: {} });
        assert.equal(who.content[0].text, `reader-${path}`);
        const before = runs['delete-note'];
        await assert.rejects(client.callTool({ name: 'delete-note', arguments: {} }));
        assert.equal(runs['delete-note'], before, 'the tool did not run');
        const refused = seen.find((x) => x.status === 403);
        assert.ok(refused, JSON.stringify(seen));
        assert.match(refused.challenge, /error="insufficient_scope", .*scope="read delete"/);
      } finally {
        await client.close();
      }
      const writer = await connect(Impl, Transport, url, 'read delete', `writer-${path}`);
      try {
        const deleted = await writer.client.callTool({ name: 'delete-note', arguments: {} });
        assert.equal(deleted.content[0].text, 'deleted');
      } finally {
        await writer.client.close();
      }
    });
  }

  test('401 without a token, with the metadata URL the server serves', async () => {
    const res = await fetch(`${app.url}/mcp`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 401);
    const challenge = res.headers.get('www-authenticate');
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)[1];
    const doc = await fetch(metadataUrl);
    assert.equal(doc.status, 200);
    assert.equal((await doc.json()).resource, `${app.url}/mcp`);
  });

  test("SDK v2's requireBearerAuth with tokenVerifier({ sdk: 'v2' }): caller, 401, 403", async () => {
    const url = `${app.url}/v2-gate`;
    const { client } = await connect(ClientV2, TransportV2, url, 'read', 'v2-gate-user');
    try {
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal(who.content[0].text, 'v2-gate-user');
    } finally {
      await client.close();
    }
    const post = async (token) =>
      fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
    const otherAudience = await post(await iss.mint({ aud: `${app.url}/mcp`, scope: 'read' }));
    assert.equal(otherAudience.status, 401);
    assert.match(otherAudience.headers.get('www-authenticate'), /error="invalid_token"/);
    const noScope = await post(await iss.mint({ aud: url, scope: 'other' }));
    assert.equal(noScope.status, 403);
    assert.match(noScope.headers.get('www-authenticate'), /error="insufficient_scope"/);
  });
});
