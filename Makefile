# Every native artefact is built once, for one target triple, into one target dir.
export CARGO_BUILD_TARGET ?= x86_64-unknown-linux-gnu
export CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TERM_COLOR ?= never

.PHONY: all test lint fmt demo bench test-rust lint-rust

all: test

## make test: every test suite (Rust core + vectors, Python package, Node package)
test: test-rust test-python test-node

## make lint: formatters and linters of every language
lint: lint-rust lint-python lint-node

test-rust:
	cargo test --workspace --locked

lint-rust:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all

include mk/python.mk
include mk/node.mk
