# Node package `mcp-auth` (node/, bindings/node).
#
# The addon is built once (release) by napi into node/native/ together with its generated ESM
# loader; `npm pack` reuses it. The suite runs twice: against the source tree and against the
# packed tarball installed into a fresh project.
.PHONY: test-node lint-node node-deps node-build

NODE_PKG := $(CURDIR)/node

node-deps:
	cd $(NODE_PKG) && npm ci --no-audit --no-fund

## node-build: the native addon (release, with the core's test hooks for the panic test; an
## addon for users is built by `npm run build:native` without them) and the compiled TypeScript
node-build: node-deps
	cd $(NODE_PKG) && npm run build:native -- --features test-hooks && npm run build:ts

# redis-server: the DPoP replay-store tests start their own on a free port.
test-node: node-build redis-server
	cd $(NODE_PKG) && node --test --test-concurrency=1 test/*.test.js
	$(NODE_PKG)/scripts/smoke-tarball.sh

lint-node: node-build
	cd $(NODE_PKG) && npm run lint
