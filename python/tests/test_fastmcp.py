"""PrefectHQ FastMCP (3.4 with mcp 1.x, 4.x with mcp 2.x) with `auth=mcp_auth.fastmcp_auth(...)`:
FastMCP serves our protected resource metadata and verifies through the core; the real MCP
client calls tools that see the caller; FastMCP's `require_scopes` reads our scopes (and
answers a shortfall inside a 200), while our middleware with `tool_scopes` in front of
`mcp.http_app()` gives the client a real 403 to step up on. Runs where FastMCP is installed
(`make test-python` has a virtualenv for each major version)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Callable, Dict, List, Tuple

import httpx
import pytest

fastmcp = pytest.importorskip("fastmcp")

from fastmcp import FastMCP  # noqa: E402
from fastmcp.server.auth import MultiAuth, require_scopes  # noqa: E402
from fastmcp.server.dependencies import get_access_token  # noqa: E402
from mcp_compat import TokenHolder, session, text  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from starlette.routing import Mount  # noqa: E402
from support import Issuer, Server, bind  # noqa: E402

from mcpauth import MCPAuth  # noqa: E402
from mcpauth.config import (  # noqa: E402
    AuthorizationServerMetadata,
    AuthServerConfig,
    AuthServerType,
    ResourceServerConfig,
    ResourceServerMetadata,
)
from mcpauth.utils import fetch_server_config  # noqa: E402

FASTMCP_MAJOR = int(fastmcp.__version__.split(".")[0])
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


def protect(resource: str, *servers: Any) -> MCPAuth:
    return MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(
                resource=resource, authorization_servers=list(servers), scopes_supported=["read", "create:todos"]
            )
        )
    )


def add_tools(mcp: Any, mcp_auth: MCPAuth, runs: Dict[str, int]) -> None:
    @mcp.tool
    def whoami() -> str:
        token = get_access_token()  # FastMCP's view of the caller
        info = mcp_auth.auth_info  # and ours, from the same token
        assert token is not None and info is not None
        return json.dumps(
            {
                "subject": token.subject,
                "client_id": token.client_id,
                "scopes": token.scopes,
                "resource": token.resource,
                "iss": token.claims.get("iss"),
                "auth_info": [info.subject, info.audience],
            }
        )

    @mcp.tool(auth=require_scopes("create:todos"))
    def create_todo(content: str) -> str:
        runs["create_todo"] += 1
        token = get_access_token()
        assert token is not None
        return f"{token.subject}|{' '.join(token.scopes)}|{content}"


def build(issuer: Issuer, stateless: bool = True, *servers: Any) -> Tuple[Server, str, Dict[str, int]]:
    server = Server()
    resource = f"{server.url}/mcp"
    mcp_auth = protect(resource, *(servers or [fetch_server_config(issuer.url, AuthServerType.OIDC)]))
    mcp = FastMCP("todos", auth=mcp_auth.fastmcp_auth(resource=resource, audience=resource, required_scopes=["read"]))
    runs = {"create_todo": 0}
    add_tools(mcp, mcp_auth, runs)
    app = mcp.http_app(path="/mcp", stateless_http=stateless)
    return server.start(app), resource, runs


def post(url: str, token: Any, message: Any = INITIALIZE) -> httpx.Response:
    auth = {"authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(url, headers={**MCP_HEADERS, **auth}, json=message)


def test_fastmcp_serves_our_metadata(issuer: Issuer, fresh_issuer: Issuer) -> None:
    # Two authorization servers: the metadata is ours, so it lists both.
    servers = [fetch_server_config(i.url, AuthServerType.OIDC) for i in (issuer, fresh_issuer)]
    server, resource, _ = build(issuer, True, *servers)
    try:
        resp = httpx.get(f"{server.url}/.well-known/oauth-protected-resource/mcp")
        preflight = httpx.options(f"{server.url}/.well-known/oauth-protected-resource/mcp")
    finally:
        server.stop()
    assert resp.status_code == 200
    assert resp.json() == {
        "resource": resource,
        "authorization_servers": [issuer.url, fresh_issuer.url],
        "scopes_supported": ["read", "create:todos"],
    }
    assert resp.headers["access-control-allow-origin"] == "*"
    assert preflight.status_code == 204


@pytest.mark.parametrize("stateless", [True, False], ids=["stateless", "stateful"])
def test_tools_see_the_caller_and_require_scopes_reads_our_scopes(issuer: Issuer, stateless: bool) -> None:
    server, resource, runs = build(issuer, stateless)

    async def client(scope: str) -> Tuple[str, List[str], Any]:
        token = issuer.token(sub="alice", aud=resource, scope=scope, client_id="todo-app")
        async with session(resource, TokenHolder(token), "http") as s:
            me = text(await s.call_tool("whoami", {}))
            tools = [t.name for t in (await s.list_tools()).tools]
            created = await s.call_tool("create_todo", {"content": "milk"})
        return me, tools, created

    try:
        me, tools, created = asyncio.run(client("read create:todos"))
        _, tools_without, refused = asyncio.run(client("read"))
    finally:
        server.stop()
    assert json.loads(me) == {
        "subject": "alice",
        "client_id": "todo-app",
        "scopes": ["read", "create:todos"],
        "resource": resource,
        "iss": issuer.url,
        "auth_info": ["alice", resource],
    }
    assert sorted(tools) == ["create_todo", "whoami"]
    assert text(created) == "alice|read create:todos|milk"
    # Without the scope FastMCP hides the tool and answers its call inside a 200: the
    # client gets a tool error, not a challenge it could step up on.
    assert tools_without == ["whoami"]
    assert refused.content[0].text == "Unknown tool: 'create_todo'"
    assert runs == {"create_todo": 1}


def test_fastmcp_answers_401_and_403(issuer: Issuer, fresh_issuer: Issuer) -> None:
    server, resource, _ = build(issuer)
    metadata = f'resource_metadata="{server.url}/.well-known/oauth-protected-resource/mcp"'
    # FastMCP 4 names the required scopes in its challenges, FastMCP 3 does not.
    scope = 'scope="read", ' if FASTMCP_MAJOR >= 4 else ""
    try:
        missing = post(resource, None)
        refused = {
            name: post(resource, token)
            for name, token in {
                "not a JWT": "not-a-jwt",
                "expired": issuer.token(aud=resource, lifetime=-3600),
                "for another resource": issuer.token(aud="https://other.example.com/mcp"),
                "from an untrusted issuer": fresh_issuer.token(aud=resource),
            }.items()
        }
        short = post(resource, issuer.token(aud=resource, scope="create:todos"))
        ok = post(resource, issuer.token(aud=resource, scope="read"))
    finally:
        server.stop()
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == f"Bearer {scope}{metadata}"
    for name, resp in refused.items():
        assert resp.status_code == 401, name
        challenge = resp.headers["www-authenticate"]
        assert challenge.startswith('Bearer error="invalid_token", ') and challenge.endswith(f"{scope}{metadata}"), name
    assert short.status_code == 403
    assert short.headers["www-authenticate"] == (
        f'Bearer error="insufficient_scope", error_description="Required scope: read", {scope}{metadata}'
    )
    assert ok.status_code == 200, ok.text


def test_tokens_the_core_cannot_judge(issuer: Issuer, caplog: pytest.LogCaptureFixture) -> None:
    """Keys unreachable: FastMCP 4's verifiers raise `TokenVerificationError` (a server error,
    not a 401 that would send the client to sign in again); FastMCP 3 has only None."""
    from mcpauth.fastmcp import MCPAuthProvider

    dead = bind()
    server = Server()
    resource = f"{server.url}/mcp"
    metadata = {**issuer.metadata, "jwks_uri": f"http://127.0.0.1:{dead.getsockname()[1]}/jwks"}
    mcp_auth = protect(
        resource, AuthServerConfig(metadata=AuthorizationServerMetadata(**metadata), type=AuthServerType.OIDC)
    )
    auth = mcp_auth.fastmcp_auth(resource=resource, audience=resource)
    assert isinstance(auth, MCPAuthProvider)
    mcp = FastMCP("todos", auth=auth)
    server.start(mcp.http_app(path="/mcp", stateless_http=True))
    try:
        with caplog.at_level(logging.ERROR, logger="mcpauth"):
            resp = post(resource, issuer.token(aud=resource))
    finally:
        server.stop()
        dead.close()
    errors = [r.getMessage() for r in caplog.records if r.name == "mcpauth" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "Failed to fetch the JWK Set" in errors[0], errors
    assert resp.status_code == (500 if FASTMCP_MAJOR >= 4 else 401)


def test_the_verifier_in_multiauth(issuer: Issuer, fresh_issuer: Issuer) -> None:
    """The provider's verifier is a plain FastMCP `TokenVerifier`: `MultiAuth` can try it."""
    from mcpauth.fastmcp import MCPAuthTokenVerifier

    resource = "https://todos.example.com/mcp"
    auth = protect(resource, fetch_server_config(issuer.url, AuthServerType.OIDC)).fastmcp_auth(
        resource=resource, audience=resource
    )
    assert isinstance(auth.token_verifier, MCPAuthTokenVerifier)
    multi = MultiAuth(verifiers=[auth.token_verifier])
    accepted = asyncio.run(multi.verify_token(issuer.token(sub="bob", aud=resource)))
    refused = asyncio.run(multi.verify_token(fresh_issuer.token(aud=resource)))
    assert accepted is not None and accepted.subject == "bob" and accepted.claims["iss"] == issuer.url
    assert refused is None


class StepUp(TokenHolder):
    """What an MCP client does on `403 insufficient_scope`: gets a token with the scopes the
    challenge names (minted by the test issuer here) and sends the request again."""

    def __init__(self, token: str, mint: Callable[[str], str]):
        super().__init__(token)
        self.mint = mint
        self.challenges: List[str] = []

    def auth_flow(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 403:
            challenge = response.headers.get("www-authenticate", "")
            self.challenges.append(challenge)
            match = re.search(r'scope="([^"]*)"', challenge)
            assert match is not None, challenge
            self.token = self.mint(match.group(1))
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request


@pytest.mark.parametrize("stateless", [True, False], ids=["stateless", "stateful"])
def test_a_real_403_per_tool_with_our_middleware_in_front(issuer: Issuer, stateless: bool) -> None:
    server = Server()
    resource = f"{server.url}/mcp"
    mcp_auth = protect(resource, fetch_server_config(issuer.url, AuthServerType.OIDC))
    runs = {"create_todo": 0}

    mcp = FastMCP("todos")  # our middleware authenticates; FastMCP's checks still see the caller
    add_tools(mcp, mcp_auth, runs)
    bearer = mcp_auth.bearer_auth_middleware(
        "jwt",
        resource=resource,
        audience=resource,
        required_scopes=["read"],
        tool_scopes={"create_todo": ["create:todos"]},
    )
    mcp_app = mcp.http_app(path="/mcp", stateless_http=stateless)
    app = Starlette(
        routes=[*mcp_auth.resource_metadata_router().routes, Mount("/", app=mcp_app, middleware=[Middleware(bearer)])],
        lifespan=mcp_app.lifespan,
    )
    server.start(app)

    async def client() -> Tuple[List[str], StepUp]:
        holder = StepUp(
            issuer.token(sub="alice", aud=resource, scope="read"),
            lambda scopes: issuer.token(sub="alice", aud=resource, scope=scopes),
        )
        async with session(resource, holder, "http") as s:
            seen = [text(await s.call_tool("create_todo", {"content": "milk"}))]
            seen.append(json.loads(text(await s.call_tool("whoami", {})))["scopes"])
        return seen, holder

    try:
        seen, holder = asyncio.run(client())
        metadata = httpx.get(f"{server.url}/.well-known/oauth-protected-resource/mcp")
    finally:
        server.stop()
    # One 403 before the tool ran, naming every scope the call needs; then it went through.
    assert holder.challenges == [
        'Bearer error="insufficient_scope", '
        'error_description="The token does not contain the necessary scopes for this request.", '
        f'scope="read create:todos", resource_metadata="{server.url}/.well-known/oauth-protected-resource/mcp"'
    ]
    assert seen == ["alice|read create:todos|milk", ["read", "create:todos"]]
    assert runs == {"create_todo": 1}
    assert metadata.status_code == 200 and metadata.json()["resource"] == resource
