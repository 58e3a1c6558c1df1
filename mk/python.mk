# Python package `mcpauth` (python/, bindings/python).
.PHONY: test-python lint-python
test-python:
	@echo "python: no suite yet"
lint-python:
	@true
