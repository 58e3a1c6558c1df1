# End to end: the authorization server (tests/e2e/authorization-server), the two sample MCP
# servers (samples/python, samples/node) and real MCP clients of both SDKs (tests/e2e/clients),
# all on 127.0.0.1. Uses the release wheel and the Python venv of mk/python.mk and the Node
# package built by mk/node.mk; the npm folders are installed from their lockfiles.
.PHONY: demo test-e2e lint-e2e e2e-deps

E2E_DIR := $(CURDIR)/tests/e2e
E2E_NPM_CI := npm ci --no-audit --no-fund --loglevel=error
E2E_NPM_DIRS := $(E2E_DIR)/authorization-server $(E2E_DIR)/clients $(CURDIR)/samples/node

# samples/node installs the built node/ package (a copy, install-links), so node-build comes first.
e2e-deps: $(PY_VENV)/.ready python-wheel node-build
	$(PY_VENV)/bin/pip install -q --force-reinstall --no-deps $(PY_WHEELS)/mcpauth-*.whl
	for dir in $(E2E_NPM_DIRS); do (cd $$dir && $(E2E_NPM_CI)) || exit 1; done

## make test-e2e: both SDK clients and the DPoP client against both sample servers, tokens from a real
## authorization server (test_kotlin.py needs the Kotlin build: make test-kotlin runs it)
test-e2e: e2e-deps
	cd $(E2E_DIR)/authorization-server && npm test --silent
	cd $(E2E_DIR) && $(PY_VENV)/bin/python -m pytest -q --ignore=test_kotlin.py

## make demo: the whole flow on localhost, narrated (provider check, 401, discovery, token, 403, step-up,
## two users, opaque tokens by introspection, DPoP-bound tokens with replay, Bearer and nonce checks)
demo: e2e-deps
	@$(PY_VENV)/bin/python $(E2E_DIR)/demo.py

lint-e2e: $(PY_VENV)/.ready
	$(PY_VENV)/bin/ruff format --check samples/python tests/e2e
	$(PY_VENV)/bin/ruff check samples/python tests/e2e
	for f in samples/node/*.js tests/e2e/clients/*.mjs; do node --check $$f || exit 1; done
