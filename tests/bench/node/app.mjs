// The protected Express app under load: the same code runs on either mcp-auth package.
// GET /mcp answers {"sub": ...} from req.auth, set by bearerAuth('jwt').
//
// `plain-sync` and `plain-hop` are controls without any auth: the same route answering at once,
// or after one libuv thread-pool round trip (as WebCrypto-based verifiers do). On an idle machine
// they run alike; when the CPU is shared with other work, the scheduler favours the server
// that sleeps between requests, and the sync/hop ratio shows by how much.
//
// Usage: node app.mjs ours|upstream|plain-sync|plain-hop FIXTURES_JSON AS_PORT PORT [resolved|discovery]
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';

const [pkg, fixturesPath, asPort, port, mode = 'resolved'] = process.argv.slice(2);
const fix = JSON.parse(readFileSync(fixturesPath, 'utf8'));
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
  app.get(
    '/mcp',
    mcpAuth.bearerAuth('jwt', { resource: fix.audience, audience: fix.audience }),
    (req, res) => {
      res.json({ sub: req.auth.subject });
    }
  );
  app.listen(Number(port), '127.0.0.1');
}
