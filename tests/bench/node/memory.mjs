// Resident memory of mcp-auth (this repository) across 100,000 verifications with 10 key
// rotations, as one JSON line. The verifier reads the loopback JWKS URL with default options;
// each rotation (a new kid) makes it refetch the set once. 1,000 distinct tokens, 100 per
// rotation key, 10,000 verifications per rotation.
//
// Usage: node memory.mjs FIXTURES_JSON AS_PORT
import { readFileSync } from 'node:fs';

const [fixturesPath, asPort] = process.argv.slice(2);
const fix = JSON.parse(readFileSync(fixturesPath, 'utf8'));
const base = `http://127.0.0.1:${asPort}`;
const { createVerifyJwt } = await import(
  new URL('../../../node/lib/index.js', import.meta.url).href
);
const get = async (path) => (await fetch(base + path)).json();

const verify = createVerifyJwt(`${base}/jwks`);
const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const before = (await get('/stats')).jwks;
const samples = [];
let info;
let n = 0;
for (let k = 0; k < fix.rotation.length; k++) {
  await get(`/rotate?k=${k}`);
  const tokens = fix.rotation[k].tokens;
  for (let i = 0; i < 10_000; i++) {
    info = await verify(tokens[i % tokens.length]);
    n++;
  }
  samples.push(Math.round(rssMb() * 10) / 10);
}
if (info.subject !== `user-${999}`) throw new Error(`unexpected subject ${info.subject}`);
// From the end of the first rotation (caches and heap warm) to the end.
const [start, end] = [samples[0], rssMb()];
console.log(
  JSON.stringify({
    verifications: n,
    distinct_tokens: fix.rotation.length * fix.rotation[0].tokens.length,
    rotations: fix.rotation.length,
    rss_start_mb: start,
    rss_end_mb: end,
    rss_growth_mb: Math.round((end - start) * 10) / 10,
    rss_samples_mb: samples,
    jwks_fetches: (await get('/stats')).jwks - before,
    note: '1,000 tokens over 10 rotating keys',
  })
);
