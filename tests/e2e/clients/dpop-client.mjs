#!/usr/bin/env node
// An MCP client with DPoP (RFC 9449) sender-constrained tokens. The MCP SDK clients do not do
// DPoP yet, so discovery, registration, authorization and the token request are written out here
// with `jose`; the SDK's Client and StreamableHTTPClientTransport carry the MCP messages through a
// fetch that signs a fresh proof for every request.
//
// Usage: node dpop-client.mjs <server-url> --user alice [--grant "read:todos"] [--alg ES256]
//                             [--call get-todos] [--call 'create-todo={"content":"milk"}'] ...
//                             [--no-checks]
// Prints one JSON object: {user, key, discovery, token, http: [exchanges], calls, checks}.
//
// 1. discovery: an unauthenticated initialize gets 401; its WWW-Authenticate names the DPoP
//    algorithms and resource_metadata -> protected resource metadata (RFC 9728) -> the
//    authorization server's metadata (RFC 8414);
// 2. a key pair of an algorithm both servers accept; registration (RFC 7591) with
//    dpop_bound_access_tokens; authorization code + PKCE with resource and dpop_jkt; the token
//    request with a proof (and the AS's nonce when it asks for one): a DPoP-bound token (cnf.jkt);
// 3. MCP over Streamable HTTP: `Authorization: DPoP <token>` and a new proof (htm, htu, ath and
//    the server's newest nonce) on every request; a `use_dpop_nonce` 401 is answered by one retry
//    with the nonce the answer carries; a 403 insufficient_scope by a step-up (new authorization
//    for the challenged scopes, same key);
// 4. checks the server must refuse (after the calls, unless --no-checks): a proof sent twice, the
//    token as Bearer, the token without a proof, a proof of another key; and a proof without a
//    nonce, which a server with nonces answers use_dpop_nonce + DPoP-Nonce (retried with it).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose';

import { HeadlessUser } from './headless-user.mjs';

// Registered as the redirect URI; nothing listens there, the code is read off the redirect.
const REDIRECT_URI = 'http://127.0.0.1:53684/callback';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    user: { type: 'string', default: 'alice' },
    grant: { type: 'string' },
    alg: { type: 'string', default: 'ES256' },
    call: { type: 'string', multiple: true, default: [] },
    'no-checks': { type: 'boolean', default: false },
  },
});
const [serverUrl] = positionals;
if (!serverUrl) {
  throw new Error('usage: dpop-client.mjs <server-url> --user <name> [--grant <scopes>] [--alg ES256] [--call tool[=json]]...');
}
const server = new URL(serverUrl);

const http = [];
const record = (exchange) => http.push(exchange);
const user = new HeadlessUser(opts.user, opts.grant, { redirectUri: REDIRECT_URI, record });

/**
 * Splits a WWW-Authenticate value into challenges. fetch joins several header lines with ", ",
 * so a new challenge starts at a token that is not followed by "=" (RFC 9110 §11.6.1).
 */
function parseChallenges(value) {
  const challenges = [];
  const re = /\s*([!#$%&'*+\-.^_`|~\w]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*))?\s*,?/gy;
  let current;
  for (let m = re.exec(value); m && m[0]; m = re.exec(value)) {
    const [, name, raw] = m;
    if (raw === undefined) {
      current = { scheme: name, params: {} };
      challenges.push(current);
    } else if (current) {
      current.params[name.toLowerCase()] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    }
  }
  return challenges;
}

const dpopChallenge = (res) => parseChallenges(res.headers.get('www-authenticate') ?? '')
  .find((c) => c.scheme.toLowerCase() === 'dpop');

async function readJson(res) {
  return (res.headers.get('content-type') ?? '').includes('json') ? res.json().catch(() => undefined) : undefined;
}

// ---- the key and its proofs

const { publicKey, privateKey } = await generateKeyPair(opts.alg, { extractable: false });
const publicJwk = await exportJWK(publicKey);
const jkt = await calculateJwkThumbprint(publicJwk);
const ath = (token) => createHash('sha256').update(token).digest('base64url');

/** A DPoP proof (RFC 9449 §4.2) for one request; `htu` without query and fragment. */
async function proofFor(method, url, { token, nonce, key = { privateKey, publicJwk } } = {}) {
  const htu = new URL(url);
  htu.search = '';
  htu.hash = '';
  const claims = { htm: method, htu: htu.href, jti: randomUUID(), iat: Math.floor(Date.now() / 1000) };
  if (token) claims.ath = ath(token);
  if (nonce) claims.nonce = nonce;
  const jwt = await new SignJWT(claims)
    .setProtectedHeader({ alg: opts.alg, typ: 'dpop+jwt', jwk: key.publicJwk })
    .sign(key.privateKey);
  return { jwt, claims };
}

// The newest nonce each server gave (RFC 9449 §8: a nonce belongs to the server that issued it).
const nonces = new Map();
const rememberNonce = (url, res) => {
  const nonce = res.headers.get('dpop-nonce');
  if (nonce) nonces.set(new URL(url).origin, nonce);
  return nonce ?? undefined;
};

function describeProof(claims) {
  return { jti: claims.jti, htm: claims.htm, htu: claims.htu, ath: !!claims.ath, ...(claims.nonce && { nonce: true }) };
}

// ---- discovery, registration, authorization, token

async function discover() {
  const initialize = {
    jsonrpc: '2.0', id: 0, method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '0' } },
  };
  const res = await fetch(server, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify(initialize),
  });
  const challenge = res.headers.get('www-authenticate') ?? '';
  record({
    method: 'POST', url: server.href, status: res.status, www_authenticate: challenge,
    ...(res.headers.get('dpop-nonce') && { dpop_nonce: true }), detail: 'initialize (no credentials)',
  });
  await res.body?.cancel();
  if (res.status !== 401) throw new Error(`expected 401 from ${server}, got ${res.status}`);
  rememberNonce(server, res);
  const challenges = parseChallenges(challenge);
  const dpop = challenges.find((c) => c.scheme.toLowerCase() === 'dpop');
  const metadataUrl = challenges.map((c) => c.params.resource_metadata).find(Boolean);
  if (!metadataUrl) throw new Error(`no resource_metadata in ${JSON.stringify(challenge)}`);

  const prmRes = await fetch(metadataUrl);
  const prm = await prmRes.json();
  record({
    method: 'GET', url: metadataUrl, status: prmRes.status,
    detail: `resource=${prm.resource} authorization_servers=${JSON.stringify(prm.authorization_servers)}`
      + ` dpop_signing_alg_values_supported=${JSON.stringify(prm.dpop_signing_alg_values_supported)}`
      + ` dpop_bound_access_tokens_required=${prm.dpop_bound_access_tokens_required}`,
  });
  if (prm.resource !== server.href) throw new Error(`PRM resource ${prm.resource} is not ${server.href}`);

  const issuer = new URL(prm.authorization_servers[0]);
  // RFC 8414 §3.1: the well-known segment goes before the issuer's path.
  const asUrl = new URL(`/.well-known/oauth-authorization-server${issuer.pathname.replace(/\/$/, '')}`, issuer);
  const asRes = await fetch(asUrl);
  const as = await asRes.json();
  record({
    method: 'GET', url: asUrl.href, status: asRes.status,
    detail: `issuer=${as.issuer} dpop_signing_alg_values_supported=${JSON.stringify(as.dpop_signing_alg_values_supported)}`,
  });

  const serverAlgs = dpop?.params.algs?.split(' ') ?? prm.dpop_signing_alg_values_supported ?? [];
  if (!serverAlgs.includes(opts.alg)) throw new Error(`the MCP server does not take ${opts.alg} proofs: ${serverAlgs}`);
  if (!(as.dpop_signing_alg_values_supported ?? []).includes(opts.alg)) {
    throw new Error(`the authorization server does not take ${opts.alg} proofs`);
  }
  return { challenge, challenges, prm, as };
}

async function register(as) {
  const res = await fetch(as.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'mcp-auth e2e (DPoP)',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      // RFC 9449 §5.2: the AS refuses this client any token request without a proof.
      dpop_bound_access_tokens: true,
    }),
  });
  const body = await res.json();
  record({ method: 'POST', url: as.registration_endpoint, status: res.status, detail: `registered client_id=${body.client_id}` });
  if (res.status !== 201) throw new Error(`registration failed: ${JSON.stringify(body)}`);
  return body.client_id;
}

/** POST to the token endpoint with a proof; one retry when the AS asks for its nonce. */
async function tokenRequest(as, form) {
  for (let attempt = 0; ; attempt += 1) {
    const { jwt, claims } = await proofFor('POST', as.token_endpoint, { nonce: nonces.get(new URL(as.token_endpoint).origin) });
    const res = await fetch(as.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: jwt },
      body: new URLSearchParams(form),
    });
    const nonce = rememberNonce(as.token_endpoint, res);
    const body = await res.json();
    record({
      method: 'POST', url: as.token_endpoint, status: res.status, proof: describeProof(claims),
      ...(nonce && { dpop_nonce: true }),
      detail: body.access_token
        ? `token_type=${body.token_type} scope=${JSON.stringify(body.scope)}`
        : `error=${body.error} ${body.error_description ?? ''}`.trim(),
    });
    if (res.status === 400 && body.error === 'use_dpop_nonce' && nonce && attempt === 0) continue;
    if (res.status !== 200) throw new Error(`token request failed: ${JSON.stringify(body)}`);
    return body;
  }
}

async function authorizeAndGetToken(as, clientId, resource, scope) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope,
    resource,
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    // RFC 9449 §10: the code is bound to this key, so a stolen code is useless to another one.
    dpop_jkt: jkt,
  });
  const redirect = await user.authorize(url);
  if (redirect.searchParams.get('state') !== state) throw new Error('state mismatch');
  if (as.authorization_response_iss_parameter_supported && redirect.searchParams.get('iss') !== as.issuer) {
    throw new Error('iss mismatch (RFC 9207)');
  }
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error(`authorization failed: ${redirect.search}`);
  const token = await tokenRequest(as, {
    grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier,
    redirect_uri: REDIRECT_URI, resource,
  });
  if (token.token_type?.toLowerCase() !== 'dpop') throw new Error(`expected a DPoP token, got ${token.token_type}`);
  return token;
}

function describeToken(token) {
  const claims = decodeJwt(token.access_token);
  return {
    token_type: token.token_type,
    scope: token.scope,
    claims: {
      iss: claims.iss, sub: claims.sub, aud: claims.aud, scope: claims.scope, client_id: claims.client_id, cnf: claims.cnf,
    },
    bound_to_our_key: claims.cnf?.jkt === jkt,
  };
}

// ---- MCP with proofs

let session;
let accessToken;
/** The last MCP request the server accepted: its headers (session, protocol version) are reused by the checks. */
let lastAccepted;

const mcpDetail = (body) => {
  if (typeof body !== 'string') return undefined;
  try {
    const message = JSON.parse(body);
    return message.method + (message.method === 'tools/call' ? ` ${message.params.name}` : '');
  } catch {
    return undefined;
  }
};

/** Sends one MCP request with the token and a fresh proof; records the exchange. */
async function sendWithProof(url, init, { detail = mcpDetail(init.body), token = accessToken } = {}) {
  const method = init.method ?? 'GET';
  const headers = new Headers(init.headers);
  const { jwt, claims } = await proofFor(method, url, { token, nonce: nonces.get(server.origin) });
  headers.set('authorization', `DPoP ${token}`);
  headers.set('dpop', jwt);
  const res = await fetch(url, { ...init, headers });
  const nonce = rememberNonce(url, res);
  const challenge = res.headers.get('www-authenticate');
  record({
    method, url: new URL(url).href, status: res.status, authorization: 'DPoP', proof: describeProof(claims),
    ...(challenge && { www_authenticate: challenge }), ...(nonce && { dpop_nonce: true }), ...(detail && { detail }),
  });
  return { res, headers };
}

/** The SDK transport's fetch for the MCP server: proofs, the nonce retry and step-up. */
async function dpopFetch(input, init = {}) {
  const url = new URL(input instanceof Request ? input.url : input);
  if (url.origin !== server.origin) return fetch(input, init);
  let { res, headers } = await sendWithProof(url, init);
  if (res.status === 401 && dpopChallenge(res)?.params.error === 'use_dpop_nonce' && res.headers.get('dpop-nonce')) {
    await res.body?.cancel();
    ({ res, headers } = await sendWithProof(url, init));
  }
  const challenge = dpopChallenge(res);
  if (res.status === 403 && challenge?.params.error === 'insufficient_scope' && challenge.params.scope) {
    await res.body?.cancel();
    const token = await authorizeAndGetToken(session.as, session.clientId, session.resource, challenge.params.scope);
    accessToken = token.access_token;
    session.tokens.push(describeToken(token));
    ({ res, headers } = await sendWithProof(url, init));
  }
  if (res.ok && (init.method ?? 'GET') === 'POST') lastAccepted = { url, headers };
  return res;
}

// ---- checks the server must refuse

async function probe(name, { authorization, proof }) {
  const headers = new Headers(lastAccepted.headers);
  headers.delete('dpop');
  if (authorization) headers.set('authorization', authorization);
  else headers.delete('authorization');
  if (proof) headers.set('dpop', proof.jwt);
  const body = JSON.stringify({ jsonrpc: '2.0', id: `check-${name}`, method: 'tools/list', params: {} });
  const res = await fetch(server, { method: 'POST', headers, body });
  const nonce = rememberNonce(server, res);
  const challenge = res.headers.get('www-authenticate');
  const json = await readJson(res);
  if (!json) await res.body?.cancel();
  const result = {
    status: res.status,
    ...(challenge && { www_authenticate: challenge, challenges: parseChallenges(challenge) }),
    ...(nonce && { dpop_nonce: true }),
    ...(json?.error && { error: json.error }),
  };
  record({
    method: 'POST', url: server.href, status: res.status, authorization: authorization?.split(' ')[0] ?? 'none',
    ...(proof && { proof: describeProof(proof.claims) }), ...(challenge && { www_authenticate: challenge }),
    ...(nonce && { dpop_nonce: true }), detail: `check ${name}: tools/list`,
  });
  return { result };
}

async function runChecks() {
  const checks = {};
  const fresh = () => proofFor('POST', server, { token: accessToken, nonce: nonces.get(server.origin) });

  // RFC 9449 §11.1: the same proof twice; the first use is accepted, the second refused.
  const once = await fresh();
  const first = await probe('replay (first use)', { authorization: `DPoP ${accessToken}`, proof: once });
  const again = await probe('replay (same proof again)', { authorization: `DPoP ${accessToken}`, proof: once });
  checks.replay = { first: first.result, again: again.result };

  // RFC 9449 §7.2: a bound token is no bearer token.
  checks.bearer = (await probe('bound token as Bearer', { authorization: `Bearer ${accessToken}` })).result;
  checks.no_proof = (await probe('DPoP scheme, no proof', { authorization: `DPoP ${accessToken}` })).result;
  const otherPair = await generateKeyPair(opts.alg);
  const other = await proofFor('POST', server, {
    token: accessToken, nonce: nonces.get(server.origin),
    key: { privateKey: otherPair.privateKey, publicJwk: await exportJWK(otherPair.publicKey) },
  });
  checks.other_key = (await probe('proof of another key', { authorization: `DPoP ${accessToken}`, proof: other })).result;
  const wrongHtu = await proofFor('POST', new URL('/elsewhere', server), { token: accessToken, nonce: nonces.get(server.origin) });
  checks.wrong_htu = (await probe('proof for another URL', { authorization: `DPoP ${accessToken}`, proof: wrongHtu })).result;

  // RFC 9449 §9: a proof without a nonce; a server with nonces answers use_dpop_nonce and
  // DPoP-Nonce, and the retry with that nonce is accepted.
  const bare = await proofFor('POST', server, { token: accessToken });
  const withoutNonce = await probe('proof without a nonce', { authorization: `DPoP ${accessToken}`, proof: bare });
  checks.nonce = { without: withoutNonce.result };
  if (withoutNonce.result.status === 401 && nonces.get(server.origin)) {
    const retried = await probe('retry with the server nonce', { authorization: `DPoP ${accessToken}`, proof: await fresh() });
    checks.nonce.retry = retried.result;
  }
  return checks;
}

// ---- the run

const calls = [];
const report = { user: opts.user, key: { alg: opts.alg, jkt } };
let exitCode = 0;
const client = new Client({ name: 'mcp-auth-e2e-dpop-client', version: '1.0.0' });
try {
  const discovery = await discover();
  report.discovery = { challenge: discovery.challenge, challenges: discovery.challenges, prm: discovery.prm };
  const clientId = await register(discovery.as);
  const scope = (discovery.prm.scopes_supported ?? []).join(' ');
  const token = await authorizeAndGetToken(discovery.as, clientId, discovery.prm.resource, scope);
  accessToken = token.access_token;
  session = { as: discovery.as, clientId, resource: discovery.prm.resource, tokens: [describeToken(token)] };
  report.tokens = session.tokens;

  await client.connect(new StreamableHTTPClientTransport(server, { fetch: dpopFetch }));
  for (const spec of opts.call) {
    const at = spec.indexOf('=');
    const tool = at === -1 ? spec : spec.slice(0, at);
    const args = at === -1 ? {} : JSON.parse(spec.slice(at + 1));
    try {
      const result = await client.callTool({ name: tool, arguments: args });
      const text = result.content.map((c) => c.text ?? '').join('');
      calls.push({ tool, args, result: result.isError ? { isError: true, text } : JSON.parse(text) });
    } catch (error) {
      calls.push({ tool, args, error: String(error?.message ?? error) });
    }
  }
  if (!opts['no-checks']) report.checks = await runChecks();
} catch (error) {
  calls.push({ error: String(error?.stack ?? error) });
  exitCode = 1;
} finally {
  await client.close().catch(() => {});
}
process.stdout.write(`${JSON.stringify({ ...report, http, calls })}\n`);
process.exitCode = exitCode;
