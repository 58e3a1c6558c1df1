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
npm install --no-audit --no-fund --silent "./$tarball" \
  "express@$(node -p "require('$here/node_modules/express/package.json').version")" \
  "jose@$(node -p "require('$here/node_modules/jose/package.json').version")" \
  "@modelcontextprotocol/sdk@$(node -p "require('$here/node_modules/@modelcontextprotocol/sdk/package.json').version")" \
  "zod@$(node -p "require('$here/node_modules/zod/package.json').version")"
test ! -e node_modules/mcp-auth/src || { echo "sources were packed" >&2; exit 1; }
ls node_modules/mcp-auth/native/*.node >/dev/null
cp -r "$here/test" ./test
rm -f ./test/tarball.test.js
MCP_AUTH_VECTORS="$here/../tests/vectors" MCP_AUTH_INSTALLED=1 node --test --test-concurrency=1 test/*.test.js
