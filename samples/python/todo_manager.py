"""Todo manager: an MCP server (FastMCP, streamable HTTP) protected by mcpauth.

    MCP_AUTH_ISSUER=https://auth.example.com python todo_manager.py

Environment:
    MCP_AUTH_ISSUER          issuer of the authorization server (required)
    PORT                     port to listen on, on 127.0.0.1 (default 3001)
    MCP_RESOURCE_IDENTIFIER  this server's resource identifier, the URL clients connect to
                             (default http://127.0.0.1:$PORT/mcp)
    MCP_AUTH_INTROSPECTION_CLIENT_ID, MCP_AUTH_INTROSPECTION_CLIENT_SECRET
                             set both for opaque access tokens: each token is checked at the
                             authorization server's introspection endpoint (RFC 7662) instead
                             of being verified as a JWT
    MCP_AUTH_DPOP            `allowed` or `required`: DPoP (RFC 9449) sender-constrained tokens;
                             `allowed` takes Bearer tokens too, `required` only DPoP-bound ones
    MCP_AUTH_DPOP_NONCE_SECRET
                             with MCP_AUTH_DPOP: server nonces (RFC 9449 §8) sealed under this
                             secret (at least 32 bytes; replicas sharing it accept each other's)

Scopes: `create:todos` to create; everyone sees and deletes their own todos, `read:todos`
sees all of them and `delete:todos` deletes any.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Dict
from urllib.parse import urlparse

import uvicorn
from mcp.server.fastmcp import FastMCP
from mcpauth import MCPAuth
from mcpauth.config import AuthServerDiscoveryConfig, AuthServerType, IntrospectionConfig
from mcpauth.types import AuthInfo, ResourceServerConfig, ResourceServerMetadata
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

from todo_service import TodoService

ISSUER = os.environ["MCP_AUTH_ISSUER"]
PORT = int(os.environ.get("PORT", "3001"))
RESOURCE_ID = os.environ.get("MCP_RESOURCE_IDENTIFIER", f"http://127.0.0.1:{PORT}/mcp")

mcp_auth = MCPAuth(
    protected_resources=ResourceServerConfig(
        metadata=ResourceServerMetadata(
            resource=RESOURCE_ID,
            # Discovered on first use, so the server starts even while the issuer is down.
            authorization_servers=[AuthServerDiscoveryConfig(issuer=ISSUER, type=AuthServerType.OIDC)],
            scopes_supported=["create:todos", "read:todos", "delete:todos"],
        )
    )
)

# Opaque tokens are checked by introspection at every request, so a revoked token stops working
# at once; `cache_ttl` (seconds) would reuse answers for a while (never past a token's `exp`).
INTROSPECTION = (
    IntrospectionConfig(
        client_id=os.environ["MCP_AUTH_INTROSPECTION_CLIENT_ID"],
        client_secret=os.environ.get("MCP_AUTH_INTROSPECTION_CLIENT_SECRET", ""),
    )
    if os.environ.get("MCP_AUTH_INTROSPECTION_CLIENT_ID")
    else None
)


def dpop() -> Dict[str, Any]:
    """The middleware's `dpop` option from the environment; none when MCP_AUTH_DPOP is unset."""
    mode = os.environ.get("MCP_AUTH_DPOP")
    if not mode:
        return {}
    # Imported here so the sample runs on versions without DPoP while the switch is off.
    from mcpauth.config import DpopConfig

    secret = os.environ.get("MCP_AUTH_DPOP_NONCE_SECRET")
    return {"dpop": DpopConfig(mode=mode, nonce=secret is not None, nonce_secret=secret)}


# Checked before the MCP handler runs: a call of `create-todo` without `create:todos` is answered
# HTTP 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="create:todos"`, which
# MCP clients answer by asking the user for a token with more scopes (step-up authorization).
# A scope error raised inside the tool would reach the client as a tool result with HTTP 200.
TOOL_SCOPES = {"create-todo": ["create:todos"]}


def protect() -> Any:
    """The bearer middleware for this server's resource: JWTs, or opaque tokens by introspection."""
    if INTROSPECTION is not None:
        return mcp_auth.bearer_auth_middleware(
            "introspection",
            resource=RESOURCE_ID,
            audience=RESOURCE_ID,
            introspection=INTROSPECTION,
            tool_scopes=TOOL_SCOPES,
            **dpop(),
        )
    return mcp_auth.bearer_auth_middleware(
        "jwt", resource=RESOURCE_ID, audience=RESOURCE_ID, tool_scopes=TOOL_SCOPES, **dpop()
    )


# The MCP endpoint lives at the resource identifier's path, so clients connect to RESOURCE_ID itself.
mcp = FastMCP(name="Todo Manager", stateless_http=True, streamable_http_path=urlparse(RESOURCE_ID).path or "/")
todos = TodoService()


def caller() -> AuthInfo:
    auth_info = mcp_auth.auth_info
    assert auth_info is not None, "every MCP request passed the bearer middleware"
    return auth_info


@mcp.tool(name="whoami", description="Who is calling: user, client, scopes, and the DPoP key the token is bound to.")
def whoami() -> Dict[str, Any]:
    user = caller()
    # `jkt` is set only on a sender-constrained call: a DPoP-bound token with a valid proof of its key.
    return {"subject": user.subject, "clientId": user.client_id, "scopes": user.scopes, "jkt": user.jkt}


@mcp.tool(name="create-todo", description="Create a new todo (requires create:todos).")
def create_todo(content: str) -> Dict[str, Any]:
    return todos.create(content, caller().subject)


@mcp.tool(name="get-todos", description="List your todos (everyone's with read:todos).")
def get_todos() -> Dict[str, Any]:
    user = caller()
    return {"todos": todos.list(user.subject, all_owners="read:todos" in user.scopes)}


@mcp.tool(name="delete-todo", description="Delete one of your todos (any todo with delete:todos).")
def delete_todo(id: str) -> Dict[str, Any]:
    user = caller()
    todo = todos.delete(id, user.subject, any_owner="delete:todos" in user.scopes)
    if todo is None:
        return {"error": "Failed to delete todo"}
    return {"message": f"Todo {id} deleted", "details": todo}


@contextlib.asynccontextmanager
async def lifespan(_app: Starlette):  # type: ignore[no-untyped-def]
    async with mcp.session_manager.run():
        yield


app = Starlette(
    routes=[
        # The protected resource metadata (RFC 9728), public: clients discover the issuer here.
        *mcp_auth.resource_metadata_router().routes,
        Mount(
            "/",
            app=mcp.streamable_http_app(),
            middleware=[Middleware(protect())],
        ),
    ],
    lifespan=lifespan,
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level=os.environ.get("LOG_LEVEL", "warning"))
