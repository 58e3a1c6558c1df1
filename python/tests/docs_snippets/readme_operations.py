# Run by tests/test_docs.py with AUTH_ISSUER set; the README shows it as written.
import contextlib

from mcp.server.fastmcp import FastMCP
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

from mcpauth import MCPAuth
from mcpauth.config import AuthServerType
from mcpauth.types import ResourceServerConfig, ResourceServerMetadata
from mcpauth.utils import fetch_server_config

resource_id = "https://api.example.com/notes"
mcp_auth = MCPAuth(
    protected_resources=ResourceServerConfig(
        metadata=ResourceServerMetadata(
            resource=resource_id,
            authorization_servers=[fetch_server_config(AUTH_ISSUER, AuthServerType.OIDC)],  # noqa: F821
            scopes_supported=["notes:read", "notes:write", "notes:admin"],
        )
    )
)
mcp = FastMCP("Notes", stateless_http=True, streamable_http_path="/")
notes = {"1": "Buy milk"}


@mcp.tool(name="delete-note")
def delete_note(id: str) -> str:
    notes.pop(id, None)
    return f"deleted by {mcp_auth.auth_info.subject}"


@mcp.resource("notes://{id}")
def note(id: str) -> str:
    return notes.get(id, "")


@mcp.prompt(name="summarize")
def summarize(id: str) -> str:
    return f"Summarize: {notes.get(id, '')}"


# Every request needs `notes:read`; each operation named here needs its scopes too, checked
# before the MCP handler runs. `notes:admin` implies `notes:write`, which implies `notes:read`.
bearer_auth = Middleware(
    mcp_auth.bearer_auth_middleware(
        "jwt",
        resource=resource_id,
        audience=resource_id,
        required_scopes=["notes:read"],
        tool_scopes={"delete-note": ["notes:write"]},  # tools/call by tool name
        resource_scopes={"notes://{id}": ["notes:read"]},  # resources/read by URI or template
        prompt_scopes={"summarize": ["notes:read"]},  # prompts/get by prompt name
        method_scopes={"resources/subscribe": ["notes:admin"]},  # any JSON-RPC method
        scope_hierarchy={"notes:admin": ["notes:write"], "notes:write": ["notes:read"]},
        max_body_bytes=1024 * 1024,  # bodies inspected up to 1 MiB (default 4 MiB); larger: 413
    )
)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette):
    async with mcp.session_manager.run():
        yield


app = Starlette(
    routes=[
        *mcp_auth.resource_metadata_router().routes,
        Mount("/", app=mcp.streamable_http_app(), middleware=[bearer_auth]),
    ],
    lifespan=lifespan,
)
