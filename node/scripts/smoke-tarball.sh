#!/usr/bin/env bash
# Packs the package (reusing the built addon), installs the tarball into a fresh project and
# runs the test suite there against the installed copy, not the source tree.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$here/.test-install"
rm -rf "$work" && mkdir -p "$work"
stage="$work/stage"
mkdir -p "$stage/main"
packed="$stage/$(cd "$here" && npm pack --silent --pack-destination "$stage" | tail -n 1)"
# What the registry gets from the release (release.yml's publish job): the platform package
# npm/linux-x64-gnu with its addon, published first, and the main package without any addon,
# whose optionalDependencies `napi pre-publish` (the prepublishOnly script) fills in. Both are
# made here from the packed tarball, pre-publish limited to this platform's target (the other
# platforms' addons are the release matrix's), and installed together as npm installs from
# the registry: the addon must load from the platform package, not from beside the loader.
tar -xzf "$packed" -C "$stage/main" --strip-components=1
addon="$(cd "$stage/main/native" && ls *.node)"
platform="${addon#mcp-auth.}" && platform="${platform%.node}"
mkdir -p "$stage/main/npm"
cp -r "$here/npm/$platform" "$stage/main/npm/"
mv "$stage/main/native/$addon" "$stage/main/npm/$platform/"
node -e '
  const fs = require("fs"), [file, platform] = process.argv.slice(1);
  const names = {
    "x86_64-unknown-linux-gnu": "linux-x64-gnu", "x86_64-unknown-linux-musl": "linux-x64-musl",
    "aarch64-unknown-linux-gnu": "linux-arm64-gnu", "aarch64-unknown-linux-musl": "linux-arm64-musl",
    "x86_64-apple-darwin": "darwin-x64", "aarch64-apple-darwin": "darwin-arm64",
    "x86_64-pc-windows-msvc": "win32-x64-msvc",
  };
  const p = JSON.parse(fs.readFileSync(file, "utf8"));
  p.napi.targets = p.napi.targets.filter((t) => names[t] === platform);
  if (p.napi.targets.length !== 1) throw new Error("no napi target for " + platform);
  fs.writeFileSync(file, JSON.stringify(p, null, 2));
' "$stage/main/package.json" "$platform"
"$here/node_modules/.bin/napi" pre-publish --cwd "$stage/main" -t npm --skip-optional-publish --no-gh-release >/dev/null
(cd "$stage/main" && node -e '
  const p = require("./package.json"), want = "mcp-auth-" + process.argv[1];
  if (JSON.stringify(Object.keys(p.optionalDependencies ?? {})) !== JSON.stringify([want])) throw new Error("optionalDependencies: " + JSON.stringify(p.optionalDependencies));
' "$platform")
tarball="$(cd "$stage/main" && npm pack --silent --ignore-scripts --pack-destination "$work" | tail -n 1)"
platform_tarball="$(npm pack --silent --pack-destination "$work" "$stage/main/npm/$platform" | tail -n 1)"
tar -tzf "$work/$tarball" | grep -q '\.node$' && { echo "the main tarball carries an addon" >&2; exit 1; }
echo "packed $tarball ($(du -h "$work/$tarball" | cut -f1)) and $platform_tarball ($(du -h "$work/$platform_tarball" | cut -f1))"
rm -rf "$stage"
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
  npm install --no-audit --no-fund --silent --legacy-peer-deps "$work/$tarball" "$work/$platform_tarball"
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
npm install --no-audit --no-fund --silent "./$tarball" "./$platform_tarball" \
  "express@$(version express)" "jose@$(version jose)" "zod@$(version zod)" \
  "@modelcontextprotocol/sdk@$(version @modelcontextprotocol/sdk)" \
  "@modelcontextprotocol/server@$(version @modelcontextprotocol/server)" \
  "@modelcontextprotocol/client@$(version @modelcontextprotocol/client)" \
  "hono@$(version hono)" "@hono/node-server@$(version @hono/node-server)" \
  "fastify@$(version fastify)" "bun@$(version bun)" "deno@$(version deno)" \
  "typescript@$(version typescript)" "@types/express@$(version @types/express)" \
  "@types/node@$(version @types/node)"
test ! -e node_modules/mcp-auth/src || { echo "sources were packed" >&2; exit 1; }
! ls node_modules/mcp-auth/native/*.node 2>/dev/null || { echo "an addon beside the loader" >&2; exit 1; }
ls "node_modules/mcp-auth-$platform/$addon" >/dev/null
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
