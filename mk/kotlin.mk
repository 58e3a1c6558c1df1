# Kotlin package (kotlin/, bindings/uniffi) for JVM MCP servers.
#
# The uniffi library is built once (release, sharing the Node addon's build of the dependency
# tree: bindings/feature-unify); the bindings generator (bindings/uniffi-bindgen, a quick
# unoptimised build for the host) writes the Kotlin bindings from the library's metadata (read
# from the rlib: the linked .so is stripped), and Maven compiles the package, the sample and the
# JUnit 5 tests against the .so, which goes into the jar where JNA finds it. JNA, Ktor, the Kotlin MCP SDK and the Maven plugins
# come from Maven Central; Java 17 and Maven from the machine. The end-to-end test runs the
# sample with the local authorization server and the TypeScript SDK client (tests/e2e), and
# with Keycloak and Ory Hydra (tests/interop).
.PHONY: test-kotlin lint-kotlin kotlin-bindings kotlin-bindgen kotlin-e2e-deps

KT_DIR := $(CURDIR)/kotlin
KT_NATIVE := $(ZIG_TARGET_DIR)/x86_64-unknown-linux-gnu/release
KT_GENERATED := $(KT_DIR)/target/generated-sources/uniffi
KT_MVN := mvn -B -q -f $(KT_DIR)/pom.xml -Dmcpauth.native.dir=$(KT_NATIVE) \
	-Dmcpauth.natives.dir=$(KT_NATIVES)
KT_VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' $(CURDIR)/Cargo.toml | head -1)
KT_E2E_VENV := $(CURDIR)/.venv-kotlin-e2e

## kotlin-bindings: the release uniffi library (zig, glibc 2.17, in the shared zig target dir:
## mk/platforms.mk) and the Kotlin bindings generated from it. Without the core's test hooks,
## unlike the wheel and the addon the suites run: the Kotlin suite checks that the library the
## jar ships cannot be made to panic (only the core itself is rebuilt for it).
kotlin-bindings: kotlin-bindgen $(PY_VENV)/.packaging
	$(ZIG_ENV) x86_64-unknown-linux-gnu.2.17 cargo build --release --locked -p mcp-auth-uniffi \
		--target x86_64-unknown-linux-gnu
	rm -rf $(KT_GENERATED)
	$(KT_BINDGEN) generate --library $(KT_NATIVE)/libmcpauth_uniffi.rlib \
		--language kotlin --no-format --out-dir $(KT_GENERATED)

## kotlin-bindgen: the bindings generator, in a target dir of its own: it needs nothing else
## built, so .ci/run builds it beside make test (cargo's lock on the directory makes a second
## build wait for the first and find it done)
KT_BINDGEN_DIR := $(CARGO_TARGET_DIR)/bindgen-host
KT_BINDGEN := $(KT_BINDGEN_DIR)/$(CARGO_BUILD_TARGET)/bindgen/uniffi-bindgen
kotlin-bindgen:
	CARGO_TARGET_DIR=$(KT_BINDGEN_DIR) cargo build --locked --profile bindgen -p mcp-auth-uniffi-bindgen

# The end-to-end test drives the sample with both SDK clients: the Python one needs the `mcp` SDK.
$(KT_E2E_VENV)/.ready:
	$(PYTHON) -m venv $(KT_E2E_VENV)
	$(KT_E2E_VENV)/bin/pip install -q pytest==9.2.0 pytest-asyncio==1.5.0 httpx==0.28.1 'mcp==1.30.0'
	touch $@

kotlin-e2e-deps: $(KT_E2E_VENV)/.ready
	for dir in $(E2E_DIR)/authorization-server $(E2E_DIR)/clients; do (cd $$dir && $(E2E_NPM_CI)) || exit 1; done

## make test-kotlin: the Kotlin package's JUnit suite (vectors, Ktor), then the sample end to end
## and against Keycloak and Ory Hydra (tests/interop/test_kotlin.py)
# redis-server: the DPoP replay-store test starts its own on a free port.
# platform-aarch64-unknown-linux-gnu: the jar also carries the Linux aarch64 library (mk/platforms.mk);
# both of its libraries are checked for their platform as they are in the jar.
test-kotlin: kotlin-bindings platform-aarch64-unknown-linux-gnu kotlin-e2e-deps interop-servers redis-server
	$(KT_MVN) package
	rm -rf $(KT_DIR)/target/jar-natives && mkdir -p $(KT_DIR)/target/jar-natives
	cd $(KT_DIR)/target/jar-natives && jar xf $(KT_DIR)/target/mcp-auth-$(KT_VERSION).jar \
		linux-x86-64/libmcpauth_uniffi.so linux-aarch64/libmcpauth_uniffi.so
	$(PY_VENV)/bin/python scripts/check_native.py \
		$(KT_DIR)/target/jar-natives/linux-x86-64/libmcpauth_uniffi.so=x86_64-unknown-linux-gnu \
		$(KT_DIR)/target/jar-natives/linux-aarch64/libmcpauth_uniffi.so=aarch64-unknown-linux-gnu
	@cat $(KT_DIR)/target/surefire-reports/*.txt | awk '/^Tests run:/ { gsub(",", ""); \
		run += $$3; failed += $$5 + $$7; skipped += $$9 } \
		END { printf "kotlin: %d passed, %d failed, %d skipped\n", run - failed - skipped, failed, skipped }'
	cd $(E2E_DIR) && MCP_AUTH_KOTLIN=1 $(KT_E2E_VENV)/bin/python -m pytest -q test_kotlin.py
	cd $(INTEROP_DIR) && MCP_AUTH_KOTLIN=1 MCP_AUTH_INTEROP_CACHE=$(INTEROP_CACHE) \
		$(KT_E2E_VENV)/bin/python -m pytest -q test_kotlin.py

lint-kotlin:
	$(KT_MVN) spotless:check
