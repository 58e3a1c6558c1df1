// The official MCP TypeScript client calling tools of an McpServer over streamable HTTP,
// behind bearerAuth('jwt'): each call sees its own caller's auth info.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { MCPAuth, MCPAuthBearerAuthError } from 'mcp-auth';
import { z } from 'zod';

import { serve, startIssuer } from './support/servers.js';

describe('MCP SDK over streamable HTTP', () => {
  let iss;
  let app;
  let resource;

  before(async () => {
    iss = await startIssuer();
    // The resource is this server itself; reserve the app first to know its URL.
    const appServer = express();
    app = await serve(appServer);
    resource = `${app.url}/mcp`;
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: {
          resource,
          authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }],
          scopesSupported: ['read', 'write'],
        },
      },
    });
    appServer.use(mcpAuth.protectedResourceMetadataRouter());
    appServer.use(express.json());
    appServer.post(
      '/mcp',
      mcpAuth.bearerAuth('jwt', { resource, audience: resource, requiredScopes: ['read'] }),
      async (req, res) => {
        // Stateless: a server and transport per request, as the SDK's examples do.
        const server = new McpServer({ name: 'test', version: '1.0.0' });
        server.tool('whoami', async ({ authInfo }) => {
          // Yield so that concurrent calls interleave.
          await new Promise((r) => setTimeout(r, 5));
          return {
            content: [
              {
                type: 'text',
                text: JSON.stringify({
                  subject: authInfo.subject,
                  scopes: authInfo.scopes,
                  claims: authInfo.claims,
                }),
              },
            ],
          };
        });
        server.tool('add', { a: z.number(), b: z.number() }, async ({ a, b }, { authInfo }) => {
          if (!authInfo.scopes.includes('write')) {
            throw new MCPAuthBearerAuthError('missing_required_scopes');
          }
          return { content: [{ type: 'text', text: String(a + b) }] };
        });
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        res.on('close', () => {
          void transport.close();
          void server.close();
        });
        await server.connect(transport);
        await transport.handleRequest(req, res, req.body);
      }
    );
  });
  after(async () => {
    await app.close();
    await iss.close();
  });

  const connect = async (token) => {
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(resource), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    return client;
  };

  const whoami = async (client) => {
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    return JSON.parse(result.content[0].text);
  };

  test('two identities call tools concurrently and each sees its own auth info', async () => {
    const alice = await connect(
      await iss.mint({ aud: resource, sub: 'alice', scope: 'read write' })
    );
    const bob = await connect(await iss.mint({ aud: resource, sub: 'bob', scope: 'read' }));
    try {
      const calls = [];
      for (let i = 0; i < 10; i++) {
        calls.push(whoami(alice).then((r) => ['alice', r]));
        calls.push(whoami(bob).then((r) => ['bob', r]));
      }
      for (const [who, result] of await Promise.all(calls)) {
        assert.equal(result.subject, who);
        assert.equal(result.claims.sub, who);
        assert.deepEqual(result.scopes, who === 'alice' ? ['read', 'write'] : ['read']);
      }
      const sum = await alice.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
      assert.equal(sum.content[0].text, '5');
      const denied = await bob.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
      assert.equal(denied.isError, true);
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  test('a client without a token is refused with a challenge pointing at the PRM', async () => {
    const res = await fetch(resource, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 401);
    const challenge = res.headers.get('www-authenticate');
    const prmUrl = /resource_metadata="([^"]+)"/.exec(challenge)[1];
    assert.equal(prmUrl, `${app.url}/.well-known/oauth-protected-resource/mcp`);
    const prm = await (await fetch(prmUrl)).json();
    assert.deepEqual(prm, {
      resource,
      scopes_supported: ['read', 'write'],
      authorization_servers: [iss.issuer],
    });
  });

  test('the SDK client surfaces a 403 for a token without the required scope', async () => {
    const token = await iss.mint({ aud: resource, sub: 'carol', scope: 'write' });
    await assert.rejects(connect(token));
  });
});
