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
## addon for users is built by `npm run build:native` without them) and the compiled TypeScript.
## Built by zig for glibc 2.17 (mk/platforms.mk), as the wheel, in the same target dir: the addon
## the suites load is the portable one users get.
node-build: node-deps $(PY_VENV)/.packaging
	cd $(NODE_PKG) && $(ZIG_ENV) x86_64-unknown-linux-gnu.2.17 npm run build:native -- \
		--features test-hooks --target x86_64-unknown-linux-gnu && npm run build:ts

# redis-server: the DPoP replay-store tests start their own on a free port.
test-node: node-build redis-server
	cd $(NODE_PKG) && node --test --test-concurrency=1 test/*.test.js
	$(NODE_PKG)/scripts/smoke-tarball.sh

lint-node: node-build
	cd $(NODE_PKG) && npm run lint
