"""The provider checker of both packages against the real local authorization server: the same
report, word for word, and exit status 0."""

from __future__ import annotations

import json
import subprocess
import sys

from harness import SAMPLES

NODE_CHECKER = SAMPLES / "node" / "node_modules" / ".bin" / "mcp-auth"


def check(*args: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_both_checkers_find_the_authorization_server_compatible(cast) -> None:  # type: ignore[no-untyped-def]
    issuer, _ = cast
    python = check(sys.executable, "-m", "mcpauth", "check", issuer)
    node = check(str(NODE_CHECKER), "check", issuer)
    assert (python.returncode, node.returncode) == (0, 0), python.stderr + node.stderr
    assert python.stdout == node.stdout
    lines = python.stdout.splitlines()
    assert lines[:2] == [
        f"{issuer} (oauth): Compatible with MCP",
        f"Metadata: {issuer}/.well-known/oauth-authorization-server",
    ]
    assert "Successes (6)" in lines and "Errors" not in python.stdout

    # As OpenID Connect, and as JSON for machines.
    report = json.loads(check(sys.executable, "-m", "mcpauth", "check", issuer, "--type", "oidc", "--json").stdout)
    assert (report["type"], report["url"], report["is_valid"]) == (
        "oidc",
        f"{issuer}/.well-known/openid-configuration",
        True,
    )
    assert report["metadata"]["introspection_endpoint"] == f"{issuer}/token/introspection"
    node_report = json.loads(check(str(NODE_CHECKER), "check", issuer, "--type", "oidc", "--json").stdout)
    assert (node_report["type"], node_report["isValid"]) == ("oidc", True)
