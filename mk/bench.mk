# Side-by-side benchmarks (tests/bench/, BENCHMARKS.md). Not part of `make test`: it reports
# figures, it never fails on them.
#
# Contenders live in their own environments: this repository's mcpauth wheel in one virtualenv,
# upstream mcpauth 0.2.0b1 (PyPI) in another, upstream mcp-auth 0.2.0 (npm alias
# `mcp-auth-upstream`) and jose next to the bench scripts. The load generator is wrk (Debian).
.PHONY: bench bench-deps bench-core

BENCH_DIR := $(CURDIR)/tests/bench
BENCH_OUT := $(CARGO_TARGET_DIR)/bench
BENCH_PY_OURS := $(CURDIR)/.venv-bench-ours
BENCH_PY_UPSTREAM := $(CURDIR)/.venv-bench-upstream
BENCH_PY_DEPS := starlette==1.10.0 uvicorn==0.54.0 httptools==0.7.1 pydantic==2.14.4
PYTHON ?= python3
SUDO ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(BENCH_PY_OURS)/.ready:
	$(PYTHON) -m venv $(BENCH_PY_OURS)
	$(BENCH_PY_OURS)/bin/pip install -q $(BENCH_PY_DEPS) 'pyjwt[crypto]==2.15.1' cryptography==50.0.2
	touch $@

$(BENCH_PY_UPSTREAM)/.ready:
	$(PYTHON) -m venv $(BENCH_PY_UPSTREAM)
	$(BENCH_PY_UPSTREAM)/bin/pip install -q 'mcpauth==0.2.0b1' $(BENCH_PY_DEPS)
	touch $@

bench-deps: $(BENCH_PY_OURS)/.ready $(BENCH_PY_UPSTREAM)/.ready python-wheel node-build redis-server
	command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	command -v taskset >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq util-linux; }
	$(BENCH_PY_OURS)/bin/pip install -q --force-reinstall --no-deps $(PY_WHEELS)/mcpauth-*.whl
	cd $(BENCH_DIR) && npm ci --no-audit --no-fund --loglevel=error

## bench-core: the core floor alone (full hot path vs the bare signature check)
bench-core:
	cargo bench -p mcp-auth-core --bench core_verify --locked

## bench: every benchmark; prints a table, writes target/bench/summary.json and results.json
bench: bench-deps bench-core
	$(BENCH_PY_OURS)/bin/python $(BENCH_DIR)/fixtures.py $(BENCH_OUT)
	$(PYTHON) $(BENCH_DIR)/run.py --out $(BENCH_OUT) \
		--py-ours $(BENCH_PY_OURS)/bin/python --py-upstream $(BENCH_PY_UPSTREAM)/bin/python
