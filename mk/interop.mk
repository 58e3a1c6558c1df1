# Interoperability: Keycloak and Ory Hydra as the authorization server of both packages
# (tests/interop), on 127.0.0.1. Both come from the package registries and are cached under
# $(INTEROP_CACHE): Keycloak's distribution zip from Maven Central (its own local repository, so
# that ~/.m2 stays as it was), Hydra built from the Go module proxy by tests/interop/hydra/go.mod
# (module and build caches in the same place; -modcacherw keeps them removable with the rest).
# Uses the venv, the wheel and the npm folders of mk/e2e.mk.
.PHONY: test-interop interop-deps interop-servers lint-interop

INTEROP_DIR := $(CURDIR)/tests/interop
INTEROP_CACHE := $(CARGO_TARGET_DIR)/interop
KEYCLOAK_VERSION := 26.4.7
KEYCLOAK_ZIP := $(INTEROP_CACHE)/m2/org/keycloak/keycloak-quarkus-dist/$(KEYCLOAK_VERSION)/keycloak-quarkus-dist-$(KEYCLOAK_VERSION).zip
KEYCLOAK_HOME := $(INTEROP_CACHE)/keycloak-$(KEYCLOAK_VERSION)
HYDRA_BIN := $(INTEROP_CACHE)/hydra-v2.3.0
INTEROP_GO := GOMODCACHE=$(INTEROP_CACHE)/go/mod GOCACHE=$(INTEROP_CACHE)/go/cache GOFLAGS="-modcacherw -mod=readonly -buildvcs=false" GOTOOLCHAIN=local

$(KEYCLOAK_ZIP):
	mvn -B -q -Dmaven.repo.local=$(INTEROP_CACHE)/m2 dependency:get -Dtransitive=false \
		-Dartifact=org.keycloak:keycloak-quarkus-dist:$(KEYCLOAK_VERSION):zip

$(KEYCLOAK_HOME)/bin/kc.sh: $(KEYCLOAK_ZIP)
	rm -rf $(KEYCLOAK_HOME)
	cd $(INTEROP_CACHE) && unzip -q $(KEYCLOAK_ZIP)
	touch $@

$(HYDRA_BIN): $(INTEROP_DIR)/hydra/go.mod $(INTEROP_DIR)/hydra/go.sum
	cd $(INTEROP_DIR)/hydra && $(INTEROP_GO) CGO_ENABLED=1 go build -tags sqlite,sqlite_omit_load_extension \
		-o $@.tmp github.com/ory/hydra/v2
	mv $@.tmp $@

interop-servers: $(KEYCLOAK_HOME)/bin/kc.sh $(HYDRA_BIN)

interop-deps: e2e-deps interop-servers

## make test-interop: Keycloak and Ory Hydra issue the tokens both packages verify, DPoP-bound ones
## from Keycloak (tests/interop; test_kotlin.py needs the Kotlin build: make test-kotlin runs it)
test-interop: interop-deps
	cd $(INTEROP_DIR) && MCP_AUTH_INTEROP_CACHE=$(INTEROP_CACHE) $(PY_VENV)/bin/python -m pytest -q \
		--ignore=test_kotlin.py

lint-interop: $(PY_VENV)/.ready
	$(PY_VENV)/bin/ruff format --check tests/interop
	$(PY_VENV)/bin/ruff check tests/interop
	node --check tests/interop/apps/verifier.mjs
