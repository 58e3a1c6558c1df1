# Every Linux artefact users install: x86-64 and aarch64, glibc and musl (make test-platforms,
# part of make test).
#
# All are built on this x86-64 machine with zig (PyPI `ziglang`) as C compiler and linker, in one
# target dir, each target under the environment cargo-zigbuild sets for it (scripts/zigenv.py):
# the wheel (maturin), the Node addon (napi or cargo) and the Kotlin library (cargo) of a target
# then share one build of aws-lc. glibc targets link glibc 2.17's symbols (manylinux2014: Debian
# 9+, Ubuntu 18.04+, RHEL 7+, Amazon Linux 2); musl ones are musllinux_1_2 (Alpine 3.13+). Each
# artefact is checked for the platform its name claims: wheels by auditwheel
# (python/scripts/check_wheel_tag.py), Node addons and Kotlin libraries by their ELF headers
# (scripts/check_native.py). The x86-64 glibc ones are the very builds the suites run
# (mk/python.mk, mk/node.mk, mk/kotlin.mk); the others are users' builds (no test hooks), and the
# aarch64 glibc ones run the vector suites under QEMU in make test-cross (mk/cross.mk).
CROSS_TARGETS := aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl
.PHONY: test-platforms linux-targets $(addprefix platform-,$(CROSS_TARGETS))

DIST := $(CARGO_TARGET_DIR)/dist

gnu = $(filter %-gnu,$(1))
# cargo-zigbuild's spelling: a glibc target carries the glibc version its symbols may come from.
zig_target = $(if $(call gnu,$(1)),$(1).2.17,$(1))
wheel_tag = $(if $(call gnu,$(1)),manylinux2014,musllinux_1_2)
# napi-rs's platform names: aarch64-unknown-linux-musl -> linux-arm64-musl
npm_platform = linux-$(subst aarch64,arm64,$(subst x86_64,x64,$(subst -unknown-linux,,$(1))))
# JNA's resource directories (the jar carries glibc libraries only: JNA does not tell musl apart)
jna_dir = linux-$(subst x86_64,x86-64,$(firstword $(subst -, ,$(1))))
# A musl cdylib must not link the C runtime statically; this is the flag as maturin passes it to
# the wheel's build, so the addon's build of a musl target reuses the wheel's aws-lc.
musl_rustflags = $(if $(call gnu,$(1)),,RUSTFLAGS="-C target-feature=-crt-static")

linux-targets:
	for t in $(CROSS_TARGETS); do \
		rustup target list --installed | grep -qx $$t || rustup target add $$t || exit 1; \
	done

# One cross target: its wheel, its Node addon and (glibc) its Kotlin library, in $(DIST)/<target>
# and, for the jar, $(KT_NATIVES)/<JNA directory>.
define platform_rules
platform-$(1): $(PY_VENV)/.packaging linux-targets
	rm -rf $(DIST)/$(1) && mkdir -p $(DIST)/$(1)
	cd python && $$(ZIG_ENV) $(call zig_target,$(1)) $(PY_VENV)/bin/maturin build --release --locked \
		--quiet --target $(1) --compatibility $(call wheel_tag,$(1)) -o $(DIST)/$(1)
	$(call musl_rustflags,$(1)) $$(ZIG_ENV) $(call zig_target,$(1)) cargo build --release --locked \
		--quiet -p mcp-auth-node $(if $(call gnu,$(1)),-p mcp-auth-uniffi) --target $(1)
	cp $(ZIG_TARGET_DIR)/$(1)/release/libmcp_auth_node.so $(DIST)/$(1)/mcp-auth.$(call npm_platform,$(1)).node
	$(if $(call gnu,$(1)),mkdir -p $(KT_NATIVES)/$(call jna_dir,$(1)) && \
		cp $(ZIG_TARGET_DIR)/$(1)/release/libmcpauth_uniffi.so $(KT_NATIVES)/$(call jna_dir,$(1))/)
endef
$(foreach t,$(CROSS_TARGETS),$(eval $(call platform_rules,$(t))))

# musl's C library for x86-64 and aarch64 (Debian's `musl` packages, downloaded and unpacked,
# never installed), for auditwheel to read the musllinux wheels against.
MUSL_ROOT := $(DIST)/musl-root
$(MUSL_ROOT)/.ready:
	dpkg --print-foreign-architectures | grep -qx arm64 || { $(SUDO) dpkg --add-architecture arm64 && $(SUDO) apt-get update -qq; }
	rm -rf $(MUSL_ROOT) && mkdir -p $(MUSL_ROOT)/debs
	cd $(MUSL_ROOT)/debs && apt-get download -qq musl:amd64 musl:arm64
	dpkg -x $(MUSL_ROOT)/debs/musl_*_amd64.deb $(MUSL_ROOT)/x86_64
	dpkg -x $(MUSL_ROOT)/debs/musl_*_arm64.deb $(MUSL_ROOT)/aarch64
	touch $@

## make test-platforms: the four wheels (auditwheel) and the four Node addons (ELF: CPU, libc,
## newest glibc symbol); the jar's two libraries are checked by test-kotlin
test-platforms: python-wheel node-build $(addprefix platform-,$(CROSS_TARGETS)) $(MUSL_ROOT)/.ready
	$(PY_VENV)/bin/python python/scripts/check_wheel_tag.py --musl-root $(MUSL_ROOT) $(PY_WHEELS)/mcpauth-*.whl \
		$(foreach t,$(CROSS_TARGETS),$(DIST)/$(t)/mcpauth-*.whl)
	$(PY_VENV)/bin/python scripts/check_native.py \
		$(NODE_PKG)/native/mcp-auth.linux-x64-gnu.node=x86_64-unknown-linux-gnu \
		$(foreach t,$(CROSS_TARGETS),$(DIST)/$(t)/mcp-auth.$(call npm_platform,$(t)).node=$(t))
