// The protected Express app under load: the same code runs on either mcp-auth package.
// GET /mcp answers {"sub": ...} from req.auth, set by bearerAuth('jwt').
//
// Usage: node app.mjs ours|upstream FIXTURES_JSON AS_PORT PORT [resolved|discovery]
import { readFileSync } from 'node:fs';
import express from 'express';

const [pkg, fixturesPath, asPort, port, mode = 'resolved'] = process.argv.slice(2);
const fix = JSON.parse(readFileSync(fixturesPath, 'utf8'));
const { MCPAuth } = await import(
  pkg === 'ours' ? new URL('../../../node/lib/index.js', import.meta.url).href : 'mcp-auth-upstream'
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
// Exit cleanly on a signal, so that --cpu-prof profiles get written.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
