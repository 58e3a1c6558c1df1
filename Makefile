# Every native artefact is built once, for one target triple, into one target dir.
export CARGO_BUILD_TARGET ?= x86_64-unknown-linux-gnu
export CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TERM_COLOR ?= never
# The packages' release artefacts are built by zig, for glibc 2.17 or musl, in a target dir of
# their own (mk/platforms.mk): ZIG_ENV runs a command under cargo-zigbuild's environment for one
# target (scripts/zigenv.py).
ZIG_TARGET_DIR := $(CARGO_TARGET_DIR)/zig
ZIG_ENV = PATH="$(PY_VENV)/bin:$$PATH" CARGO_TARGET_DIR=$(ZIG_TARGET_DIR) \
	$(PY_VENV)/bin/python $(CURDIR)/scripts/zigenv.py
KT_NATIVES := $(CARGO_TARGET_DIR)/natives

.PHONY: all test lint fmt test-release test-rust lint-rust fuzz fuzz-build fuzz-ci redis-server test-cross

all: test

## make demo: a local authorization server, both sample MCP servers and real MCP clients (mk/e2e.mk)
## make test: every test suite (Rust core + vectors, Python package, Node package, end to end,
## every Linux artefact checked for its platform, Kotlin, interoperability with Keycloak and Ory Hydra)
test: test-release test-rust test-python test-node test-platforms test-e2e test-kotlin test-interop

## make lint: formatters and linters of every language
lint: test-release lint-rust lint-python lint-node lint-e2e lint-kotlin lint-interop

## make test-release: one version in every manifest (scripts/version.py) and the release
## workflow checked by actionlint (Go module proxy, installed into the target dir)
ACTIONLINT := $(CARGO_TARGET_DIR)/tools/actionlint
$(ACTIONLINT):
	GOBIN=$(dir $(ACTIONLINT)) go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
test-release: $(ACTIONLINT)
	$(PYTHON) scripts/version.py check
	$(ACTIONLINT) .github/workflows/*.yml

# The Kotlin bindings generator has no tests; mk/kotlin.mk builds it.
test-rust: redis-server
	cargo test --workspace --exclude mcp-auth-uniffi-bindgen --locked

## redis-server: the Debian package the DPoP replay-store tests start on a free port (they start
## and stop their own server; no system service is used). Installs it when it is missing.
SUDO ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)
redis-server:
	command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq redis-server; }

lint-rust:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all

## make fuzz: every cargo-fuzz target of core/fuzz for FUZZ_SECONDS each (needs a nightly toolchain)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := authorization_header jwt_verify jwks_parse server_metadata resource_urls challenge dpop_proof
FUZZ_CARGO := cd core/fuzz && CARGO_TARGET_DIR=$(CARGO_TARGET_DIR)/fuzz cargo +nightly fuzz
## make fuzz-build: every target built (ASan, its own target dir); `make fuzz` then only runs them
fuzz-build:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
	$(FUZZ_CARGO) build
fuzz: fuzz-build
	for t in $(FUZZ_TARGETS); do \
		mkdir -p $(CARGO_TARGET_DIR)/fuzz-corpus/$$t && cp -n core/fuzz/corpus/$$t/* $(CARGO_TARGET_DIR)/fuzz-corpus/$$t/; \
		($(FUZZ_CARGO) run $$t \
			$(CARGO_TARGET_DIR)/fuzz-corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 \
			-timeout=5 -max_len=65536) || exit 1; \
	done

## make fuzz-ci: every target for a few seconds, so the harness (and its differential oracle)
## cannot rot; run by .ci/run. Skipped with a message where no nightly toolchain is installed.
fuzz-ci:
	@if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then \
		$(MAKE) fuzz FUZZ_SECONDS=$${FUZZ_CI_SECONDS:-3}; \
	else \
		echo "fuzz-ci: no nightly toolchain, skipped"; \
	fi

include mk/python.mk
include mk/node.mk
include mk/e2e.mk
include mk/bench.mk
include mk/kotlin.mk
include mk/interop.mk
include mk/platforms.mk
include mk/cross.mk
