"""Optional dependencies stay optional: `import mcpauth` and everything but the adapter that
needs it work without FastMCP, FastAPI or the MCP SDK, and the adapter says what to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Runs in a fresh interpreter whose import system finds none of the named packages, whether
# or not this virtualenv has them.
PROGRAM = """
import sys

class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ABSENT:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

ABSENT = set(sys.argv[1:])
sys.meta_path.insert(0, Absent())

from mcpauth import MCPAuth
from mcpauth.config import AuthorizationServerMetadata, AuthServerConfig, AuthServerType
from mcpauth.config import ResourceServerConfig, ResourceServerMetadata

rid = "https://notes.example.com/mcp"
server = AuthServerConfig(
    type=AuthServerType.OIDC,
    metadata=AuthorizationServerMetadata(
        issuer="https://auth.example.com",
        authorization_endpoint="https://auth.example.com/authorize",
        token_endpoint="https://auth.example.com/token",
        jwks_uri="https://auth.example.com/jwks",
        response_types_supported=["code"],
        code_challenge_methods_supported=["S256"],
    ),
)
mcp_auth = MCPAuth(
    protected_resources=ResourceServerConfig(metadata=ResourceServerMetadata(resource=rid, authorization_servers=[server]))
)
mcp_auth.resource_metadata_router()
mcp_auth.bearer_auth_middleware("jwt", resource=rid, audience=rid, tool_scopes={"t": ["s"]})
assert not ABSENT & set(sys.modules), sorted(ABSENT & set(sys.modules))
if "mcp" not in ABSENT:
    mcp_auth.token_verifier(resource=rid, audience=rid)
    mcp_auth.auth_settings(rid)
for adapter in ("fastmcp_auth", "require"):
    try:
        getattr(mcp_auth, adapter)(resource=rid)
        print(adapter, "works")
    except ImportError as e:
        print(adapter, e)
"""


@pytest.mark.parametrize("absent", [["fastmcp"], ["fastmcp", "fastapi"], ["fastmcp", "fastapi", "mcp"]])
def test_mcpauth_without_optional_packages(absent: list) -> None:  # type: ignore[type-arg]
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *absent], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == 'fastmcp_auth mcpauth.fastmcp needs FastMCP: pip install "mcpauth[fastmcp]"'
    if "fastapi" in absent:
        assert lines[1] == "require mcpauth.fastapi needs FastAPI: pip install fastapi"
    else:
        try:
            import fastapi  # noqa: F401
        except ImportError:
            assert lines[1] == "require mcpauth.fastapi needs FastAPI: pip install fastapi"
        else:
            assert lines[1] == "require works"
