"""The MCP SDK 1.x (FastMCP) and 2.x (MCPServer) behind one small surface, for the tests."""

from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator, List

from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

try:
    from mcp.server.fastmcp import FastMCP

    MCP_MAJOR = 1
except ModuleNotFoundError:
    from mcp.server.mcpserver import MCPServer

    MCP_MAJOR = 2

if MCP_MAJOR == 2:
    import httpx2 as httpx_for_mcp
else:
    import httpx as httpx_for_mcp


class TokenHolder(httpx_for_mcp.Auth):  # type: ignore[misc,name-defined]
    """Sends whatever token it holds now, so a test can refresh it mid-session."""

    def __init__(self, token: str):
        self.token = token

    def auth_flow(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def new_server(name: str = "test", **options: Any) -> Any:
    """`options`: the SDK's own auth, `token_verifier=` and `auth=`."""
    return FastMCP(name, **options) if MCP_MAJOR == 1 else MCPServer(name, **options)


def http_app(server: Any, stateless: bool, path: str = "/") -> Any:
    if MCP_MAJOR == 1:
        server.settings.stateless_http = stateless
        server.settings.streamable_http_path = path
        return server.streamable_http_app()
    return server.streamable_http_app(streamable_http_path=path, stateless_http=stateless)


def sse_app(server: Any) -> Any:
    return server.sse_app()


@contextlib.asynccontextmanager
async def session(url: str, holder: TokenHolder, transport: str) -> AsyncIterator[ClientSession]:
    if transport == "sse":
        cm: Any = sse_client(url, auth=holder)
    else:
        cm = streamable_http_client(url, http_client=create_mcp_http_client(auth=holder))
    async with cm as streams:
        async with ClientSession(streams[0], streams[1]) as s:
            await s.initialize()
            yield s


def is_error(result: Any) -> bool:
    # mcp 2.x names it `is_error`; reading the 1.x name there warns.
    flag = getattr(result, "is_error", None)
    return bool(getattr(result, "isError", None) if flag is None else flag)


def text(result: Any) -> str:
    assert not is_error(result), result
    return str(result.content[0].text)


__all__: List[str] = ["MCP_MAJOR", "TokenHolder", "new_server", "http_app", "sse_app", "session", "text", "is_error"]
