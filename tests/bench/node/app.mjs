// The protected Express app under load: the same code runs on either mcp-auth package.
// GET /mcp answers {"sub": ...} from req.auth, set by bearerAuth('jwt').
//
// `plain-sync` and `plain-hop` are controls without any auth: the same route answering at once,
// or after one libuv thread-pool round trip (as WebCrypto-based verifiers do). On an idle machine
// they run alike; when the CPU is shared with other work, the scheduler favours the server
// that sleeps between requests, and the sync/hop ratio shows by how much.
//
// The introspection modes check every token at the bench authorization server (RFC 7662): ours
// through bearerAuth('introspection') (optionally caching answers); upstream 0.2.0, which has no
// such mode, through the custom verify function its users write for it (fetch per token).
//
// `endpoint` and `operations` serve POST /mcp (the handler answers the parsed body's method):
// `endpoint` guards it with the endpoint rule and parses with express.json(); `operations` adds
// 20 per-tool rules, so bearerAuth reads the body and core classifies and decides it before the
// handler runs (express.json() then finds it parsed).
//
// `dpop` and `dpop-redis` guard GET /mcp in DPoP 'allowed' mode, so Bearer and DPoP requests meet
// the same app; proofs are signed ahead of a run (dpop_proofs.py), hence the hour-long `iat`
// window. `dpop-redis` records proofs in the Redis at BENCH_REDIS_URL instead of in process.
//
// Usage: node app.mjs ours|upstream|plain-sync|plain-hop FIXTURES_JSON AS_PORT PORT
//        [resolved|discovery|introspection|introspection-cached|endpoint|operations|dpop|dpop-redis]
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';

const [pkg, fixturesPath, asPort, port, mode = 'resolved'] = process.argv.slice(2);
const fix = JSON.parse(readFileSync(fixturesPath, 'utf8'));
const toolScopes = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`tool-${i}`, ['read']]));
// Exit cleanly on a signal, so that --cpu-prof profiles get written.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));

if (pkg.startsWith('plain-')) {
  const app = express();
  const bytes = new Uint8Array(64);
  app.get('/mcp', async (req, res) => {
    if (pkg === 'plain-hop') await webcrypto.subtle.digest('SHA-256', bytes);
    res.json({ sub: 'user-1' });
  });
  app.listen(Number(port), '127.0.0.1');
} else {
  await protectedApp();
}

async function protectedApp() {
  const { MCPAuth } = await import(
    pkg === 'ours'
      ? new URL('../../../node/lib/index.js', import.meta.url).href
      : 'mcp-auth-upstream'
  );

  const iss = fix.issuer;
  const server =
    mode === 'discovery'
      ? { issuer: `http://127.0.0.1:${asPort}`, type: 'oidc' }
      : {
          type: 'oidc',
          metadata: {
            issuer: iss,
            authorizationEndpoint: `${iss}/authorize`,
            tokenEndpoint: `${iss}/token`,
            responseTypesSupported: ['code'],
            grantTypesSupported: ['authorization_code'],
            codeChallengeMethodsSupported: ['S256'],
            jwksUri: `http://127.0.0.1:${asPort}/jwks`,
          },
        };
  // Upstream warns about configuration details on stderr; keep the load run quiet.
  console.warn = () => {};
  const mcpAuth = new MCPAuth({
    protectedResources: { metadata: { resource: fix.audience, authorizationServers: [server] } },
  });

  const app = express();
  if (mode === 'endpoint' || mode === 'operations') {
    app.post('/mcp', bearerAuth(mcpAuth), express.json({ limit: '4mb' }), (req, res) => {
      res.json({ sub: req.auth.subject, method: req.body.method });
    });
  } else {
    app.get('/mcp', bearerAuth(mcpAuth), (req, res) => {
      res.json({ sub: req.auth.subject });
    });
  }
  app.listen(Number(port), '127.0.0.1');
}

function bearerAuth(mcpAuth) {
  const route = { resource: fix.audience, audience: fix.audience };
  if (mode === 'operations') return mcpAuth.bearerAuth('jwt', { ...route, toolScopes });
  if (mode.startsWith('dpop')) {
    const replayStore = mode === 'dpop-redis' ? process.env.BENCH_REDIS_URL : 'memory';
    return mcpAuth.bearerAuth('jwt', { ...route, dpop: { mode: 'allowed', iatWindow: 3600, replayStore } });
  }
  if (!mode.startsWith('introspection')) return mcpAuth.bearerAuth('jwt', route);
  const endpoint = `http://127.0.0.1:${asPort}/introspect`;
  if (pkg === 'ours') {
    const cacheMaxAge = mode === 'introspection-cached' ? 60_000 : undefined;
    return mcpAuth.bearerAuth('introspection', {
      ...route,
      introspection: { clientId: 'bench', clientSecret: 'bench-secret', endpoint, cacheMaxAge },
    });
  }
  const basic = `Basic ${Buffer.from('bench:bench-secret').toString('base64')}`;
  return mcpAuth.bearerAuth(async (token) => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    });
    const answer = await res.json();
    if (answer.active !== true) throw new Error('inactive token');
    return {
      token,
      issuer: answer.iss,
      clientId: answer.client_id,
      scopes: answer.scope.split(' '),
      subject: answer.sub,
      audience: answer.aud,
      expiresAt: answer.exp,
      claims: answer,
    };
  }, route);
}
