// The MCP SDK's SSE transport (as in the 0.2.0 samples): GET /sse and POST /messages, both
// behind bearerAuth; tools see the caller's auth info.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import express from 'express';
import { MCPAuth } from 'mcp-auth';

import { serve, startIssuer } from './support/servers.js';

let iss;
let app;

before(async () => {
  iss = await startIssuer();
  const mcpAuth = new MCPAuth({ server: { issuer: iss.issuer, type: 'oidc' }, logger: {} });
  const server = new McpServer({ name: 'whoami', version: '1.0.0' });
  server.tool('whoami', ({ authInfo }) => ({
    content: [{ type: 'text', text: JSON.stringify(authInfo.claims) }],
  }));
  const transports = new Map();
  const e = express();
  e.use(mcpAuth.delegatedRouter());
  e.use(mcpAuth.bearerAuth('jwt', { requiredScopes: ['read'] }));
  e.get('/sse', async (_req, res) => {
    const transport = new SSEServerTransport('/messages', res);
    transports.set(transport.sessionId, transport);
    res.on('close', () => transports.delete(transport.sessionId));
    await server.connect(transport);
  });
  e.post('/messages', async (req, res) => {
    const transport = transports.get(req.query.sessionId);
    await transport.handlePostMessage(req, res);
  });
  // With a per-tool rule the body is read by bearerAuth first; handlePostMessage (given no
  // parsed body) reads it from the request stream again.
  e.post(
    '/ruled-messages',
    mcpAuth.bearerAuth('jwt', { requiredScopes: ['read'], toolScopes: { whoami: ['admin'] } }),
    async (req, res) => {
      const transport = transports.get(req.query.sessionId);
      await transport.handlePostMessage(req, res);
    }
  );
  e.get('/ruled-sse', async (_req, res) => {
    const transport = new SSEServerTransport('/ruled-messages', res);
    transports.set(transport.sessionId, transport);
    res.on('close', () => transports.delete(transport.sessionId));
    await server.connect(transport);
  });
  app = await serve(e);
});

after(async () => {
  await app.close();
  await iss.close();
});

test("tools called over SSE receive the caller's claims", async () => {
  const token = await iss.mint({ sub: 'frank' });
  const client = new Client({ name: 'c', version: '1.0.0' });
  const headers = { Authorization: `Bearer ${token}` };
  await client.connect(
    new SSEClientTransport(new URL(`${app.url}/sse`), {
      requestInit: { headers },
      eventSourceInit: {
        fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...headers } }),
      },
    })
  );
  try {
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const claims = JSON.parse(result.content[0].text);
    assert.equal(claims.sub, 'frank');
    assert.equal(claims.iss, iss.issuer);
  } finally {
    await client.close();
  }
});

test('a per-tool rule in front of handlePostMessage: 403 without the scope, the call with it', async () => {
  const connect = async (scope) => {
    const token = await iss.mint({ sub: 'grace', scope });
    const client = new Client({ name: 'c', version: '1.0.0' });
    const headers = { Authorization: `Bearer ${token}` };
    await client.connect(
      new SSEClientTransport(new URL(`${app.url}/ruled-sse`), {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...headers } }),
        },
      })
    );
    return client;
  };
  const reader = await connect('read');
  try {
    await assert.rejects(reader.callTool({ name: 'whoami', arguments: {} }), /403/);
  } finally {
    await reader.close();
  }
  const admin = await connect('read admin');
  try {
    const result = await admin.callTool({ name: 'whoami', arguments: {} });
    assert.equal(JSON.parse(result.content[0].text).sub, 'grace');
  } finally {
    await admin.close();
  }
});
