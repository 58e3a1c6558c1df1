# Linux aarch64, built on this x86-64 machine and run under QEMU user emulation (make test-cross).
#
# The wheel is cross-compiled by maturin with zig (glibc 2.17 symbols: manylinux2014), checked
# by auditwheel, and the Python vector suites run against it on an arm64 CPython from Debian's
# packages. Those packages are downloaded and unpacked into a sysroot, never installed (the
# arm64 interpreter would conflict with the amd64 one); the suites' Python dependencies are
# aarch64 wheels from PyPI unpacked by the host's pip into a directory on PYTHONPATH.
#
# Not part of `make test` (nor .ci/run): see /work/notes/packaging.md for its cost.
.PHONY: test-cross cross-wheel-aarch64 cross-sysroot-aarch64

CROSS_DIR := $(CARGO_TARGET_DIR)/cross
CROSS_WHEELS := $(CROSS_DIR)/wheels
CROSS_ROOT := $(CROSS_DIR)/arm64-root
CROSS_SITE := $(CROSS_DIR)/arm64-site
CROSS_PY := $(CROSS_ROOT)/usr/bin/python3.11
# The interpreter, its standard library and the shared libraries its extension modules load.
CROSS_DEBS := python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libgcc-s1 \
	libexpat1 zlib1g libssl3 libffi8 libbz2-1.0 liblzma5 libuuid1 libcrypt1 \
	libsqlite3-0 libncursesw6 libtinfo6 libreadline8
CROSS_PLATFORMS := --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 \
	--platform manylinux_2_34_aarch64 --platform linux_aarch64
# The suites' own dependencies (python-multipart: the test introspection endpoint reads forms;
# the host venvs get it through the MCP SDK).
CROSS_PY_DEPS := $(PY_TEST_DEPS) starlette==1.10.0 python-multipart==0.0.34
CROSS_TESTS := python/tests/test_vectors.py python/tests/test_vectors_dpop.py

## cross-wheel-aarch64: the aarch64 manylinux2014 wheel (a user's: no test hooks)
cross-wheel-aarch64: $(PY_VENV)/.packaging
	rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	rm -rf $(CROSS_WHEELS)
	cd python && PATH="$(PY_VENV)/bin:$$PATH" CARGO_BUILD_TARGET=aarch64-unknown-linux-gnu \
		CARGO_TARGET_DIR=$(PY_ZIG_TARGET_DIR) $(PY_VENV)/bin/maturin build --release --locked --quiet \
		--target aarch64-unknown-linux-gnu --zig --compatibility manylinux2014 -o $(CROSS_WHEELS)
	$(PY_VENV)/bin/python python/scripts/check_wheel_tag.py $(CROSS_WHEELS)/mcpauth-*.whl

$(CROSS_ROOT)/.ready:
	command -v qemu-aarch64 >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq qemu-user; }
	dpkg --print-foreign-architectures | grep -qx arm64 || { $(SUDO) dpkg --add-architecture arm64 && $(SUDO) apt-get update -qq; }
	rm -rf $(CROSS_DIR)/debs $(CROSS_ROOT) && mkdir -p $(CROSS_DIR)/debs
	cd $(CROSS_DIR)/debs && apt-get download -qq $(addsuffix :arm64,$(CROSS_DEBS))
	for d in $(CROSS_DIR)/debs/*.deb; do dpkg -x $$d $(CROSS_ROOT); done
	qemu-aarch64 -L $(CROSS_ROOT) $(CROSS_PY) -c 'import platform, ssl; assert platform.machine() == "aarch64"'
	touch $@

$(CROSS_SITE)/.ready: $(PY_VENV)/.ready mk/cross.mk
	rm -rf $(CROSS_SITE)
	$(PY_VENV)/bin/pip install -q --target $(CROSS_SITE) $(CROSS_PLATFORMS) --only-binary=:all: \
		--python-version 3.11 --implementation cp $(CROSS_PY_DEPS)
	touch $@

cross-sysroot-aarch64: $(CROSS_ROOT)/.ready $(CROSS_SITE)/.ready

## make test-cross: the aarch64 wheel, auditwheel, and the vector suites on arm64 CPython (QEMU)
test-cross: cross-wheel-aarch64 cross-sysroot-aarch64
	rm -rf $(CROSS_DIR)/arm64-mcpauth
	$(PY_VENV)/bin/pip install -q --no-deps --target $(CROSS_DIR)/arm64-mcpauth $(CROSS_PLATFORMS) \
		--only-binary=:all: --python-version 3.11 --implementation cp $(CROSS_WHEELS)/mcpauth-*.whl
	PYTHONPATH=$(CROSS_DIR)/arm64-mcpauth:$(CROSS_SITE) PYTHONNOUSERSITE=1 \
		qemu-aarch64 -L $(CROSS_ROOT) $(CROSS_PY) -c \
		'import platform, mcpauth._core as c; assert platform.machine() == "aarch64"; print("arm64:", c.__file__)'
	PYTHONPATH=$(CROSS_DIR)/arm64-mcpauth:$(CROSS_SITE) PYTHONNOUSERSITE=1 \
		qemu-aarch64 -L $(CROSS_ROOT) $(CROSS_PY) -m pytest $(PY_PYTEST) -q $(CROSS_TESTS)
