# Run by tests/test_docs.py with AUTH_ISSUER and NONCE_SECRET set; the README shows it as written.
import contextlib

from mcp.server.fastmcp import FastMCP
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

from mcpauth import MCPAuth
from mcpauth.config import AuthServerType, DpopConfig
from mcpauth.types import ResourceServerConfig, ResourceServerMetadata
from mcpauth.utils import fetch_server_config

resource_id = "https://api.example.com/notes"
mcp_auth = MCPAuth(
    protected_resources=ResourceServerConfig(
        metadata=ResourceServerMetadata(
            resource=resource_id,
            authorization_servers=[fetch_server_config(AUTH_ISSUER, AuthServerType.OIDC)],  # noqa: F821
        )
    )
)
# The endpoint answers at the resource identifier's path: a proof names the URL it is sent to.
mcp = FastMCP("Notes", stateless_http=True, streamable_http_path="/notes")


@mcp.tool()
def whoami() -> str:
    # `jkt` is the thumbprint of the key this call was signed with (None for a bearer token).
    return f"{mcp_auth.auth_info.subject} with key {mcp_auth.auth_info.jkt}"


# DPoP-bound tokens only, each request with a fresh proof of the token's key; server nonces
# (replicas that share the secret accept each other's); proofs remembered in process (give
# `replay_store="redis://…"` when several replicas serve the resource).
bearer_auth = Middleware(
    mcp_auth.bearer_auth_middleware(
        "jwt",
        resource=resource_id,
        dpop=DpopConfig(mode="required", nonce=True, nonce_secret=NONCE_SECRET),  # noqa: F821
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
