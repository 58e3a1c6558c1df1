// Real servers on 127.0.0.1 for the tests: a test issuer and Express apps.
import { spawn } from 'node:child_process';
import http from 'node:http';

import { SignJWT, exportJWK, generateKeyPair } from 'jose';

/** Starts `server` on a random free port of 127.0.0.1; resolves to its base URL. */
export const listen = (server) =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve(`http://127.0.0.1:${port}`);
    });
  });

export const close = (server) =>
  new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });

/** Serves an Express app; returns `{ url, close }`. */
export const serve = async (app) => {
  const server = http.createServer(app);
  const url = await listen(server);
  return { url, server, close: () => close(server) };
};

/**
 * Serves a web-standard `fetch(request)` handler over real HTTP (@hono/node-server, which
 * turns each Node request into a WHATWG `Request`); returns `{ url, close }`.
 */
export const serveFetch = async (fetchHandler) => {
  const { createAdaptorServer } = await import('@hono/node-server');
  const server = createAdaptorServer({ fetch: fetchHandler });
  const url = await listen(server);
  return { url, server, close: () => close(server) };
};

/**
 * A local authorization server: discovery documents (OIDC and OAuth), a JWKS and a minting
 * function. `hits` counts requests per path. The issuer is the server's base URL plus `path`;
 * `serves` picks which metadata URLs answer: `oauth` (RFC 8414, path inserted), `oidc-inserted`
 * and `oidc` (OpenID Connect, path appended); the others are 404.
 */
export const startIssuer = async ({
  alg = 'RS256',
  delayMs = 0,
  metadata: extra = {},
  path: issuerPath = '',
  serves = ['oauth', 'oidc-inserted', 'oidc'],
} = {}) => {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg, use: 'sig' };
  const hits = new Map();
  let base = '';
  let origin = '';
  const metadata = () => ({
    issuer: base,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    registration_endpoint: `${base}/register`,
    jwks_uri: `${origin}/jwks`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    userinfo_endpoint: `${base}/userinfo`,
    ...extra,
  });
  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (delayMs) {
      await new Promise((r) => setTimeout(r, delayMs));
    }
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const documents = {
      oauth: `/.well-known/oauth-authorization-server${issuerPath}`,
      'oidc-inserted': `/.well-known/openid-configuration${issuerPath}`,
      oidc: `${issuerPath}/.well-known/openid-configuration`,
    };
    if (serves.some((kind) => documents[kind] === path)) {
      return send(200, metadata());
    }
    if (path === '/jwks') {
      return send(200, { keys: [jwk] });
    }
    return send(404, { error: 'not_found' });
  });
  origin = await listen(server);
  base = `${origin}${issuerPath}`;

  /** Mints an access token; `claims` override the defaults, `header` the protected header. */
  const mint = async (claims = {}, { header = {}, expiresIn = '1h' } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const body = {
      iss: base,
      sub: 'user-1',
      client_id: 'client-1',
      scope: 'read write',
      ...claims,
    };
    let jwt = new SignJWT({ iat: now, ...body }).setProtectedHeader({
      alg,
      kid: 'key-1',
      ...header,
    });
    if (expiresIn) {
      jwt = jwt.setExpirationTime(expiresIn);
    }
    return jwt.sign(privateKey);
  };

  return {
    issuer: base,
    origin,
    jwksUri: `${origin}/jwks`,
    jwk,
    publicKey,
    privateKey,
    hits,
    metadata,
    mint,
    close: () => close(server),
  };
};

/** A port nobody listens on yet. */
export const freePort = async () => {
  const s = http.createServer();
  const url = await listen(s);
  await close(s);
  return Number(new URL(url).port);
};

/**
 * Runs a documentation snippet as a child process and waits until `probeUrl` answers.
 * `output` collects what it prints.
 */
export const startSnippet = async (path, env, probeUrl) => {
  const output = [];
  const child = spawn(process.execPath, [path], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => output.push(String(d)));
  child.stderr.on('data', (d) => output.push(String(d)));
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`the snippet exited: ${output.join('')}`);
    }
    try {
      await fetch(probeUrl);
      return { child, output };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
};
