// One contender's token-verification throughput per algorithm, as one JSON line: ops per
// wall-clock second, and (`<alg>_cpu`) ops per second of process CPU time (all threads).
// Run by run.py, interleaved with the other contenders, once per round. Every call is awaited,
// as a request handler would.
//
//   ours_url         mcp-auth (this repository): createVerifyJwt(<JWKS URL>), keys cached
//   ours_url_repeat  the same, one token again and again: answered from the verifier's cache
//                    of verified tokens after the first time
//   ours_jwks        mcp-auth (this repository): createVerifyJwt(<JWK Set>)
//   ours_remote      mcp-auth (this repository): createVerifyJwt(jose createRemoteJWKSet(url))
//   upstream_remote  mcp-auth 0.2.0: createVerifyJwt(createRemoteJWKSet(url)) ('jwt' mode does this)
//   jose             jose jwtVerify(token, createLocalJWKSet(jwks))
//
// Every contender but `ours_url_repeat` cycles through the fixtures' first-sight tokens (more
// than a verifier keeps), so every signature is checked, as for a token never seen before.
//
// Usage: node verify.mjs FIXTURES_JSON AS_PORT CONTENDER SECONDS
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';

const [fixturesPath, asPort, contender, secondsArg] = process.argv.slice(2);
const fix = JSON.parse(readFileSync(fixturesPath, 'utf8'));
const jwksUri = `http://127.0.0.1:${asPort}/jwks`;
const seconds = Number(secondsArg);
const ours = () => import(new URL('../../../node/lib/index.js', import.meta.url).href);

const factories = {
  ours_url: async () => (await ours()).createVerifyJwt(jwksUri),
  ours_url_repeat: async () => (await ours()).createVerifyJwt(jwksUri),
  ours_jwks: async () => (await ours()).createVerifyJwt(fix.jwks),
  ours_remote: async () => (await ours()).createVerifyJwt(createRemoteJWKSet(new URL(jwksUri))),
  upstream_remote: async () =>
    (await import('mcp-auth-upstream')).createVerifyJwt(createRemoteJWKSet(new URL(jwksUri))),
  jose: async () => {
    const keys = createLocalJWKSet(fix.jwks);
    return async (token) => (await jwtVerify(token, keys)).payload;
  },
};

const subject = (r) => r.subject ?? r.sub;

// `tokens`: the batch verified between two looks at the clock (one token repeated, or the
// first-sight tokens), so that every contender runs the same loop.
const opsPerSecond = async (verify, tokens) => {
  const warm = performance.now() + Math.min(300, (seconds * 1000) / 3);
  while (performance.now() < warm) for (const token of tokens) await verify(token);
  let n = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  for (;;) {
    for (const token of tokens) await verify(token);
    n += tokens.length;
    const now = performance.now();
    if (now >= end) {
      const used = process.cpuUsage(cpu);
      return [(n * 1000) / (now - start), (n * 1e6) / Math.max(used.user + used.system, 1)];
    }
  }
};

const verify = await factories[contender]();
const out = {};
for (const alg of ['RS256', 'ES256', 'EdDSA']) {
  const token = fix.tokens[alg];
  try {
    if (subject(await verify(token)) !== 'user-1') throw new Error('wrong subject');
    const tokens = contender.endsWith('_repeat') ? Array(50).fill(token) : fix.first_sight[alg];
    [out[alg], out[`${alg}_cpu`]] = await opsPerSecond(verify, tokens);
  } catch (e) {
    out[alg] = null;
    out[`${alg}_error`] = String(e).slice(0, 200);
  }
}
console.log(JSON.stringify(out));
