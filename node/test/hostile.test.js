// Hostile tokens and Authorization headers through the public API, against real Express apps.
// Every case gets a 4xx with one of the documented bodies, never a 5xx; `jku`, `x5u`, `jwk`,
// `x5c` and URL-like `kid` values are never followed. The shared vectors hold more cases.
import assert from 'node:assert/strict';
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import express from 'express';
import { MCPAuth, MCPAuthTokenVerificationError, createVerifyJwt } from 'mcp-auth';

import { close, listen } from './support/servers.js';

// The packed-tarball run copies test/ elsewhere and says where the vectors are.
const vectors = process.env.MCP_AUTH_VECTORS
  ? pathToFileURL(`${process.env.MCP_AUTH_VECTORS}/`)
  : new URL('../../tests/vectors/', import.meta.url);
const V = JSON.parse(readFileSync(new URL('tokens.json', vectors), 'utf8'));
const { issuer: ISSUER, resource: RESOURCE, resource_metadata: PRM } = V;
const MB = 1024 * 1024;

const DOCUMENTED = {
  missing_auth_header: 'Missing `Authorization` header. Please provide a valid bearer token.',
  invalid_auth_header_format: 'Invalid `Authorization` header format. Expected "Bearer <token>".',
  missing_bearer_token:
    'Missing bearer token in `Authorization` header. Please provide a valid token.',
  invalid_token: 'The provided token is invalid or malformed.',
};

const pem = (name) => readFileSync(new URL(`keys/${name}`, vectors));
const RSA = createPrivateKey(pem('rsa1.pem'));
const EC = createPrivateKey(pem('ec256.pem'));
const ATTACKER = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

const b64 = (buf) => Buffer.from(buf).toString('base64url');
const part = (v) => b64(typeof v === 'string' || Buffer.isBuffer(v) ? v : JSON.stringify(v));
const now = () => Math.floor(Date.now() / 1000);
const claims = (extra = {}) => {
  const c = {
    iss: ISSUER,
    sub: 'user-1',
    aud: RESOURCE,
    client_id: 'client-1',
    scope: 'read write',
    iat: now(),
    exp: now() + 3600,
    ...extra,
  };
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
};

/** A really signed token, so that only its hostile part can make it fail. */
const token = ({
  header = { alg: 'RS256', typ: 'JWT', kid: 'rsa-1' },
  payload = claims(),
  alg = 'RS256',
  key = RSA,
} = {}) => {
  const input = `${part(header)}.${part(payload)}`;
  let sig;
  if (alg.startsWith('HS')) {
    sig = createHmac(`sha${alg.slice(2)}`, key)
      .update(input)
      .digest();
  } else if (alg === 'RS256') {
    sig = cryptoSign('sha256', Buffer.from(input), key);
  } else {
    throw new Error(alg);
  }
  return `${input}.${b64(sig)}`;
};

/** GET with the Authorization value sent byte for byte; null if the server just closed. */
const rawGet = (url, header) =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    const chunks = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? null : reject(e)));
    socket.on('close', () => {
      const raw = Buffer.concat(chunks);
      if (raw.length === 0) {
        return resolve(null);
      }
      const at = raw.indexOf('\r\n\r\n');
      const lines = raw.subarray(0, at).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(
        lines
          .slice(1)
          .map((l) => [
            l.slice(0, l.indexOf(':')).toLowerCase(),
            l.slice(l.indexOf(':') + 1).trim(),
          ])
      );
      let body = raw.subarray(at + 4);
      if (headers['transfer-encoding'] === 'chunked') {
        const out = [];
        let i = 0;
        for (;;) {
          const eol = body.indexOf('\r\n', i);
          const n = parseInt(body.subarray(i, eol).toString(), 16);
          if (!n) break;
          out.push(body.subarray(eol + 2, eol + 2 + n));
          i = eol + 2 + n + 2;
        }
        body = Buffer.concat(out);
      }
      resolve({ status: Number(lines[0].split(' ')[1]), headers, text: body.toString() });
    });
    let request = Buffer.from(
      `GET /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n`
    );
    if (header !== null) {
      const value = Buffer.isBuffer(header) ? header : Buffer.from(header, 'latin1');
      request = Buffer.concat([
        request,
        Buffer.from('Authorization: '),
        value,
        Buffer.from('\r\n'),
      ]);
    }
    // No half-close: a server may drop a request whose sender already hung up.
    socket.write(Buffer.concat([request, Buffer.from('\r\n')]));
  });

describe('hostile tokens and headers against bearerAuth("jwt")', () => {
  let url;
  let server;
  let jwksServer;
  let trap;
  let trapUrl;
  let mcpAuth;
  let jwksUri;
  let jwksHits = 0;
  const trapHits = [];

  before(async () => {
    jwksServer = http.createServer((req, res) => {
      jwksHits += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(V.jwks));
    });
    jwksUri = `${await listen(jwksServer)}/jwks`;
    const attackerJwk = { ...ATTACKER.export({ format: 'jwk' }), kid: 'rsa-1' };
    delete attackerJwk.d;
    trap = http.createServer((req, res) => {
      trapHits.push(req.url);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [attackerJwk] }));
    });
    trapUrl = await listen(trap);
    mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: {
          resource: RESOURCE,
          authorizationServers: [
            {
              type: 'oidc',
              metadata: {
                issuer: ISSUER,
                authorizationEndpoint: V.metadata.authorization_endpoint,
                tokenEndpoint: V.metadata.token_endpoint,
                jwksUri,
                responseTypesSupported: ['code'],
                grantTypesSupported: ['authorization_code', 'refresh_token'],
                codeChallengeMethodsSupported: ['S256'],
                registrationEndpoint: V.metadata.registration_endpoint,
              },
            },
          ],
        },
      },
    });
    const app = express();
    app.get(
      '/mcp',
      mcpAuth.bearerAuth('jwt', { resource: RESOURCE, audience: RESOURCE }),
      (req, res) => res.json({ subject: req.auth.subject })
    );
    // 2 MiB of headers, so that 1 MB Authorization values reach the middleware.
    server = http.createServer({ maxHeaderSize: 2 * MB }, app);
    url = await listen(server);
  });
  after(async () => {
    await close(server);
    await close(jwksServer);
    await close(trap);
  });

  const call = async (header) => {
    const r = await rawGet(url, header);
    assert.ok(r, 'the server closed the connection without an answer');
    return r;
  };

  const assertDocumented = (r, code) => {
    assert.equal(r.status, 401, `${r.status} ${r.text.slice(0, 200)}`);
    assert.deepEqual(JSON.parse(r.text), { error: code, error_description: DOCUMENTED[code] });
    const rfc6750 = code === 'invalid_token' ? 'invalid_token' : 'invalid_request';
    const description = DOCUMENTED[code].replaceAll('"', "'");
    assert.equal(
      r.headers['www-authenticate'],
      code === 'missing_auth_header'
        ? `Bearer resource_metadata="${PRM}"`
        : `Bearer error="${rfc6750}", error_description="${description}", resource_metadata="${PRM}"`
    );
  };
  const rejects = async (header, code = 'invalid_token') =>
    assertDocumented(await call(header), code);

  test('the control: a valid token passes', async () => {
    const r = await call(`Bearer ${token()}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text), { subject: 'user-1' });
  });

  test('alg none in any casing, with or without a signature', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE', 'noNe', ' none', 'none ']) {
      for (const sig of ['', 'c2lnbmF0dXJl']) {
        await rejects(`Bearer ${part({ alg, typ: 'JWT', kid: 'rsa-1' })}.${part(claims())}.${sig}`);
      }
    }
  });

  test('HS256/384/512 signed with the RSA or EC public key', async () => {
    const forms = (key) => {
      const pub = createPublicKey(key);
      const out = [
        pub.export({ type: 'spki', format: 'pem' }),
        pub.export({ type: 'spki', format: 'der' }),
        JSON.stringify(pub.export({ format: 'jwk' })),
      ];
      if (pub.asymmetricKeyType === 'rsa') {
        out.push(pub.export({ type: 'pkcs1', format: 'pem' }));
        out.push(Buffer.from(pub.export({ format: 'jwk' }).n, 'base64url'));
      }
      return out;
    };
    for (const [kid, key] of [
      ['rsa-1', RSA],
      ['ec-256', EC],
    ]) {
      for (const secret of forms(key)) {
        for (const alg of ['HS256', 'HS384', 'HS512']) {
          for (const header of [
            { alg, typ: 'JWT', kid },
            { alg, typ: 'JWT' },
          ]) {
            await rejects(`Bearer ${token({ header, alg, key: secret })}`);
          }
        }
      }
    }
  });

  test('kid values that are paths, URLs, huge, non-ASCII or not strings', async () => {
    const before = jwksHits;
    const kids = [
      '../../../../../../etc/passwd',
      '/dev/zero',
      'file:///etc/passwd',
      `${trapUrl}/kid.json`,
      'rsa-1\u0000',
      "rsa-1' OR '1'='1",
      'ключ-🔑-鍵',
      '\ud800',
      'k'.repeat(20_000),
      '',
      7,
      null,
      ['rsa-1'],
      { kid: 'rsa-1' },
    ];
    for (const kid of kids) {
      await rejects(
        `Bearer ${token({ header: { alg: 'RS256', typ: 'JWT', kid }, key: ATTACKER })}`
      );
    }
    await rejects(`Bearer ${token({ header: '{"alg":"RS256","typ":"JWT","kid":"ключ-🔑"}' })}`);
    assert.ok(jwksHits - before <= 1, `${jwksHits - before} JWKS fetches`);
    assert.deepEqual(trapHits, []);
  });

  test('jku, x5u, jwk and x5c are never followed nor trusted', async () => {
    const jwk = { ...ATTACKER.export({ format: 'jwk' }) };
    for (const k of ['d', 'p', 'q', 'dp', 'dq', 'qi']) delete jwk[k];
    const headers = [
      { alg: 'RS256', jku: `${trapUrl}/jwks.json` },
      { alg: 'RS256', kid: 'rsa-1', jku: `${trapUrl}/jwks.json` },
      { alg: 'RS256', kid: 'attacker', jku: `${trapUrl}/jwks.json` },
      { alg: 'RS256', x5u: `${trapUrl}/cert.pem` },
      { alg: 'RS256', kid: 'rsa-1', x5u: `${trapUrl}/cert.pem` },
      { alg: 'RS256', jwk },
      { alg: 'RS256', kid: 'rsa-1', jwk: { ...jwk, kid: 'rsa-1' } },
      { alg: 'RS256', x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] },
    ];
    for (const header of headers) {
      await rejects(`Bearer ${token({ header, key: ATTACKER })}`);
    }
    assert.deepEqual(trapHits, []);
  });

  test('unknown or malformed crit', async () => {
    for (const crit of [
      { crit: ['x-unknown'], 'x-unknown': true },
      { crit: ['b64'], b64: false },
      { crit: ['exp'], exp: 1 },
      { crit: [] },
      { crit: 'x-unknown' },
      { crit: ['x-missing'] },
    ]) {
      await rejects(
        `Bearer ${token({ header: { alg: 'RS256', typ: 'JWT', kid: 'rsa-1', ...crit } })}`
      );
    }
  });

  test('a JWE, a nested JWT and other shapes', async () => {
    const jweHeader = part({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'rsa-1', cty: 'JWT' });
    const jwe = `${jweHeader}.${b64('k'.repeat(256))}.${b64('iv'.repeat(6))}.${b64('ct')}.${b64('tag')}`;
    const nested = token({
      header: { alg: 'RS256', typ: 'JWT', kid: 'rsa-1', cty: 'JWT' },
      payload: token(),
    });
    for (const t of [
      jwe,
      nested,
      `${jweHeader}.${part(claims())}.${b64('x')}`,
      'a.b.c.d',
      '....',
      'a..b',
    ]) {
      await rejects(`Bearer ${t}`);
    }
  });

  test('duplicate JSON keys in the header or the claims', async () => {
    const good = JSON.stringify(claims()).slice(1, -1);
    const std = { alg: 'RS256', typ: 'JWT', kid: 'rsa-1' };
    for (const [header, payload] of [
      ['{"alg":"none","alg":"RS256","kid":"rsa-1"}', `{${good}}`],
      ['{"alg":"RS256","kid":"ec-256","kid":"rsa-1"}', `{${good}}`],
      [std, `{"iss":"https://evil.example.com",${good}}`],
      [std, `{${good},"sub":"admin"}`],
      [std, `{${good},"aud":"https://other.example.com"}`],
      [std, `{${good},"scope":"admin"}`],
    ]) {
      await rejects(`Bearer ${token({ header, payload })}`);
    }
  });

  test('exp, nbf and iat out of range or of the wrong type', async () => {
    for (const claim of ['exp', 'nbf', 'iat']) {
      const rest = claims({ [claim]: undefined });
      const body = JSON.stringify(rest).slice(0, -1);
      const numbers = ['1e400', '-1e400', '1e19', '18446744073709551616', '-9223372036854775809'];
      if (claim === 'exp') numbers.push('-1');
      else numbers.push('1e308');
      for (const n of numbers) {
        await rejects(`Bearer ${token({ payload: `${body},"${claim}":${n}}` })}`);
      }
      for (const odd of [true, [1], { t: 1 }, '1']) {
        await rejects(`Bearer ${token({ payload: { ...rest, [claim]: odd } })}`);
      }
    }
  });

  test('a null exp, nbf or iat is refused, not read as absent', async () => {
    // jose: '"exp" claim must be a number'; a null expiry must not mean "never expires".
    for (const claim of ['exp', 'nbf', 'iat']) {
      await rejects(`Bearer ${token({ payload: { ...claims(), [claim]: null } })}`);
    }
  });

  test('aud, scope and other claims of the wrong type', async () => {
    for (const extra of [
      { aud: { aud: RESOURCE } },
      { aud: 42 },
      { aud: [RESOURCE, 42] },
      { aud: [{ aud: RESOURCE }] },
      { aud: true },
      { scope: { read: true } },
      { scope: 7 },
      { scope: ['read', { x: 1 }] },
      { scope: undefined, scp: { read: true } },
      { iss: { iss: ISSUER } },
      { iss: [ISSUER] },
      { sub: { id: 1 } },
      { sub: 12 },
      { client_id: { id: 1 } },
    ]) {
      await rejects(`Bearer ${token({ payload: claims(extra) })}`);
    }
    for (const notAnObject of ['[]', 'null', '42', '"claims"', '', '\u0000']) {
      await rejects(`Bearer ${token({ payload: notAnObject })}`);
    }
  });

  test('bytes that are not UTF-8, in the header field and inside the token', async () => {
    const t = Buffer.from(token());
    for (const header of [
      Buffer.from('Bearer \xff\xfe\xfd', 'latin1'),
      Buffer.concat([Buffer.from('Bearer '), t, Buffer.from([0xff])]),
      Buffer.concat([Buffer.from('Bearer \xc3\x28', 'latin1'), t]),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Bearer '), t]),
      Buffer.concat([Buffer.from('Bearer\xa0', 'latin1'), t]),
    ]) {
      const r = await call(header);
      const code = JSON.parse(r.text).error;
      assert.ok(['invalid_token', 'invalid_auth_header_format'].includes(code), code);
      assertDocumented(r, code);
    }
    const badHeader = Buffer.from('{"alg":"RS256","kid":"rsa-1","x":"\xff\xfe"}', 'latin1');
    const badClaims = Buffer.concat([
      Buffer.from(JSON.stringify(claims()).slice(0, -1)),
      Buffer.from(',"name":"\xc3\x28"}', 'latin1'),
    ]);
    await rejects(`Bearer ${token({ header: badHeader })}`);
    await rejects(`Bearer ${token({ payload: badClaims })}`);
  });

  test('spelling of the scheme and whitespace', async () => {
    const t = token();
    for (const ok of [
      `Bearer ${t}`,
      `bearer ${t}`,
      `BEARER ${t}`,
      `BeArEr ${t}`,
      `Bearer   ${t}`,
      `  Bearer ${t}  `,
      `Bearer\t${t}`,
    ]) {
      const r = await call(ok);
      assert.equal(r.status, 200, `${JSON.stringify(ok.slice(0, 10))} ${r.text}`);
    }
    for (const [header, code] of [
      [`Bearer${t}`, 'invalid_auth_header_format'],
      [`Bearer: ${t}`, 'invalid_auth_header_format'],
      [`Bearer=${t}`, 'invalid_auth_header_format'],
      [`Bearer,${t}`, 'invalid_auth_header_format'],
      [`Bearer ${t} ${t}`, 'invalid_auth_header_format'],
      [`Bearer ${t}, Bearer ${t}`, 'invalid_auth_header_format'],
      [`Token ${t}`, 'invalid_auth_header_format'],
      [`DPoP ${t}`, 'invalid_auth_header_format'],
      [`Basic ${t}`, 'invalid_auth_header_format'],
      [t, 'invalid_auth_header_format'],
      ['Bearer', 'missing_bearer_token'],
      ['Bearer   ', 'missing_bearer_token'],
      ['bearer', 'missing_bearer_token'],
    ]) {
      const r = await call(header);
      const got = JSON.parse(r.text).error;
      assert.ok(
        got === code || (got === 'invalid_token' && code === 'invalid_auth_header_format'),
        `${header.slice(0, 12)}: ${got}`
      );
      assertDocumented(r, got);
    }
    for (const empty of ['', '   ']) {
      const r = await call(empty);
      assertDocumented(r, JSON.parse(r.text).error);
    }
  });

  test('1 MB headers and oversized tokens', async () => {
    const t = token();
    await rejects(`Bearer ${token({ payload: claims({ pad: 'x'.repeat(40 * 1024) }) })}`);
    const huge = 'A'.repeat(MB);
    for (const header of [
      `Bearer ${huge}`,
      `Bearer ${t}${huge}`,
      `Bearer ${huge}.${huge}.${huge}`,
      `Bearer ${t} ${huge}`,
      `${huge} ${t}`,
      `Bearer ${t}${' '.repeat(MB)}x`,
    ]) {
      const r = await call(header);
      if (r.status === 401) {
        assertDocumented(r, 'invalid_auth_header_format');
      } else {
        assert.ok(r.status >= 400 && r.status < 500, String(r.status));
      }
    }
    // Node's default 16 KiB header limit: the HTTP server answers 431 itself.
    const app = express();
    app.get('/mcp', (req, res) => res.send('ok'));
    const plain = http.createServer(app);
    const plainUrl = await listen(plain);
    try {
      const r = await rawGet(plainUrl, `Bearer ${huge}`);
      assert.ok(r === null || (r.status >= 400 && r.status < 500), String(r?.status));
    } finally {
      await close(plain);
    }
    assert.equal((await call(`Bearer ${t}`)).status, 200);
  });

  test('verify functions called directly with a 1 MB token', async () => {
    const huge = 'A'.repeat(MB);
    const signedHuge = token({ payload: claims({ pad: 'x'.repeat(MB) }) });
    for (const verify of [createVerifyJwt(V.jwks), createVerifyJwt(jwksUri)]) {
      assert.equal((await verify(token())).subject, 'user-1');
      for (const t of [huge, `${huge}.${huge}.${huge}`, signedHuge]) {
        await assert.rejects(
          async () => verify(t),
          (e) => e instanceof MCPAuthTokenVerificationError && e.code === 'invalid_token'
        );
      }
    }
  });

  test('still serving, and the trap server was never asked', async () => {
    assert.equal((await call(`Bearer ${token()}`)).status, 200);
    assert.deepEqual(trapHits, []);
  });
});
