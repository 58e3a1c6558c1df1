"""Per-tool scopes with the official MCP SDK (FastMCP on mcp 1.x, MCPServer on mcp 2.x), stateless
and stateful streamable HTTP: the real client gets the 403 step-up challenge before the tool runs,
and the call succeeds once it holds the scope. Bodies built to slip past the rule are refused
before the SDK sees them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from typing import Any, AsyncIterator, Callable, Dict, List, Tuple

import httpx
import pytest
from mcp_compat import TokenHolder, http_app, new_server, session, text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from support import Issuer, Server

from mcpauth import MCPAuth
from mcpauth.config import AuthServerType, ResourceServerConfig, ResourceServerMetadata
from mcpauth.utils import fetch_server_config

DESCRIPTION = "The token does not contain the necessary scopes for this request."


class StepUp(TokenHolder):
    """What an MCP client does on `403 insufficient_scope`: gets a token with the scopes the
    challenge names (here minted by the test issuer) and sends the same request again."""

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


def build(issuer: Issuer, stateless: bool) -> Tuple[Server, str, Dict[str, int]]:
    server = Server()
    resource = f"{server.url}/"
    mcp_auth = MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(
                resource=resource,
                authorization_servers=[fetch_server_config(issuer.url, AuthServerType.OIDC)],
                scopes_supported=["read", "create:todos"],
            )
        )
    )
    mcp = new_server()
    runs = {"create-todo": 0, "whoami": 0}

    @mcp.tool(name="whoami")
    def whoami() -> str:
        runs["whoami"] += 1
        info = mcp_auth.auth_info
        assert info is not None
        return f"{info.subject}|{' '.join(info.scopes)}"

    @mcp.tool(name="create-todo")
    def create_todo(content: str) -> str:
        runs["create-todo"] += 1
        from mcp.server.auth.middleware.auth_context import get_access_token

        info, sdk = mcp_auth.auth_info, get_access_token()
        assert info is not None and sdk is not None and sdk.subject == info.subject
        return f"{info.subject}|{' '.join(info.scopes)}|{content}"

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    bearer = mcp_auth.bearer_auth_middleware(
        "jwt",
        resource=resource,
        audience=resource,
        required_scopes=["read"],
        tool_scopes={"create-todo": ["create:todos"]},
    )
    inner = http_app(mcp, stateless=stateless)
    app = Starlette(
        routes=[*mcp_auth.resource_metadata_router().routes, Mount("/", app=inner, middleware=[Middleware(bearer)])],
        lifespan=lifespan,
    )
    return server.start(app), resource, runs


@pytest.mark.parametrize("stateless", [True, False], ids=["stateless", "stateful"])
def test_tool_scope_step_up(issuer: Issuer, stateless: bool) -> None:
    server, resource, runs = build(issuer, stateless)
    challenge = (
        f'Bearer error="insufficient_scope", error_description="{DESCRIPTION}", scope="read create:todos", '
        f'resource_metadata="{server.url}/.well-known/oauth-protected-resource"'
    )

    async def client(sub: str) -> Tuple[List[str], List[str]]:
        holder = StepUp(
            issuer.token(sub=sub, aud=resource, scope="read"), lambda s: issuer.token(sub=sub, aud=resource, scope=s)
        )
        seen = []
        async with session(resource, holder, "http") as s:
            seen.append(text(await s.call_tool("whoami", {})))
            seen.append(text(await s.call_tool("create-todo", {"content": "milk"})))
            seen.append(text(await s.call_tool("whoami", {})))
        return seen, holder.challenges

    async def main() -> Any:
        return await asyncio.gather(client("alice"), client("bob"))

    try:
        (alice, alice_challenges), (bob, bob_challenges) = asyncio.run(main())
    finally:
        server.stop()
    # One 403 each, for the tool call, with every scope it needs; then the call went through.
    assert alice_challenges == [challenge] and bob_challenges == [challenge]
    assert alice == ["alice|read", "alice|read create:todos|milk", "alice|read create:todos"]
    assert bob == ["bob|read", "bob|read create:todos|milk", "bob|read create:todos"]
    # The tool ran once per client: never for the refused request.
    assert runs == {"create-todo": 2, "whoami": 4}


MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def tools_call(name: str, **arguments: Any) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


# Bodies that a lenient reader could take for a call of `whoami` (no rule) while the SDK runs
# `create-todo`, or that the SDK and the middleware could read differently.
BYPASSES: List[Tuple[str, Dict[str, str], bytes, int, int]] = [
    (
        "a batch where only the second message needs the scope",
        {},
        json.dumps([tools_call("whoami"), tools_call("create-todo", content="x")]).encode(),
        403,
        0,
    ),
    (
        "a duplicate key (the SDK's JSON reader keeps the last one)",
        {},
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"create-todo",'
        b'"arguments":{"content":"x"}}}',
        400,
        -32700,
    ),
    (
        "lenient JSON: an unquoted key",
        {},
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{name:"create-todo","arguments":{"content":"x"}}}',
        400,
        -32700,
    ),
    (
        "UTF-8 bytes labelled charset=UTF-16",
        {"content-type": "application/json; charset=UTF-16"},
        json.dumps(tools_call("create-todo", content="x")).encode(),
        400,
        -32700,
    ),
    (
        "Mcp-Name says whoami, the body calls create-todo",
        {"mcp-method": "tools/call", "mcp-name": "whoami"},
        json.dumps(tools_call("create-todo", content="x")).encode(),
        400,
        -32020,
    ),
]


@pytest.mark.parametrize("name,headers,body,status,code", BYPASSES, ids=[b[0] for b in BYPASSES])
def test_bypass_attempts_are_refused(
    issuer: Issuer, name: str, headers: Dict[str, str], body: bytes, status: int, code: int
) -> None:
    server, resource, runs = build(issuer, stateless=True)
    try:
        # A token with `read` only: the endpoint rule passes, the tool rule must not.
        auth = {"authorization": f"Bearer {issuer.token(aud=resource, scope='read')}"}
        resp = httpx.post(resource, headers={**MCP_HEADERS, **auth, **headers}, content=body)
        assert resp.status_code == status, resp.text
        if status == 403:
            assert resp.json()["missing_scopes"] == ["create:todos"]
            assert 'error="insufficient_scope", ' in resp.headers["www-authenticate"]
            assert 'scope="read create:todos"' in resp.headers["www-authenticate"]
        else:
            assert resp.json()["error"]["code"] == code and resp.json()["id"] is None
            assert "www-authenticate" not in resp.headers
        assert runs["create-todo"] == 0
        # The well-formed call with the scope goes through to the tool.
        auth = {"authorization": f"Bearer {issuer.token(aud=resource, scope='read create:todos')}"}
        resp = httpx.post(
            resource, headers={**MCP_HEADERS, **auth}, content=json.dumps(tools_call("create-todo", content="x"))
        )
        assert resp.status_code == 200, resp.text
        assert runs["create-todo"] == 1 and "|x" in resp.text
    finally:
        server.stop()
