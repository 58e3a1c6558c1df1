#!/usr/bin/env node
// Localhost OAuth 2.1 / OpenID authorization server for development and end-to-end tests.
// Usage: node server.js [--port 0] [--alg RS256|ES256] [--resource-alg <url>=<alg>|opaque]...
//                       [--scopes "extra:scope ..."] [--grace-seconds 300] [--auto-login alice]
//                       [--dpop-nonce]
// Prints one JSON line {"issuer": ..., "port": ...} on stdout once it accepts connections.
import './lib/console.js';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

import { RESOURCE_SCOPES, USERS, isLocalResource, providerConfiguration, randomSecret } from './lib/config.js';
import { handleInteraction } from './lib/interactions.js';
import { KeyRing, SIGNING_ALGS } from './lib/keys.js';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    alg: { type: 'string', default: 'RS256' },
    'resource-alg': { type: 'string', multiple: true, default: [] },
    scopes: { type: 'string', default: '' },
    'grace-seconds': { type: 'string', default: '300' },
    'auto-login': { type: 'string' },
    'dpop-nonce': { type: 'boolean', default: false },
  },
});

function checkAlg(alg) {
  if (!SIGNING_ALGS.includes(alg)) throw new Error(`unsupported alg ${alg} (use ${SIGNING_ALGS.join(' or ')})`);
  return alg;
}
checkAlg(opts.alg);
if (opts['auto-login'] && !USERS[opts['auto-login']]) throw new Error(`unknown user ${opts['auto-login']}`);

const keys = new KeyRing();
// Per resource: a signing algorithm, or 'opaque' for tokens only introspection can read.
const checkFormat = (alg) => (alg === 'opaque' ? alg : checkAlg(alg));
const resourceAlgs = new Map(opts['resource-alg'].map((pair) => {
  const at = pair.lastIndexOf('=');
  return [pair.slice(0, at), checkFormat(pair.slice(at + 1))];
}));
const resourceScopes = [...new Set([...RESOURCE_SCOPES, ...opts.scopes.split(/\s+/).filter(Boolean)])];
const cookieKeys = [randomSecret()];
const dpopNonceSecret = randomBytes(32);
const defaultGrace = Number(opts['grace-seconds']);
if (!(defaultGrace >= 0)) throw new Error('--grace-seconds must be a number >= 0');

let issuer;
let provider;
let providerHandler;

// oidc-provider fixes its keystore at construction, so a key change builds a new
// instance; grants, sessions and dynamic clients live in one shared in-memory
// adapter and the cookie keys stay the same, so nothing is lost.
function buildProvider() {
  provider = new Provider(issuer, providerConfiguration({
    keys,
    resourceScopes,
    cookieKeys,
    dpopNonceSecret,
    dpopRequireNonce: opts['dpop-nonce'],
    algFor: (resource) => resourceAlgs.get(resource) ?? opts.alg,
  }));
  // oidc-provider answers its own failures with 500 server_error and says nothing; say why here.
  provider.on('server_error', (ctx, err) => console.error(`server_error at ${ctx.path}:`, err));
  providerHandler = provider.callback();
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString();
  if (!text) return {};
  if ((req.headers['content-type'] ?? '').startsWith('application/json')) return JSON.parse(text);
  return Object.fromEntries(new URLSearchParams(text));
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const admin = {
  // Rotate signing keys: body/query alg=RS256|ES256 (default both), grace_seconds=N.
  'POST /admin/rotate'(params) {
    const algs = params.alg ? [checkAlg(params.alg)] : SIGNING_ALGS;
    const grace = params.grace_seconds === undefined ? defaultGrace : Number(params.grace_seconds);
    if (!(grace >= 0)) throw new Error('grace_seconds must be a number >= 0');
    const result = keys.rotate(algs, grace);
    buildProvider();
    if (grace > 0) {
      setTimeout(() => keys.prune() && buildProvider(), grace * 1000 + 10).unref();
    }
    return result;
  },
  'GET /admin/keys'() {
    return keys.describe();
  },
  // Choose the access-token signing algorithm (or 'opaque') for one resource: {resource, alg}.
  'POST /admin/resources'(params) {
    if (!isLocalResource(params.resource ?? '')) throw new Error('resource must be a local http(s) URL');
    resourceAlgs.set(params.resource, checkFormat(params.alg));
    return { resource: params.resource, alg: params.alg };
  },
};

async function handle(req, res) {
  const url = new URL(req.url, issuer);
  const route = `${req.method} ${url.pathname}`;
  if (admin[route]) {
    try {
      const params = { ...Object.fromEntries(url.searchParams), ...(await readBody(req)) };
      return sendJson(res, 200, admin[route](params));
    } catch (err) {
      return sendJson(res, 400, { error: 'invalid_request', error_description: err.message });
    }
  }
  const interaction = url.pathname.match(/^\/interaction\/([\w-]+)(?:\/(login|abort))?$/);
  if (interaction) {
    try {
      const body = req.method === 'POST' ? await readBody(req) : {};
      return await handleInteraction(provider, req, res, {
        uid: interaction[1], action: interaction[2], body, autoLogin: opts['auto-login'],
      });
    } catch (err) {
      if (!res.headersSent) sendJson(res, 400, { error: err.name ?? 'invalid_request', error_description: err.message });
      return undefined;
    }
  }
  return providerHandler(req, res);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: err.message });
  });
});

server.listen(Number(opts.port), '127.0.0.1', () => {
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}`;
  buildProvider();
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
