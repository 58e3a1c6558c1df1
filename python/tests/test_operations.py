"""Per-operation rules (tool, resource, prompt and method scopes) through the bearer middleware:
the shared vectors against a real server in the three modes, the body handed on unchanged, and
the body read no further than the inspection limit."""

from __future__ import annotations

import base64
import json
import logging
import socket
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import jwt
import pytest
from conftest import VECTORS
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from support import IntrospectionEndpoint, Server

from mcpauth import MCPAuth, _core
from mcpauth.config import (
    AuthorizationServerMetadata,
    AuthServerConfig,
    AuthServerType,
    IntrospectionConfig,
    ResourceServerConfig,
    ResourceServerMetadata,
)
from mcpauth.exceptions import MCPAuthConfigException
from mcpauth.middleware.create_bearer_auth import BearerAuthConfig, create_bearer_auth
from mcpauth.utils import create_verify_jwt

V = json.loads((VECTORS / "operations.json").read_text())
RESOURCE = V["resource"]
MODES = ["jwt", "introspection", "custom"]


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    server = Server(Starlette(routes=[Route("/jwks", lambda r: Response(json.dumps(V["jwks"])))])).start()
    yield f"{server.url}/jwks"
    server.stop()


@pytest.fixture(scope="module")
def introspection() -> Iterator[IntrospectionEndpoint]:
    endpoint = IntrospectionEndpoint("mcp-server", "s3cret")
    # Each vector token, as an opaque token: the endpoint tells what the JWT would have said.
    for token in V["tokens"].values():
        claims = jwt.decode(token, options={"verify_signature": False})
        endpoint.answers[token] = (200, dict(claims, active=True))
    yield endpoint
    endpoint.stop()


def vector_auth(jwks_url: str) -> MCPAuth:
    metadata = AuthorizationServerMetadata(**dict(V["metadata"], jwks_uri=jwks_url))
    return MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(
                resource=RESOURCE, authorization_servers=[AuthServerConfig(metadata=metadata, type=AuthServerType.OIDC)]
            )
        )
    )


def protect(mcp_auth: MCPAuth, mode: str, jwks_url: str, endpoint: Optional[IntrospectionEndpoint], **kw: Any) -> type:
    """The bearer middleware of `mode` for the vectors' resource (audience = resource)."""
    kw.setdefault("resource", RESOURCE)
    kw.setdefault("audience", RESOURCE)
    if mode == "introspection":
        assert endpoint is not None
        config = IntrospectionConfig(client_id="mcp-server", client_secret="s3cret", endpoint=endpoint.url)
        return mcp_auth.bearer_auth_middleware("introspection", introspection=config, **kw)
    if mode == "custom":
        return mcp_auth.bearer_auth_middleware(create_verify_jwt(jwks_url), **kw)
    return mcp_auth.bearer_auth_middleware("jwt", **kw)


def echo_app(mcp_auth: MCPAuth) -> Starlette:
    """Answers with the very body it received, and who sent it."""

    async def echo(request: Request) -> Response:
        info = mcp_auth.auth_info
        assert info is not None and request.scope["user"].auth_info is info
        return Response(
            await request.body(), headers={"x-subject": info.subject}, media_type="application/octet-stream"
        )

    return Starlette(routes=[Route("/", echo, methods=["GET", "POST", "DELETE"])])


def request_of(case: Dict[str, Any]) -> Tuple[str, Dict[str, str], Optional[bytes]]:
    r = case["request"]
    headers = dict(r["headers"])
    if case["token"] is not None:
        headers["authorization"] = f"Bearer {V['tokens'][case['token']]}"
    if "body" in r:
        body: Optional[bytes] = r["body"].encode()
    elif "body_base64" in r:
        body = base64.b64decode(r["body_base64"])
    else:
        body = None
    return r["method"], headers, body


def check(resp: httpx.Response, expect: Dict[str, Any], sent: Optional[bytes]) -> None:
    assert resp.status_code == expect["status"], resp.text
    if expect["status"] == 200:
        assert resp.content == (sent or b"")  # the app got exactly the bytes the client sent
    elif "jsonrpc_code" in expect:
        body = resp.json()
        assert body["jsonrpc"] == "2.0" and body["id"] is None
        assert body["error"]["code"] == expect["jsonrpc_code"] and body["error"]["message"]
        assert "www-authenticate" not in resp.headers
    else:
        body = resp.json()
        assert body == expect["body"] and list(body) == list(expect["body"])
        assert resp.headers.get("www-authenticate") == expect["www_authenticate"]


@pytest.mark.parametrize("mode", MODES)
def test_operation_vectors(mode: str, jwks_url: str, introspection: IntrospectionEndpoint) -> None:
    mcp_auth = vector_auth(jwks_url)
    routes = []
    for i, case in enumerate(V["cases"]):
        mw = protect(mcp_auth, mode, jwks_url, introspection, required_scopes=case["required_scopes"], **case["rules"])
        routes.append(Mount(f"/c{i}", app=echo_app(mcp_auth), middleware=[Middleware(mw)]))
    failures = []
    with Server(Starlette(routes=routes)) as app, httpx.Client(base_url=app.url) as client:
        for i, case in enumerate(V["cases"]):
            method, headers, body = request_of(case)
            resp = client.request(method, f"/c{i}/", headers=headers, content=body)
            try:
                check(resp, case["expect"], body)
            except AssertionError as e:
                failures.append(f"{case['name']!r}: {e}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("mode", MODES)
def test_operation_config_errors(mode: str, jwks_url: str, introspection: IntrospectionEndpoint) -> None:
    mcp_auth = vector_auth(jwks_url)
    for case in V["config_errors"]:
        with pytest.raises(MCPAuthConfigException) as err:
            protect(mcp_auth, mode, jwks_url, introspection, **case["rules"])
        assert err.value.code == case["code"], case["name"]
        assert str(err.value) == err.value.message and err.value.message, case["name"]


@pytest.mark.parametrize(
    "rules",
    [
        {"tool_scopes": {"add-todo": "create:todos"}},  # a string, not a list of scopes
        {"tool_scopes": ["add-todo"]},
        {"tool_scopes": {"add-todo": [1]}},
        {"tool_scopes": {"add-todo": {"create:todos"}}},  # a set: no order, not JSON
        {"tool_scopes": {"add-todo": ["x"]}, "max_body_bytes": -1},
        {"tool_scopes": {"add-todo": ["x"]}, "max_body_bytes": True},
        {"tool_scopes": {"add-todo": ["x"]}, "max_body_bytes": 1.5},
        {"scope_hierarchy": {"a": "b"}},
        {"resource_scopes": {"notes://{id}{id}": ["x"]}},
    ],
)
def test_invalid_rules_are_configuration_errors(rules: Dict[str, Any], jwks_url: str) -> None:
    mcp_auth = vector_auth(jwks_url)
    with pytest.raises(MCPAuthConfigException) as err:
        mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, audience=RESOURCE, **rules)
    assert err.value.code in ("invalid_operation_rules", "invalid_scope_config")
    # The same through the lower-level constructor.
    with pytest.raises(MCPAuthConfigException):
        create_bearer_auth(lambda t: None, BearerAuthConfig(issuer=V["issuer"], **rules), context_var=None)  # type: ignore[arg-type]


def test_options_keep_their_names(jwks_url: str) -> None:
    mcp_auth = vector_auth(jwks_url)
    # A misspelt option is refused by Python itself, as any unknown keyword is.
    with pytest.raises(TypeError, match="tool_scope"):
        mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, tool_scope={"a": ["b"]})  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="toolScopes"):
        mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, toolScopes={"a": ["b"]})  # type: ignore[call-arg]
    # The new options are keyword-only: the positional order stays upstream's.
    with pytest.raises(TypeError):
        mcp_auth.bearer_auth_middleware("jwt", None, None, False, 60, RESOURCE, False, None, {"a": ["b"]})  # type: ignore[misc]
    # Rules that name nothing leave the route as it was: the body is never read.
    mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, tool_scopes={}, method_scopes={})


def token(name: str) -> Dict[str, str]:
    return {"authorization": f"Bearer {V['tokens'][name]}", "content-type": "application/json"}


def call(tool: str, **extra: Any) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": extra}}


class Counting:
    """Counts the body bytes the server hands to the app behind it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.received = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counted() -> Any:
            message = await receive()
            self.received += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


def limited_server(jwks_url: str, mode: str, limit: int) -> Tuple[Server, Counting]:
    mcp_auth = vector_auth(jwks_url)
    mw = protect(mcp_auth, mode, jwks_url, None, tool_scopes={"add-todo": ["create:todos"]}, max_body_bytes=limit)
    counting = Counting(Starlette(routes=[Mount("/", app=echo_app(mcp_auth), middleware=[Middleware(mw)])]))
    return Server(counting).start(), counting


def raw_exchange(server: Server, head: str, parts: List[bytes]) -> bytes:
    """Sends `head` and `parts` and reads the answer without ever finishing the request body:
    the server can only answer if it stopped reading on its own."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(head.encode("latin-1") + b"".join(parts))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


@pytest.mark.parametrize("mode", ["jwt", "custom"])
def test_body_read_stops_at_the_limit(mode: str, jwks_url: str) -> None:
    server, counting = limited_server(jwks_url, mode, 100)
    auth = token("todos")["authorization"]
    try:
        # Chunked, no Content-Length: two 60-byte chunks pass the limit; the rest never comes.
        head = (
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: {auth}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"3c\r\n" + b"x" * 60 + b"\r\n"
        answer = raw_exchange(server, head, [chunk, chunk])
        assert answer.startswith(b"HTTP/1.1 413 "), answer
        assert counting.received <= 120
        # A Content-Length above the limit is refused before any byte of the body is read.
        before = counting.received
        head = (
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: {auth}\r\nContent-Length: 5000\r\n\r\n"
        )
        answer = raw_exchange(server, head, [])
        assert answer.startswith(b"HTTP/1.1 413 "), answer
        assert counting.received == before
        # No credentials: 401 from the header alone, the body is never read.
        head = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n"
        answer = raw_exchange(server, head, [b"{"])
        assert answer.startswith(b"HTTP/1.1 401 "), answer
        assert counting.received == before
    finally:
        server.stop()


@pytest.mark.parametrize("mode", MODES)
def test_body_reaches_the_app_unchanged(mode: str, jwks_url: str, introspection: IntrospectionEndpoint) -> None:
    mcp_auth = vector_auth(jwks_url)
    mw = protect(mcp_auth, mode, jwks_url, introspection, tool_scopes={"add-todo": ["create:todos"]})
    app = Starlette(routes=[Mount("/", app=echo_app(mcp_auth), middleware=[Middleware(mw)])])
    # Non-ASCII, escapes, odd spacing: whatever bytes were sent are the bytes the app gets.
    body = (
        b'{ "jsonrpc" : "2.0", "id": "\\u00e9t\xc3\xa9", "method":"tools/call",\n'
        b'  "params": {"name":"add-todo","arguments":{"text":"' + "\u00e9\u4e2d".encode() * 5000 + b'"}} }'
    )

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    with Server(app) as server, httpx.Client(base_url=server.url) as client:
        resp = client.post("/", headers=token("todos"), content=body)
        assert resp.status_code == 200 and resp.content == body
        assert resp.headers["x-subject"]
        resp = client.post("/", headers=token("todos"), content=chunks())  # chunked, several messages
        assert resp.status_code == 200 and resp.content == body
        resp = client.post("/", headers=token("read"), content=body)
        assert resp.status_code == 403 and 'scope="create:todos"' in resp.headers["www-authenticate"]


async def run_asgi(app: Any, messages: List[Dict[str, Any]], path: str = "/") -> Tuple[List[Any], int]:
    """Calls the ASGI `app` with a receive that yields `messages` (then repeats the last one);
    returns what the app sent and how many messages it took from receive."""
    taken = 0
    sent: List[Any] = []

    async def receive() -> Any:
        nonlocal taken
        m = messages[min(taken, len(messages) - 1)]
        taken += 1
        return m

    async def send(m: Any) -> None:
        sent.append(m)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in token("todos").items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    return sent, taken


async def test_replay_then_pass_through(jwks_url: str) -> None:
    mcp_auth = vector_auth(jwks_url)
    cls = mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, audience=RESOURCE, tool_scopes={"x": ["y"]})
    body = json.dumps(call("add-todo")).encode()
    got: List[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        got.append(await receive())
        got.append(await receive())  # what follows the body: the client's disconnect
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    messages = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": body[10:], "more_body": False},
        {"type": "http.disconnect"},
    ]
    sent, _ = await run_asgi(cls(inner), messages)
    assert got == [{"type": "http.request", "body": body, "more_body": False}, {"type": "http.disconnect"}]
    assert sent[0]["status"] == 204

    # The client leaves while its body is being read: the app is never called.
    got.clear()
    sent, taken = await run_asgi(cls(inner), [messages[0], {"type": "http.disconnect"}])
    assert got == [] and sent == [] and taken == 2


def test_refusals_are_logged_without_token_or_body(jwks_url: str, caplog: pytest.LogCaptureFixture) -> None:
    mcp_auth = vector_auth(jwks_url)
    mw = protect(mcp_auth, "jwt", jwks_url, None, tool_scopes={"add-todo": ["create:todos"]})
    app = Starlette(routes=[Mount("/", app=echo_app(mcp_auth), middleware=[Middleware(mw)])])
    secret = "hunter2-secret-argument"
    bodies = [
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add-todo","arguments":{"p":"'
        + secret.encode()
        + b'","p":1}}}',
        json.dumps(call("add-todo", p=secret)).encode(),
    ]
    caplog.set_level(logging.INFO, logger="mcpauth")
    with Server(app) as server, httpx.Client(base_url=server.url) as client:
        assert client.post("/", headers=token("read"), content=bodies[0]).status_code == 400
        assert client.post("/", headers=token("read"), content=bodies[1]).status_code == 403
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "mcpauth")
    assert "mcp_parse_error" in logged and "missing_required_scopes" in logged
    assert secret not in logged and V["tokens"]["read"] not in logged


def test_native_configuration_shapes() -> None:
    # The native policy takes the core's one shape, as a dict or as a JSON string.
    assert _core.Policy(operations='{"tool_scopes": {"a": ["b"]}}').has_rules()
    assert _core.Policy(operations={"tool_scopes": {"a": ["b"]}}).has_rules()
    assert not _core.Policy(operations={"scope_hierarchy": {"a": ["b"]}}).has_rules()
    assert not _core.Policy().has_rules() and _core.Policy().body_limit("POST", None) is None
    p = _core.Policy(operations={"tool_scopes": {"a": ["b"]}, "max_body_bytes": 10})
    assert (p.body_limit("POST", None), p.body_limit("POST", "11"), p.body_limit("GET", None)) == (11, 0, None)
    for bad in ['{"tool_scopes": ', {"toolScopes": {"a": ["b"]}}, "[]"]:
        with pytest.raises(_core.CoreError) as err:
            _core.Policy(operations=bad)
        assert err.value.args[:2] == ("config", "invalid_operation_rules")
