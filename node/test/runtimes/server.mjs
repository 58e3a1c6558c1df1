// An MCP server on another JavaScript runtime's own HTTP server (Bun.serve, Deno.serve):
// mcpAuth.fetchHandler at /mcp and an mcp-auth/hono app at /hono/mcp, each with the MCP SDK's
// web-standard transport behind and per-tool scopes. Prints `{ "url": ... }` once listening;
// the issuer is $ISSUER.
import process from 'node:process';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono } from 'hono';
import { MCPAuth } from 'mcp-auth';
import { bearerAuth, protectedResourceMetadata } from 'mcp-auth/hono';

const runtime = typeof Bun !== 'undefined' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node';
let handle = () => new Response('starting', { status: 503 });

const listen = async () => {
  if (runtime === 'bun') {
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (r) => handle(r) });
    return server.port;
  }
  if (runtime === 'deno') {
    const listening = Promise.withResolvers();
    Deno.serve(
      { port: 0, hostname: '127.0.0.1', onListen: ({ port }) => listening.resolve(port) },
      (r) => handle(r)
    );
    return listening.promise;
  }
  throw new Error('run this with bun or deno');
};

const port = await listen();
const url = `http://127.0.0.1:${port}`;
const authorizationServers = [{ issuer: process.env.ISSUER, type: 'oidc' }];
const mcpAuth = new MCPAuth({
  protectedResources: [
    { metadata: { resource: `${url}/mcp`, authorizationServers } },
    { metadata: { resource: `${url}/hono/mcp`, authorizationServers } },
  ],
});
const rules = { requiredScopes: ['read'], toolScopes: { 'delete-note': ['delete'] } };

const mcp = (request, authInfo) => {
  const server = new McpServer({ name: `notes-${runtime}`, version: '1.0.0' });
  server.registerTool('whoami', { inputSchema: {} }, (_a, extra) => ({
    content: [{ type: 'text', text: `${extra.authInfo.subject} on ${runtime}` }],
  }));
  server.registerTool('delete-note', { inputSchema: {} }, () => ({
    content: [{ type: 'text', text: 'deleted' }],
  }));
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  return server.connect(transport).then(() => transport.handleRequest(request, { authInfo }));
};

const plain = mcpAuth.fetchHandler(
  mcpAuth.fetchBearerAuth('jwt', { resource: `${url}/mcp`, audience: `${url}/mcp`, ...rules }),
  mcp
);
const app = new Hono();
app.use(protectedResourceMetadata(mcpAuth));
app.all(
  '/hono/mcp',
  bearerAuth(mcpAuth, 'jwt', {
    resource: `${url}/hono/mcp`,
    audience: `${url}/hono/mcp`,
    ...rules,
  }),
  (c) => mcp(c.req.raw, c.get('auth'))
);

handle = (request) =>
  new URL(request.url).pathname.startsWith('/hono/') ? app.fetch(request) : plain(request);
console.log(JSON.stringify({ url, runtime }));
