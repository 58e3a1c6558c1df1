# Node package `mcp-auth` (node/, bindings/node).
.PHONY: test-node lint-node
test-node:
	@echo "node: no suite yet"
lint-node:
	@true
