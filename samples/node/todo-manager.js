// Todo manager: an MCP server (McpServer, streamable HTTP) on Express, protected by mcp-auth.
//
//   MCP_AUTH_ISSUER=https://auth.example.com node todo-manager.js
//
// Environment:
//   MCP_AUTH_ISSUER          issuer of the authorization server (required)
//   PORT                     port to listen on, on 127.0.0.1 (default 3001)
//   MCP_RESOURCE_IDENTIFIER  this server's resource identifier, the URL clients connect to
//                            (default http://127.0.0.1:$PORT/mcp)
//   MCP_AUTH_INTROSPECTION_CLIENT_ID, MCP_AUTH_INTROSPECTION_CLIENT_SECRET
//                            set both for opaque access tokens: each token is checked at the
//                            authorization server's introspection endpoint (RFC 7662) instead
//                            of being verified as a JWT
//   MCP_AUTH_DPOP            `allowed` or `required`: DPoP (RFC 9449) sender-constrained tokens;
//                            `allowed` takes Bearer tokens too, `required` only DPoP-bound ones
//   MCP_AUTH_DPOP_NONCE_SECRET
//                            with MCP_AUTH_DPOP: server nonces (RFC 9449 §8) sealed under this
//                            secret (at least 32 bytes; replicas sharing it accept each other's)
//
// Scopes: `create:todos` to create; everyone sees and deletes their own todos, `read:todos`
// sees all of them and `delete:todos` deletes any.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { MCPAuth } from 'mcp-auth';
import { z } from 'zod';

import { TodoService } from './todo-service.js';

const issuer = process.env.MCP_AUTH_ISSUER;
if (!issuer) throw new Error('Set MCP_AUTH_ISSUER to the issuer of your authorization server');
const port = Number(process.env.PORT ?? 3001);
const resource = process.env.MCP_RESOURCE_IDENTIFIER ?? `http://127.0.0.1:${port}/mcp`;

const mcpAuth = new MCPAuth({
  protectedResources: {
    metadata: {
      resource,
      // Discovered on first use, so the server starts even while the issuer is down.
      authorizationServers: [{ issuer, type: 'oidc' }],
      scopesSupported: ['create:todos', 'read:todos', 'delete:todos'],
    },
  },
});

// Opaque tokens are checked by introspection at every request, so a revoked token stops
// working at once; `cacheMaxAge` (ms) would reuse answers for a while (never past `exp`).
const introspection = process.env.MCP_AUTH_INTROSPECTION_CLIENT_ID
  ? {
      clientId: process.env.MCP_AUTH_INTROSPECTION_CLIENT_ID,
      clientSecret: process.env.MCP_AUTH_INTROSPECTION_CLIENT_SECRET ?? '',
    }
  : undefined;
// DPoP when MCP_AUTH_DPOP is set: proofs are checked against the resource identifier's origin
// plus the request path, so the server's view of its own URL (Host, a proxy) does not matter.
const nonceSecret = process.env.MCP_AUTH_DPOP_NONCE_SECRET;
const dpop = process.env.MCP_AUTH_DPOP
  ? { mode: process.env.MCP_AUTH_DPOP, ...(nonceSecret && { nonceSecret }) }
  : undefined;
const protect = (options) =>
  introspection
    ? mcpAuth.bearerAuth('introspection', { ...options, introspection, ...(dpop && { dpop }) })
    : mcpAuth.bearerAuth('jwt', { ...options, ...(dpop && { dpop }) });

const todos = new TodoService();
const json = (value) => ({ content: [{ type: 'text', text: JSON.stringify(value) }] });

function createMcpServer() {
  const server = new McpServer({ name: 'Todo Manager', version: '1.0.0' });

  server.registerTool(
    'whoami',
    { description: 'Who is calling: user, client, scopes, and the DPoP key the token is bound to.', inputSchema: {} },
    // `jkt` is set only on a sender-constrained call: a DPoP-bound token with a valid proof of its key.
    (_args, { authInfo }) =>
      json({ subject: authInfo.subject, clientId: authInfo.clientId, scopes: authInfo.scopes, jkt: authInfo.jkt ?? null }),
  );

  server.registerTool(
    'create-todo',
    { description: 'Create a new todo (requires create:todos).', inputSchema: { content: z.string() } },
    ({ content }, { authInfo }) => json(todos.create(content, authInfo.subject)),
  );

  server.registerTool(
    'get-todos',
    { description: "List your todos (everyone's with read:todos).", inputSchema: {} },
    (_args, { authInfo }) =>
      json({ todos: todos.list(authInfo.subject, { allOwners: authInfo.scopes.includes('read:todos') }) }),
  );

  server.registerTool(
    'delete-todo',
    { description: 'Delete one of your todos (any todo with delete:todos).', inputSchema: { id: z.string() } },
    ({ id }, { authInfo }) => {
      const todo = todos.delete(id, authInfo.subject, { anyOwner: authInfo.scopes.includes('delete:todos') });
      return json(todo ? { message: `Todo ${id} deleted`, details: todo } : { error: 'Failed to delete todo' });
    },
  );

  return server;
}

const app = express();
// The protected resource metadata (RFC 9728), public: clients discover the issuer here.
app.use(mcpAuth.protectedResourceMetadataRouter());

const mcpPath = new URL(resource).pathname;
// Every request needs a token for this resource; a `tools/call` of `create-todo` also needs
// `create:todos`. The body is checked here, before the MCP handler: a scope error thrown inside
// a tool would reach the client as a tool result with HTTP 200, while this answers HTTP 403 with
// `WWW-Authenticate: Bearer error="insufficient_scope", scope="create:todos"`, which MCP clients
// answer by asking the user for a token with more scopes (step-up authorization). A body that
// cannot be read unambiguously (a key twice, lenient JSON, another charset) is refused with 400.
app.use(mcpPath, protect({ resource, audience: resource, toolScopes: { 'create-todo': ['create:todos'] } }));

// bearerAuth has read the body: `req.body` is the parsed JSON-RPC message (no express.json()).
app.post(mcpPath, async (req, res) => {
  // Stateless: a server and a transport per request, so every call runs with its own caller.
  const server = createMcpServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});

// Stateless servers have no stream to resume and no session to end.
app.all(mcpPath, (_req, res) => {
  res.status(405).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
});

app.listen(port, '127.0.0.1', (error) => {
  if (error) throw error;
  console.log(`Todo manager (MCP) listening on http://127.0.0.1:${port}${mcpPath}`);
});
