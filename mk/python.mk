# Python package `mcpauth` (python/, bindings/python).
#
# The native module is built once, as a release wheel (maturin), and installed into two
# test virtualenvs: one with the MCP SDK 1.x (FastMCP), FastAPI and Starlette 1.x, one with
# the MCP SDK 2.x (MCPServer) and the oldest supported Starlette (0.46). FastMCP (the optional
# `mcpauth[fastmcp]`) pins the MCP SDK, so each major version gets a virtualenv of its own that
# runs the FastMCP tests: 3.x over mcp 1.x, 4.x over mcp 2.x. Tests run from the repository root
# so that `import mcpauth` finds the installed wheel, not the sources in python/.
.PHONY: test-python lint-python python-wheel python-venv

PYTHON ?= python3
PY_VENV := $(CURDIR)/.venv-python
PY_VENV2 := $(CURDIR)/.venv-python-mcp2
PY_VENV_FM3 := $(CURDIR)/.venv-python-fastmcp3
PY_VENV_FM4 := $(CURDIR)/.venv-python-fastmcp4
PY_WHEELS := $(CARGO_TARGET_DIR)/wheels/python
PY_TEST_DEPS := pytest==9.2.0 pytest-asyncio==1.5.0 uvicorn==0.54.0 httpx==0.28.1 \
	'pyjwt[crypto]==2.15.1' cryptography==50.0.2 pydantic==2.14.4
PY_PYTEST := -c python/pyproject.toml --rootdir python -p no:cacheprovider
# Run in the first virtualenv only: they depend on neither the MCP SDK nor Starlette's version
# (the checker CLI; the fetch faults, which wait out the core's real timeouts and cool-down, ~50 s).
PY_ONCE := test_cli.py test_faults.py::test_faults_then_recovery

$(PY_VENV)/.ready:
	$(PYTHON) -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install -q maturin==1.16.0 mypy==2.4.1 ruff==0.17.6 fastapi==0.165.0 \
		'mcp==1.30.0' starlette==1.10.0 $(PY_TEST_DEPS)
	touch $@

$(PY_VENV2)/.ready:
	$(PYTHON) -m venv $(PY_VENV2)
	$(PY_VENV2)/bin/pip install -q 'mcp==2.3.0' starlette==0.46.2 $(PY_TEST_DEPS)
	touch $@

$(PY_VENV_FM3)/.ready:
	$(PYTHON) -m venv $(PY_VENV_FM3)
	$(PY_VENV_FM3)/bin/pip install -q fastmcp==3.4.11 'mcp==1.30.0' starlette==1.10.0 $(PY_TEST_DEPS)
	touch $@

$(PY_VENV_FM4)/.ready:
	$(PYTHON) -m venv $(PY_VENV_FM4)
	$(PY_VENV_FM4)/bin/pip install -q fastmcp==4.2.3 'mcp==2.3.0' starlette==1.10.0 $(PY_TEST_DEPS)
	touch $@

python-venv: $(PY_VENV)/.ready $(PY_VENV2)/.ready $(PY_VENV_FM3)/.ready $(PY_VENV_FM4)/.ready

# The wheel's portability: zig (PyPI `ziglang`) links against glibc 2.17's symbols, so the wheel
# is manylinux2014 (Debian 9+, Ubuntu 18.04+, Amazon Linux 2, RHEL 7+) without a manylinux
# container; auditwheel (PyPI) checks the tag it earns against the one its file name claims.
# maturin runs under cargo-zigbuild's environment (scripts/zigenv.py, mk/platforms.mk) rather than
# with its own `--zig`, so the Node addon and the Kotlin library of the same target reuse its
# build of aws-lc in the shared zig target dir. cargo-zigbuild is the release maturin embeds.
$(PY_VENV)/.packaging: $(PY_VENV)/.ready
	$(PY_VENV)/bin/pip install -q ziglang==0.17.1 cargo-zigbuild==0.24.0 auditwheel==6.8.2
	touch $@

## python-wheel: the release wheel of mcpauth (abi3, CPython 3.10+, manylinux2014), with the
## core's test hooks (the suite proves a panic never crosses; a wheel for users is built without
## `test-hooks`). Its own target dir (ZIG_TARGET_DIR): zig's C compiler and linker would otherwise
## invalidate the debug build of `cargo test` (aws-lc's build script reruns on a new CC).
python-wheel: $(PY_VENV)/.packaging
	rm -rf $(PY_WHEELS)
	cd python && $(ZIG_ENV) x86_64-unknown-linux-gnu.2.17 $(PY_VENV)/bin/maturin build --release \
		--locked --quiet --features test-hooks --target x86_64-unknown-linux-gnu \
		--compatibility manylinux2014 -o $(PY_WHEELS)

test-python: python-venv python-wheel
	$(PY_VENV)/bin/python python/scripts/check_wheel_tag.py $(PY_WHEELS)/mcpauth-*.whl
	$(PY_VENV)/bin/pip install -q --force-reinstall --no-deps $(PY_WHEELS)/mcpauth-*.whl
	$(PY_VENV2)/bin/pip install -q --force-reinstall --no-deps $(PY_WHEELS)/mcpauth-*.whl
	$(PY_VENV_FM3)/bin/pip install -q --force-reinstall --no-deps $(PY_WHEELS)/mcpauth-*.whl
	$(PY_VENV_FM4)/bin/pip install -q --force-reinstall --no-deps $(PY_WHEELS)/mcpauth-*.whl
	$(PY_VENV)/bin/python -m mypy.stubtest mcpauth._core
	$(PY_VENV)/bin/python -m pytest $(PY_PYTEST) -q python/tests
	$(PY_VENV2)/bin/python -m pytest $(PY_PYTEST) -q python/tests $(PY_ONCE:%=--deselect tests/%)
	$(PY_VENV_FM3)/bin/python -m pytest $(PY_PYTEST) -q python/tests/test_fastmcp.py python/tests/test_optional.py
	$(PY_VENV_FM4)/bin/python -m pytest $(PY_PYTEST) -q python/tests/test_fastmcp.py python/tests/test_optional.py

lint-python: $(PY_VENV)/.ready
	$(PY_VENV)/bin/ruff format --check python
	$(PY_VENV)/bin/ruff check python
	$(PY_VENV)/bin/ruff format --config python/pyproject.toml --check scripts
	$(PY_VENV)/bin/ruff check --config python/pyproject.toml scripts
	cd python && $(PY_VENV)/bin/mypy --config-file pyproject.toml mcpauth
