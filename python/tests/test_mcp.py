"""The official MCP SDK (client and server) with mcpauth: SSE, stateless and stateful streamable HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, List

import pytest
from mcp_compat import TokenHolder, http_app, is_error, new_server, session, sse_app, text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from support import Issuer, Server

from mcpauth import MCPAuth
from mcpauth.config import AuthServerType, ResourceServerConfig, ResourceServerMetadata
from mcpauth.exceptions import BearerAuthExceptionCode, MCPAuthBearerAuthException
from mcpauth.utils import fetch_server_config

TRANSPORTS = ["sse", "stateless", "stateful"]


def build(issuer: Issuer, transport: str) -> Any:
    sock_server = Server()
    resource = f"{sock_server.url}/"
    mcp_auth = MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(
                resource=resource,
                authorization_servers=[fetch_server_config(issuer.url, AuthServerType.OIDC)],
                scopes_supported=["read", "write"],
            )
        )
    )
    mcp = new_server()

    @mcp.tool()
    def whoami() -> str:
        info = mcp_auth.auth_info
        assert info is not None
        return f"{info.subject}|{' '.join(info.scopes)}"

    @mcp.tool()
    def sdk_view() -> str:
        from mcp.server.auth.middleware.auth_context import get_access_token

        token = get_access_token()
        assert token is not None
        return f"{token.subject}|{token.client_id}|{' '.join(token.scopes)}"

    @mcp.tool()
    async def write_something() -> str:
        info = mcp_auth.auth_info
        if info is None or "write" not in info.scopes:
            raise MCPAuthBearerAuthException(BearerAuthExceptionCode.MISSING_REQUIRED_SCOPES)
        return "written"

    inner = sse_app(mcp) if transport == "sse" else http_app(mcp, stateless=transport == "stateless")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if transport == "sse":
            yield
        else:
            async with mcp.session_manager.run():
                yield

    bearer = Middleware(
        mcp_auth.bearer_auth_middleware("jwt", resource=resource, audience=resource, required_scopes=["read"])
    )
    app = Starlette(
        routes=[*mcp_auth.resource_metadata_router().routes, Mount("/", app=inner, middleware=[bearer])],
        lifespan=lifespan,
    )
    endpoint = f"{sock_server.url}/sse" if transport == "sse" else f"{sock_server.url}/"
    return sock_server.start(app), resource, endpoint


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_tools_see_their_caller(issuer: Issuer, transport: str) -> None:
    server, resource, endpoint = build(issuer, transport)
    kind = "sse" if transport == "sse" else "http"

    async def client(sub: str, rounds: int) -> List[str]:
        holder = TokenHolder(issuer.token(sub=sub, aud=resource, scope="read"))
        seen = []
        async with session(endpoint, holder, kind) as s:
            for i in range(rounds):
                seen.append(text(await s.call_tool("whoami", {})))
                if i == 1:
                    # Refreshed and stepped up mid-session: the next call must see the new token.
                    holder.token = issuer.token(sub=sub, aud=resource, scope="read write")
            assert text(await s.call_tool("write_something", {})) == "written"
        return seen

    async def main() -> List[List[str]]:
        return await asyncio.gather(client("alice", 4), client("bob", 4))

    try:
        alice, bob = asyncio.run(main())
    finally:
        server.stop()
    assert alice == ["alice|read", "alice|read", "alice|read write", "alice|read write"]
    assert bob == ["bob|read", "bob|read", "bob|read write", "bob|read write"]


@pytest.mark.parametrize("transport", ["sse", "stateless"])
def test_scope_errors_inside_tools_and_at_the_door(issuer: Issuer, transport: str) -> None:
    server, resource, endpoint = build(issuer, transport)
    kind = "sse" if transport == "sse" else "http"

    async def main() -> Any:
        holder = TokenHolder(issuer.token(aud=resource, scope="read"))
        async with session(endpoint, holder, kind) as s:
            return await s.call_tool("write_something", {})

    try:
        result = asyncio.run(main())
        assert is_error(result)  # raised inside the tool: a tool error, not an HTTP 403

        async def sdk() -> str:
            holder = TokenHolder(issuer.token(sub="carol", aud=resource, scope="read", client_id="app-1"))
            async with session(endpoint, holder, kind) as s:
                return text(await s.call_tool("sdk_view", {}))

        if transport == "stateless":  # the SDK's own variable follows the request like ours
            assert asyncio.run(sdk()) == "carol|app-1|read"
        import httpx

        r = httpx.get(endpoint, headers={"Authorization": f"Bearer {issuer.token(aud=resource, scope='write')}"})
        assert r.status_code == 403 and r.json()["error"] == "missing_required_scopes"
        assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
        r = httpx.post(endpoint, json={})
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == (
            f'Bearer scope="read", resource_metadata="{server.url}/.well-known/oauth-protected-resource"'
        )
    finally:
        server.stop()
