#!/usr/bin/env node
// An MCP client on the TypeScript SDK: the SDK's StreamableHTTPClientTransport with an
// OAuthClientProvider does discovery, registration, authorization code + PKCE and step-up;
// this provider only plays the user at the authorization server's no-browser login form.
//
// Usage: node ts-client.mjs <server-url> --user alice [--grant "read:todos"]
//                           [--call get-todos] [--call 'create-todo={"content":"milk"}'] ...
// Prints one JSON object: {user, http: [exchanges], calls: [{tool, args, result|error}]}.
import { parseArgs } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { HeadlessUser } from './headless-user.mjs';

// Registered as the redirect URI; nothing listens there, the code is read off the redirect.
const REDIRECT_URI = 'http://127.0.0.1:53683/callback';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    user: { type: 'string', default: 'alice' },
    grant: { type: 'string' },
    call: { type: 'string', multiple: true, default: [] },
  },
});
const [serverUrl] = positionals;
if (!serverUrl) throw new Error('usage: ts-client.mjs <server-url> --user <name> [--grant <scopes>] [--call tool[=json]]...');

const http = [];

function describe(url, status, body) {
  if (!body || typeof body !== 'object') return undefined;
  if (url.pathname.includes('/.well-known/oauth-protected-resource')) {
    return `resource=${body.resource} authorization_servers=${JSON.stringify(body.authorization_servers)}`;
  }
  if (url.pathname.includes('/.well-known/')) return `issuer=${body.issuer} token_endpoint=${body.token_endpoint}`;
  if (status === 201 && body.client_id) return `registered client_id=${body.client_id}`;
  if (body.access_token) return `token_type=${body.token_type} scope=${JSON.stringify(body.scope)}`;
  if (typeof body.error === 'string') return `error=${body.error} ${body.error_description ?? ''}`.trim();
  return undefined;
}

/** fetch that records every request the SDK makes (MCP, discovery, registration, token). */
async function recordingFetch(input, init = {}) {
  const res = await fetch(input, init);
  const url = new URL(input instanceof Request ? input.url : input);
  const method = init.method ?? (input instanceof Request ? input.method : 'GET');
  const entry = { method, url: url.href, status: res.status };
  const challenge = res.headers.get('www-authenticate');
  if (challenge) entry.www_authenticate = challenge;
  if (url.href === new URL(serverUrl).href && typeof init.body === 'string') {
    const message = JSON.parse(init.body);
    entry.detail = message.method + (message.method === 'tools/call' ? ` ${message.params.name}` : '');
  } else if ((res.headers.get('content-type') ?? '').startsWith('application/json')) {
    entry.detail = describe(url, res.status, await res.clone().json().catch(() => undefined));
  }
  http.push(entry);
  return res;
}

class HeadlessOAuthProvider {
  #clientInformation;
  #tokens;
  #codeVerifier;
  pendingCode;

  constructor(user) {
    this.user = user;
  }

  get redirectUrl() {
    return REDIRECT_URI;
  }

  get clientMetadata() {
    return {
      client_name: 'mcp-auth e2e (TypeScript SDK)',
      redirect_uris: [REDIRECT_URI],
      // No refresh_token grant: on a 403 the 1.x SDK first tries a refresh, which cannot widen
      // the scopes, and gives up; without a refresh token it re-authorizes with the new scope.
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation() { return this.#clientInformation; }
  saveClientInformation(info) { this.#clientInformation = info; }
  tokens() { return this.#tokens; }
  saveTokens(tokens) { this.#tokens = tokens; }
  saveCodeVerifier(verifier) { this.#codeVerifier = verifier; }
  codeVerifier() { return this.#codeVerifier; }

  async redirectToAuthorization(authorizationUrl) {
    const redirect = await this.user.authorize(authorizationUrl);
    const code = redirect.searchParams.get('code');
    if (!code) throw new Error(`authorization failed: ${redirect.search}`);
    this.pendingCode = code;
  }
}

const provider = new HeadlessOAuthProvider(new HeadlessUser(opts.user, opts.grant, {
  redirectUri: REDIRECT_URI, record: (exchange) => http.push(exchange),
}));
let transport;
const client = new Client({ name: 'mcp-auth-e2e-ts-client', version: '1.0.0' });

/**
 * Runs `operation`; when the SDK had to send the user to the authorization server (it throws
 * UnauthorizedError after redirectToAuthorization), hands it the code and runs it once more.
 */
async function withAuthorization(operation) {
  try {
    return await operation();
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || !provider.pendingCode) throw error;
    const code = provider.pendingCode;
    provider.pendingCode = undefined;
    await transport.finishAuth(code);
    return operation();
  }
}

const connect = async () => {
  transport = new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider, fetch: recordingFetch });
  await client.connect(transport);
};

const calls = [];
let exitCode = 0;
try {
  await withAuthorization(connect);
  for (const spec of opts.call) {
    const at = spec.indexOf('=');
    const tool = at === -1 ? spec : spec.slice(0, at);
    const args = at === -1 ? {} : JSON.parse(spec.slice(at + 1));
    try {
      const result = await withAuthorization(() => client.callTool({ name: tool, arguments: args }));
      const text = result.content.map((c) => c.text ?? '').join('');
      calls.push({ tool, args, result: result.isError ? { isError: true, text } : JSON.parse(text) });
    } catch (error) {
      calls.push({ tool, args, error: String(error?.message ?? error) });
    }
  }
} catch (error) {
  calls.push({ error: String(error?.stack ?? error) });
  exitCode = 1;
} finally {
  await client.close().catch(() => {});
}
process.stdout.write(`${JSON.stringify({ user: opts.user, http, calls })}\n`);
process.exitCode = exitCode;
