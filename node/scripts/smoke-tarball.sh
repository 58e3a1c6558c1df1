#!/usr/bin/env bash
# Packs the package (reusing the built addon), installs the tarball into a fresh project and
# runs the test suite there against the installed copy, not the source tree.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$here/.test-install"
rm -rf "$work" && mkdir -p "$work"
tarball="$(cd "$here" && npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "packed $tarball ($(du -h "$work/$tarball" | cut -f1))"
cd "$work"
printf '{ "name": "mcp-auth-smoke", "version": "1.0.0", "private": true, "type": "module" }\n' > package.json
# The test tools come from the source tree's lock file versions; mcp-auth from the tarball only.
version() { node -p "require('$here/node_modules/$1/package.json').version"; }
# Alone, outside this tree (whose node_modules would be found up the directory chain): the
# package and each of its entry points must load without any framework or MCP SDK installed.
# Express stays a required peer as upstream's (npm installs it along), so Hono, Fastify and
# web-standard users who skip it with --legacy-peer-deps are what this checks.
bare="$(mktemp -d)"
trap 'rm -rf "$bare"' EXIT
(
  cd "$bare"
  printf '{ "name": "mcp-auth-bare", "version": "1.0.0", "private": true, "type": "module" }\n' > package.json
  npm install --no-audit --no-fund --silent --legacy-peer-deps "$work/$tarball"
  for dep in express hono fastify @modelcontextprotocol/sdk @modelcontextprotocol/server; do
    test ! -e "node_modules/$dep" || { echo "$dep was installed with mcp-auth" >&2; exit 1; }
  done
  node --input-type=module -e "
    const m = await import('mcp-auth');
    await import('mcp-auth/hono');
    await import('mcp-auth/fastify');
    const auth = new m.MCPAuth({ protectedResources: { metadata: { resource: 'https://x.example/mcp', authorizationServers: [{ issuer: 'https://as.example' }] } } });
    const res = await auth.fetchBearerAuth('jwt', { resource: 'https://x.example/mcp', audience: 'https://x.example/mcp' })(new Request('https://x.example/mcp'));
    if (res.status !== 401) throw new Error('expected 401, got ' + res.status);
    let refused;
    try { auth.protectedResourceMetadataRouter(); } catch (e) { refused = e; }
    if (refused?.code !== 'express_not_installed') throw refused ?? new Error('an Express router without Express');
  "
)
echo "mcp-auth, mcp-auth/hono and mcp-auth/fastify load without any framework or MCP SDK installed"
npm install --no-audit --no-fund --silent "./$tarball" \
  "express@$(version express)" "jose@$(version jose)" "zod@$(version zod)" \
  "@modelcontextprotocol/sdk@$(version @modelcontextprotocol/sdk)" \
  "@modelcontextprotocol/server@$(version @modelcontextprotocol/server)" \
  "@modelcontextprotocol/client@$(version @modelcontextprotocol/client)" \
  "hono@$(version hono)" "@hono/node-server@$(version @hono/node-server)" \
  "fastify@$(version fastify)" "bun@$(version bun)" "deno@$(version deno)" \
  "typescript@$(version typescript)" "@types/express@$(version @types/express)" \
  "@types/node@$(version @types/node)"
test ! -e node_modules/mcp-auth/src || { echo "sources were packed" >&2; exit 1; }
ls node_modules/mcp-auth/native/*.node >/dev/null
# A TypeScript consumer: the documented calls type-check, and `req.auth` / `authInfo` carry
# the fields this package adds to the MCP SDK's AuthInfo.
cp "$here/test/fixtures/consumer.ts" "$here/test/fixtures/readme-examples.ts" \
  "$here/test/fixtures/adapters.ts" .
printf '{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "noEmit": true, "skipLibCheck": true, "types": ["node"] }, "files": ["consumer.ts", "readme-examples.ts", "adapters.ts"] }\n' > tsconfig.json
npx tsc -p tsconfig.json
echo "consumer.ts, readme-examples.ts and adapters.ts type-check against the installed package"
cp -r "$here/test" ./test
# Tests of the source tree itself (its packing), not of the installed package.
rm -f ./test/tarball.test.js ./test/pack-without-deps.test.js
MCP_AUTH_VECTORS="$here/../tests/vectors" MCP_AUTH_INSTALLED=1 node --test --test-concurrency=1 test/*.test.js
