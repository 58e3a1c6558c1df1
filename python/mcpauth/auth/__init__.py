"""How MCPAuth serves metadata and picks verifiers, per mode."""
