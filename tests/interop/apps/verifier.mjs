// An Express app protected by mcp-auth, one route per configuration; each answers `req.auth`.
// Configured by the JSON in INTEROP_APP, as apps/verifier.py (see ../conftest.py). Run from
// samples/node, where the built package is installed.
import express from 'express';
import { MCPAuth } from 'mcp-auth';

const config = JSON.parse(process.env.INTEROP_APP);
const { resource } = config;
const mcpAuth = new MCPAuth({
  protectedResources: {
    metadata: {
      resource,
      // Discovered on first use; no `type` is untyped discovery.
      authorizationServers: [{ issuer: config.issuer, ...(config.type ? { type: config.type } : {}) }],
    },
  },
  logger: { warn: () => {}, debug: () => {}, info: () => {}, error: () => {} },
});

const protect = (route) => {
  const options = {
    resource,
    audience: route.audience ?? undefined,
    requiredScopes: route.required_scopes ?? undefined,
    toolScopes: route.tool_scopes ?? undefined,
    // Only `mode` is used here, which has the same name in both packages.
    dpop: route.dpop ?? undefined,
    // The tests read why a token was refused.
    showErrorDetails: true,
  };
  if (route.mode === 'introspection') {
    const { client_id: clientId, client_secret: clientSecret, endpoint } = route.introspection;
    return mcpAuth.bearerAuth('introspection', {
      ...options,
      introspection: { clientId, clientSecret, ...(endpoint ? { endpoint } : {}) },
    });
  }
  return mcpAuth.bearerAuth('jwt', {
    ...options,
    ...(route.require_at_jwt ? { jwtVerify: { typ: 'at+jwt' } } : {}),
  });
};

const app = express();
app.get('/health', (req, res) => res.json({}));
for (const [path, route] of Object.entries(config.routes)) {
  app.all(path, protect(route), (req, res) => res.json(req.auth));
}
app.listen(config.port, '127.0.0.1');
