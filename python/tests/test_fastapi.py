"""FastAPI: API routes guarded by `Depends(mcp_auth.require(...))` next to an MCP endpoint
mounted under the same app with `bearer_auth_middleware`. The dependency answers every
refusal with the middleware's status, challenge and body (under FastAPI's `detail`, or as is
with `mcpauth_exception_handler`), and the real MCP client reaches its tool."""

# No `from __future__ import annotations`: FastAPI reads the routes' `Annotated[..., Depends(...)]`
# parameters at run time, and they name local variables.
import asyncio
import contextlib
from typing import Annotated, Any, AsyncIterator, Dict, Tuple

import httpx
import pytest

pytest.importorskip("fastapi")

from fastapi import Depends, FastAPI  # noqa: E402
from mcp_compat import TokenHolder, http_app, new_server, session, text  # noqa: E402
from support import Issuer, Server  # noqa: E402

from mcpauth import MCPAuth  # noqa: E402
from mcpauth.config import AuthServerType, ResourceServerConfig, ResourceServerMetadata  # noqa: E402
from mcpauth.fastapi import MCPAuthHTTPException, mcpauth_exception_handler  # noqa: E402
from mcpauth.types import AuthInfo  # noqa: E402
from mcpauth.utils import fetch_server_config  # noqa: E402

MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


def build(issuer: Issuer, exception_handler: bool = False) -> Tuple[Server, str, FastAPI]:
    server = Server()
    resource_id = f"{server.url}/mcp"
    mcp_auth = MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(
                resource=resource_id,
                authorization_servers=[fetch_server_config(issuer.url, AuthServerType.OIDC)],
                scopes_supported=["read", "write"],
            )
        )
    )
    mcp = new_server("notes")

    @mcp.tool()
    def whoami() -> str:
        info = mcp_auth.auth_info
        assert info is not None
        return info.subject

    # The MCP endpoint, guarded by the middleware, at /mcp (its own routes start at "/").
    mcp_app = http_app(mcp, stateless=True, path="/")
    bearer = mcp_auth.bearer_auth_middleware(
        "jwt", resource=resource_id, audience=resource_id, required_scopes=["read"]
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    app = FastAPI(lifespan=lifespan)
    app.router.routes.extend(mcp_auth.resource_metadata_router().routes)
    app.mount("/mcp", bearer(mcp_app))

    # API routes of the same app, with the same rules.
    read = mcp_auth.require(resource=resource_id, audience=resource_id, required_scopes=["read"])
    write = mcp_auth.require(
        resource=resource_id, audience=resource_id, required_scopes=["write"], scope_hierarchy={"admin": ["write"]}
    )

    @app.get("/api/me")
    async def me(auth: Annotated[AuthInfo, Depends(read)]) -> Dict[str, Any]:
        return {"subject": auth.subject, "scopes": auth.scopes, "audience": auth.audience}

    @app.post("/api/notes")
    async def create_note(auth: Annotated[AuthInfo, Depends(write)]) -> Dict[str, Any]:
        return {"created_by": auth.subject}

    if exception_handler:
        app.add_exception_handler(MCPAuthHTTPException, mcpauth_exception_handler)
    return server.start(app), resource_id, app


def test_api_routes_and_the_mcp_endpoint(issuer: Issuer) -> None:
    server, resource_id, _ = build(issuer)
    token = issuer.token(sub="alice", aud=resource_id, scope="read")

    async def call() -> str:
        # The client names the resource; Starlette redirects /mcp to the mount's /mcp/.
        async with session(resource_id, TokenHolder(token), "http") as s:
            return text(await s.call_tool("whoami", {}))

    try:
        tool = asyncio.run(call())
        me = httpx.get(f"{server.url}/api/me", headers={"authorization": f"Bearer {token}"})
        admin = issuer.token(sub="root", aud=resource_id, scope="read admin")
        created = httpx.post(f"{server.url}/api/notes", headers={"authorization": f"Bearer {admin}"})
        metadata = httpx.get(f"{server.url}/.well-known/oauth-protected-resource/mcp")
    finally:
        server.stop()
    assert tool == "alice"
    assert (me.status_code, me.json()) == (200, {"subject": "alice", "scopes": ["read"], "audience": resource_id})
    assert (created.status_code, created.json()) == (200, {"created_by": "root"})  # admin implies write
    assert metadata.status_code == 200 and metadata.json()["resource"] == resource_id


@pytest.mark.parametrize("handler", [False, True], ids=["HTTPException", "exception-handler"])
def test_refusals_match_the_middleware(issuer: Issuer, fresh_issuer: Issuer, handler: bool) -> None:
    server, resource_id, _ = build(issuer, exception_handler=handler)
    headers = {
        "no credentials": {},
        "another scheme": {"authorization": "Basic dXNlcjpwYXNz"},
        "not a JWT": {"authorization": "Bearer not-a-jwt"},
        "expired": {"authorization": f"Bearer {issuer.token(aud=resource_id, lifetime=-3600)}"},
        "for another resource": {"authorization": f"Bearer {issuer.token(aud='https://other.example.com/mcp')}"},
        "untrusted issuer": {"authorization": f"Bearer {fresh_issuer.token(aud=resource_id)}"},
        "lacking the scope": {"authorization": f"Bearer {issuer.token(aud=resource_id, scope='write')}"},
    }
    try:
        answers = {
            name: (
                httpx.get(f"{server.url}/api/me", headers=h),
                httpx.post(f"{server.url}/mcp/", headers={**MCP_HEADERS, **h}, json=INITIALIZE),
            )
            for name, h in headers.items()
        }
        short = httpx.post(
            f"{server.url}/api/notes",
            headers={"authorization": f"Bearer {issuer.token(aud=resource_id, scope='read')}"},
        )
    finally:
        server.stop()
    for name, (api, mcp) in answers.items():
        assert api.status_code == mcp.status_code and api.status_code in (400, 401, 403), name
        assert api.headers.get("www-authenticate") == mcp.headers.get("www-authenticate"), name
        if handler:
            assert api.content == mcp.content, name
        else:
            assert api.json() == {"detail": mcp.json()}, name
    assert answers["no credentials"][0].headers["www-authenticate"] == (
        f'Bearer scope="read", resource_metadata="{server.url}/.well-known/oauth-protected-resource/mcp"'
    )
    assert short.status_code == 403
    assert short.headers["www-authenticate"].startswith('Bearer error="insufficient_scope", ')
    assert 'scope="write"' in short.headers["www-authenticate"]


def test_openapi_shows_bearer_auth(issuer: Issuer) -> None:
    server, _, app = build(issuer)
    server.stop()
    schema = app.openapi()
    assert schema["components"]["securitySchemes"] == {"MCPAuthBearer": {"type": "http", "scheme": "bearer"}}
    assert schema["paths"]["/api/me"]["get"]["security"] == [{"MCPAuthBearer": []}]
