// Spawns the server and drives it over plain HTTP, the way other test suites will.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../server.js', import.meta.url));

export const RESOURCE = 'http://127.0.0.1:3001/mcp';
export const REDIRECT_URI = 'http://127.0.0.1:49152/callback';

export async function startServer(...args) {
  const child = spawn(process.execPath, [SERVER, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  const { issuer, port } = JSON.parse(line);
  return {
    issuer,
    port,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

export async function postForm(url, form, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    // Entries set to undefined are left out, so a test can drop a default parameter.
    body: new URLSearchParams(Object.entries(form).filter(([, v]) => v !== undefined)),
    redirect: 'manual',
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

export const basic = (id, secret) => ({
  authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
});

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** Minimal cookie jar: fetch without following redirects, remembering Set-Cookie. */
export function browserlessClient() {
  const cookies = new Map();
  return async function request(url, init = {}) {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return res;
  };
}

/**
 * Runs the authorization-code flow up to the redirect back to the client:
 * GET /auth -> 303 /interaction/:uid -> POST login -> 303 /auth/:uid -> 303 redirect_uri?code=...
 * Returns the final redirect URL (with code or error) and the PKCE verifier.
 */
export async function authorize(issuer, {
  clientId = 'mcp-public-client', redirectUri = REDIRECT_URI, scope, resource = RESOURCE,
  username = 'alice', grant, extra = {}, request = browserlessClient(),
}) {
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(8).toString('hex');
  const authUrl = new URL('/auth', issuer);
  authUrl.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope,
    resource,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });

  const next = async (res) => {
    const location = res.headers.get('location');
    if (!location) throw new Error(`expected a redirect, got ${res.status}: ${await res.text()}`);
    return new URL(location, issuer);
  };
  let location = await next(await request(authUrl));
  if (location.pathname.startsWith('/interaction/') && username) {
    const form = { username };
    if (grant !== undefined) form.scope = grant;
    location = await next(await request(new URL(`${location.pathname}/login`, issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    }));
  }
  while (location.origin === new URL(issuer).origin) {
    location = await next(await request(location));
  }
  return { redirect: location, verifier, state };
}
