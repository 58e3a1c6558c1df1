// Per-tool scopes in front of the real MCP SDK: McpServer + StreamableHTTPServerTransport
// (stateless and stateful) behind bearerAuth('jwt', { toolScopes }), driven by the SDK's Client
// + StreamableHTTPClientTransport. A tools/call of a tool with a rule is answered HTTP 403 with
// the insufficient_scope challenge before the tool runs; with a token holding the scope it
// succeeds. Routes differ in what runs before bearerAuth and how the transport gets the body.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import express from 'express';
import { MCPAuth } from 'mcp-auth';
import { z } from 'zod';

import { serve, startIssuer } from './support/servers.js';

/** How many times each tool body ran. */
const runs = { 'add-todo': 0, whoami: 0 };

const createServer = () => {
  const server = new McpServer({ name: 'todos', version: '1.0.0' });
  server.registerTool(
    'add-todo',
    { description: 'Adds a todo.', inputSchema: { content: z.string() } },
    ({ content }, { authInfo }) => {
      runs['add-todo'] += 1;
      return { content: [{ type: 'text', text: `${authInfo.subject}: ${content}` }] };
    }
  );
  server.registerTool(
    'whoami',
    { description: 'Who is calling.', inputSchema: {} },
    (_args, { authInfo }) => {
      runs.whoami += 1;
      return { content: [{ type: 'text', text: authInfo.subject }] };
    }
  );
  return server;
};

/** Stateless: a server and a transport per request. */
const stateless =
  ({ parsedBody }) =>
  async (req, res) => {
    const server = createServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await (parsedBody
      ? transport.handleRequest(req, res, req.body)
      : transport.handleRequest(req, res));
  };

/** Stateful: one transport per session, found by `Mcp-Session-Id`. */
const stateful = () => {
  const sessions = new Map();
  const post = async (req, res) => {
    const id = req.headers['mcp-session-id'];
    let transport = id ? sessions.get(id) : undefined;
    if (!transport) {
      if (id || !isInitializeRequest(req.body)) {
        res
          .status(400)
          .json({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'No session.' } });
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => sessions.set(sid, transport),
      });
      transport.onclose = () => sessions.delete(transport.sessionId);
      await createServer().connect(transport);
    }
    await transport.handleRequest(req, res, req.body);
  };
  const other = async (req, res) => {
    const transport = sessions.get(req.headers['mcp-session-id']);
    if (!transport) {
      res.status(400).end();
      return;
    }
    await transport.handleRequest(req, res);
  };
  return { post, other, sessions };
};

const routes = [
  { path: 'stateless', json: false, state: 'stateless', parsedBody: true },
  { path: 'stateless-json', json: true, state: 'stateless', parsedBody: true },
  // The transport reads the request itself (it gets the bytes bearerAuth read).
  { path: 'stateless-raw', json: false, state: 'stateless', parsedBody: false },
  { path: 'stateful', json: false, state: 'stateful' },
  { path: 'stateful-json', json: true, state: 'stateful' },
];

describe('MCP SDK behind bearerAuth with per-tool scopes', () => {
  let iss;
  let app;
  let resource;
  const statefulServers = [];

  before(async () => {
    iss = await startIssuer();
    const e = express();
    app = await serve(e);
    resource = `${app.url}/mcp`;
    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: {
          resource,
          authorizationServers: [{ issuer: iss.issuer, type: 'oidc' }],
          scopesSupported: ['read', 'create:todos'],
        },
      },
    });
    e.use(mcpAuth.protectedResourceMetadataRouter());
    const protect = mcpAuth.bearerAuth('jwt', {
      resource,
      audience: resource,
      requiredScopes: ['read'],
      toolScopes: { 'add-todo': ['create:todos'] },
    });
    for (const route of routes) {
      const before = route.json ? [express.json()] : [];
      if (route.state === 'stateless') {
        e.post(`/${route.path}`, ...before, protect, stateless(route));
        // No stream to resume and no session to end.
        e.all(`/${route.path}`, protect, (_req, res) => res.status(405).end());
      } else {
        const s = stateful();
        statefulServers.push(s);
        e.post(`/${route.path}`, ...before, protect, s.post);
        e.get(`/${route.path}`, protect, s.other);
        e.delete(`/${route.path}`, protect, s.other);
      }
    }
  });
  after(async () => {
    for (const s of statefulServers) {
      for (const transport of s.sessions.values()) {
        await transport.close();
      }
    }
    await app.close();
    await iss.close();
  });

  /** A connected client whose HTTP exchanges are recorded. */
  const connect = async (path, scope) => {
    const token = await iss.mint({
      aud: resource,
      sub: `user-${scope.replace(/\W/g, '-')}`,
      scope,
    });
    const seen = [];
    const transport = new StreamableHTTPClientTransport(new URL(`${app.url}/${path}`), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        seen.push({
          method: init?.method ?? 'GET',
          status: res.status,
          challenge: res.headers.get('www-authenticate'),
          body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
        });
        return res;
      },
    });
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    await client.connect(transport);
    return { client, transport, seen };
  };

  for (const route of routes) {
    test(`${route.path}: 403 with the challenge before the tool runs, then success with the scope`, async () => {
      const reader = await connect(route.path, 'read');
      try {
        if (route.state === 'stateful') {
          assert.ok(reader.transport.sessionId);
        }
        const who = await reader.client.callTool({ name: 'whoami', arguments: {} });
        assert.equal(who.content[0].text, 'user-read');
        const before = runs['add-todo'];
        await assert.rejects(
          reader.client.callTool({ name: 'add-todo', arguments: { content: 'milk' } }),
          (err) => err.code === 403
        );
        assert.equal(runs['add-todo'], before, 'the tool did not run');
        const refused = reader.seen.find((x) => x.status === 403);
        assert.equal(refused.method, 'POST');
        assert.equal(refused.body.method, 'tools/call');
        assert.equal(refused.body.params.name, 'add-todo');
        assert.match(refused.challenge, /^Bearer error="insufficient_scope"/);
        assert.match(refused.challenge, /scope="read create:todos"/);
        assert.match(
          refused.challenge,
          new RegExp(`resource_metadata="${app.url}/.well-known/oauth-protected-resource/mcp"`)
        );
        // The session (if any) still serves the calls the token allows.
        const again = await reader.client.callTool({ name: 'whoami', arguments: {} });
        assert.equal(again.content[0].text, 'user-read');
      } finally {
        await reader.client.close();
      }

      const writer = await connect(route.path, 'read create:todos');
      try {
        const before = runs['add-todo'];
        const added = await writer.client.callTool({
          name: 'add-todo',
          arguments: { content: 'milk' },
        });
        assert.equal(added.content[0].text, 'user-read-create-todos: milk');
        assert.equal(runs['add-todo'], before + 1);
        const posts = writer.seen.filter((x) => x.method === 'POST');
        assert.ok(
          posts.every((x) => x.status < 400),
          JSON.stringify(writer.seen)
        );
        if (route.state === 'stateful') {
          await writer.transport.terminateSession();
        }
      } finally {
        await writer.client.close();
      }
    });
  }
});
