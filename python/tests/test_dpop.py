"""DPoP (RFC 9449) on the bearer middleware: real proofs signed here (ES256), real uvicorn
servers, a real redis-server for the shared replay store and the official MCP SDK client."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Tuple

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from mcp_compat import http_app, httpx_for_mcp, new_server, text
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from support import Issuer, Server, bind

from mcpauth import MCPAuth
from mcpauth.config import AuthServerType, DpopConfig, ResourceServerConfig, ResourceServerMetadata
from mcpauth.exceptions import MCPAuthConfigException
from mcpauth.types import AuthInfo
from mcpauth.utils import fetch_server_config

NONCE_SECRET = "a DPoP nonce secret of at least 32 bytes, tests only"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DpopKey:
    """A client's P-256 key: its RFC 7638 thumbprint and fresh proofs."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk: Dict[str, Any] = ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        members = {k: self.jwk[k] for k in ("crv", "kty", "x", "y")}
        self.jkt = b64url(hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest())

    def proof(self, method: str, url: str, token: Optional[str] = None, nonce: Optional[str] = None) -> str:
        claims: Dict[str, Any] = {"jti": uuid.uuid4().hex, "htm": method, "htu": url, "iat": int(time.time())}
        if token is not None:
            claims["ath"] = b64url(hashlib.sha256(token.encode()).digest())
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": self.jwk})


def protected(issuer: Issuer, resource: str) -> MCPAuth:
    return MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(
                resource=resource, authorization_servers=[fetch_server_config(issuer.url, AuthServerType.OIDC)]
            )
        )
    )


def whoami_app(mcp_auth: MCPAuth, mw: type) -> Starlette:
    async def whoami(request: Request) -> Response:
        info = mcp_auth.auth_info
        assert info is not None
        return JSONResponse({"sub": info.subject, "jkt": info.jkt}, headers={"x-app": "kept"})

    return Starlette(
        routes=[
            *mcp_auth.resource_metadata_router().routes,
            Mount(
                "/", app=Starlette(routes=[Route("/mcp", whoami, methods=["GET", "POST"])]), middleware=[Middleware(mw)]
            ),
        ]
    )


@contextlib.contextmanager
def dpop_server(issuer: Issuer, dpop: Any, resource: Optional[str] = None) -> Iterator[Tuple[Server, str, MCPAuth]]:
    """A route `/mcp` protected with `dpop`; `resource` defaults to the server's own URL."""
    server = Server()
    resource = resource or f"{server.url}/mcp"
    mcp_auth = protected(issuer, resource)
    mw = mcp_auth.bearer_auth_middleware("jwt", resource=resource, dpop=dpop)
    with server.start(whoami_app(mcp_auth, mw)):
        yield server, resource, mcp_auth


def dpop_headers(key: DpopKey, token: str, method: str, url: str, nonce: Optional[str] = None) -> Dict[str, str]:
    return {"Authorization": f"DPoP {token}", "DPoP": key.proof(method, url, token, nonce)}


def test_dpop_call_and_the_tool_sees_the_key(issuer: Issuer) -> None:
    key = DpopKey()
    with dpop_server(issuer, DpopConfig(mode="allowed")) as (server, resource, _):
        token = issuer.token(aud=resource, cnf={"jkt": key.jkt})
        r = httpx.post(f"{server.url}/mcp", headers=dpop_headers(key, token, "POST", resource))
        assert r.status_code == 200, r.text
        assert r.json() == {"sub": "user-1", "jkt": key.jkt}
        # Bearer tokens still pass on an 'allowed' route, and have no key.
        r = httpx.post(f"{server.url}/mcp", headers={"Authorization": f"Bearer {issuer.token(aud=resource)}"})
        assert r.status_code == 200 and r.json()["jkt"] is None
        # A bound token is never a bearer token (RFC 9449 §7.2).
        r = httpx.post(f"{server.url}/mcp", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"
        # The same proof twice: a replay.
        headers = dpop_headers(key, token, "POST", resource)
        assert httpx.post(f"{server.url}/mcp", headers=headers).status_code == 200
        r = httpx.post(f"{server.url}/mcp", headers=headers)
        assert r.status_code == 401 and r.json()["error"] == "invalid_dpop_proof"
        # Another key's proof for this token: the token is not bound to that key.
        r = httpx.post(f"{server.url}/mcp", headers=dpop_headers(DpopKey(), token, "POST", resource))
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_a_401_has_one_challenge_line_per_scheme(issuer: Issuer) -> None:
    with dpop_server(issuer, {"mode": "allowed", "algorithms": ["ES256", "EdDSA"]}) as (server, resource, _):
        r = httpx.post(f"{server.url}/mcp")
        assert r.status_code == 401
        prm = f"{server.url}/.well-known/oauth-protected-resource/mcp"
        assert r.headers.get_list("www-authenticate") == [
            f'Bearer resource_metadata="{prm}"',
            f'DPoP algs="ES256 EdDSA", resource_metadata="{prm}"',
        ]
        # The metadata of the resource says what the route takes.
        doc = httpx.get(prm).json()
        assert doc["dpop_signing_alg_values_supported"] == ["ES256", "EdDSA"]
        assert doc["dpop_bound_access_tokens_required"] is False
    with dpop_server(issuer, {"mode": "required"}) as (server, resource, _):
        r = httpx.post(f"{server.url}/mcp", headers={"Authorization": f"Bearer {issuer.token(aud=resource)}"})
        assert r.status_code == 401
        # Only the scheme the route takes is offered.
        lines = r.headers.get_list("www-authenticate")
        assert len(lines) == 1 and lines[0].startswith('DPoP algs="ES256 '), lines
        doc = httpx.get(f"{server.url}/.well-known/oauth-protected-resource/mcp").json()
        assert doc["dpop_bound_access_tokens_required"] is True


def test_nonce_round_trip_and_the_nonce_on_the_apps_answer(issuer: Issuer) -> None:
    key = DpopKey()
    with dpop_server(issuer, DpopConfig(mode="required", nonce=True, nonce_secret=NONCE_SECRET)) as (
        server,
        resource,
        _,
    ):
        token = issuer.token(aud=resource, cnf={"jkt": key.jkt})
        url = f"{server.url}/mcp"
        r = httpx.post(url, headers=dpop_headers(key, token, "POST", resource))
        assert r.status_code == 401
        assert r.json()["error"] == "use_dpop_nonce"
        assert 'error="use_dpop_nonce"' in r.headers["www-authenticate"]
        [nonce] = r.headers.get_list("dpop-nonce")
        r = httpx.post(url, headers=dpop_headers(key, token, "POST", resource, nonce))
        assert r.status_code == 200, r.text
        assert r.json()["jkt"] == key.jkt
        # The app's own answer, with the newest nonce added and its own headers kept.
        assert r.headers["x-app"] == "kept"
        assert len(r.headers.get_list("dpop-nonce")) == 1
        r = httpx.post(url, headers=dpop_headers(key, token, "POST", resource, r.headers["dpop-nonce"]))
        assert r.status_code == 200


def test_proofs_name_the_resource_origin_not_the_host(issuer: Issuer) -> None:
    """Behind a proxy the server's own URL is not the client's: `htu` is checked against the
    resource identifier's origin plus the request path."""
    key = DpopKey()
    resource = "https://mcp.example.com/mcp"
    with dpop_server(issuer, {"mode": "required"}, resource=resource) as (server, _, _):
        token = issuer.token(aud=resource, cnf={"jkt": key.jkt})
        r = httpx.post(f"{server.url}/mcp?session=1", headers=dpop_headers(key, token, "POST", resource))
        assert r.status_code == 200, r.text
        r = httpx.post(f"{server.url}/mcp", headers=dpop_headers(key, token, "POST", f"{server.url}/mcp"))
        assert r.status_code == 401 and r.json()["error"] == "invalid_dpop_proof"
        # A proof for another path of the resource's origin.
        r = httpx.post(f"{server.url}/mcp", headers=dpop_headers(key, token, "POST", "https://mcp.example.com/other"))
        assert r.status_code == 401 and r.json()["error"] == "invalid_dpop_proof"


def test_dpop_options_are_checked(issuer: Issuer) -> None:
    resource = "https://mcp.example.com/mcp"
    mcp_auth = protected(issuer, resource)

    def refused(dpop: Any, says: str, mode: Any = "jwt") -> None:
        with pytest.raises(MCPAuthConfigException) as err:
            mcp_auth.bearer_auth_middleware(mode, resource=resource, dpop=dpop)
        assert err.value.code == "invalid_dpop_config"
        assert says in str(err.value.message), err.value.message

    refused({"window": 300}, "unknown DPoP option `window` (known: mode, algorithms, iat_window")
    refused({"replay_timeout_ms": 10}, "unknown DPoP option `replay_timeout_ms`")
    refused({"mode": "sometimes"}, "invalid DPoP settings")
    refused({"replay_fail_open": "yes"}, "invalid DPoP settings")
    refused({"algorithms": ["HS256"]}, "symmetric")
    refused({"replay_store": "http://127.0.0.1:6379"}, "replay")
    refused({"nonce": True}, "`nonce=True` needs a `nonce_secret`")
    refused({"nonce_secret": NONCE_SECRET}, "nonces are off")
    refused({"nonce": True, "nonce_secret": "short"}, "32")
    refused(300, "must be a DpopConfig or a dict")
    refused({"mode": "required"}, "custom verifier", mode=lambda token: None)
    with pytest.raises(ValidationError, match="window"):
        DpopConfig(window=300)  # type: ignore[call-arg]
    # The metadata has one answer per resource: its routes agree on DPoP.
    mcp_auth.bearer_auth_middleware("jwt", resource=resource, dpop={"mode": "required"})
    mcp_auth.bearer_auth_middleware("jwt", resource=resource, dpop=DpopConfig(mode="required"))
    mcp_auth.bearer_auth_middleware("jwt", resource=resource, dpop={"mode": "required", "iat_window": 60})
    refused({"mode": "allowed"}, "already has a route with other DPoP settings")
    refused({"mode": "required", "algorithms": ["ES256"]}, "the same `mode` and `algorithms`")


def test_auth_info_jkt() -> None:
    base: Dict[str, Any] = {"token": "t", "issuer": "https://i", "subject": "s"}
    assert AuthInfo(**base, claims={"cnf": {"jkt": "abc"}}).jkt == "abc"
    assert AuthInfo(**base, claims={}).jkt is None
    assert AuthInfo(**base, claims={"cnf": "abc"}).jkt is None
    assert AuthInfo(**base, claims={"cnf": {"x5t#S256": "abc"}}).jkt is None
    # A property: the model's fields and its dump are upstream's.
    assert "jkt" not in AuthInfo.model_fields
    assert "jkt" not in AuthInfo(**base, claims={"cnf": {"jkt": "abc"}}).model_dump()


class Redis:
    """A redis-server of this test on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (Debian: apt-get install redis-server; `make redis-server`)")
        sock = bind()
        self.port = sock.getsockname()[1]
        sock.close()
        self.dir = tempfile.mkdtemp(prefix="mcpauth-redis-")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 20
        while True:  # until it answers PING (a readiness wait)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(7) == b"+PONG\r\n":
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server never answered")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def test_redis_replay_store_shared_by_replicas(issuer: Issuer) -> None:
    redis = Redis()
    key = DpopKey()
    resource = "https://mcp.example.com/mcp"
    settings = {"replay_store": redis.url, "replay_timeout": 0.5, "replay_key_prefix": f"t-{uuid.uuid4().hex}:"}
    token = issuer.token(aud=resource, cnf={"jkt": key.jkt})
    try:
        with (
            dpop_server(issuer, settings, resource) as (one, _, _),
            dpop_server(issuer, settings, resource) as (
                two,
                _,
                _,
            ),
            dpop_server(issuer, dict(settings, replay_fail_open=True), resource) as (lenient, _, _),
        ):
            headers = dpop_headers(key, token, "POST", resource)
            r = httpx.post(f"{one.url}/mcp", headers=headers)
            assert r.status_code == 200, r.text
            assert r.json()["jkt"] == key.jkt
            # The other replica has seen it too.
            r = httpx.post(f"{two.url}/mcp", headers=headers)
            assert r.status_code == 401 and r.json()["error"] == "invalid_dpop_proof"
            assert httpx.post(f"{two.url}/mcp", headers=dpop_headers(key, token, "POST", resource)).status_code == 200
            redis.stop()
            # Fails closed: a proof that cannot be recorded is not accepted.
            r = httpx.post(f"{one.url}/mcp", headers=dpop_headers(key, token, "POST", resource))
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "temporarily_unavailable"
            assert "www-authenticate" not in r.headers
            # Unless told to fail open.
            r = httpx.post(f"{lenient.url}/mcp", headers=dpop_headers(key, token, "POST", resource))
            assert r.status_code == 200, r.text
    finally:
        redis.stop()


class DpopAuth(httpx_for_mcp.Auth):  # type: ignore[misc,name-defined]
    """A DPoP client for the MCP SDK's HTTP client: a fresh proof per request, and the newest
    `DPoP-Nonce` the server sent (one retry when it asks for one)."""

    def __init__(self, key: DpopKey, token: str) -> None:
        self.key = key
        self.token = token
        self.nonce: Optional[str] = None
        self.answers: List[int] = []

    def _sign(self, request: Any) -> None:
        url = str(request.url).split("?")[0]
        request.headers["Authorization"] = f"DPoP {self.token}"
        request.headers["DPoP"] = self.key.proof(request.method, url, self.token, self.nonce)

    def auth_flow(self, request: Any) -> Any:
        self._sign(request)
        response = yield request
        self.answers.append(response.status_code)
        if "dpop-nonce" in response.headers:
            self.nonce = response.headers["dpop-nonce"]
            if response.status_code == 401:
                self._sign(request)
                response = yield request
                self.answers.append(response.status_code)
                self.nonce = response.headers.get("dpop-nonce", self.nonce)


@pytest.mark.parametrize("stateless", [True, False], ids=["stateless", "stateful"])
def test_mcp_sdk_tool_call_with_a_dpop_proof(issuer: Issuer, stateless: bool) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    server = Server()
    resource = f"{server.url}/"
    mcp_auth = protected(issuer, resource)
    mcp = new_server()

    @mcp.tool()
    def whoami() -> str:
        info = mcp_auth.auth_info
        assert info is not None
        return f"{info.subject}|{info.jkt}"

    inner = http_app(mcp, stateless=stateless)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    mw = mcp_auth.bearer_auth_middleware(
        "jwt", resource=resource, dpop=DpopConfig(mode="required", nonce=True, nonce_secret=NONCE_SECRET)
    )
    app = Starlette(
        routes=[*mcp_auth.resource_metadata_router().routes, Mount("/", app=inner, middleware=[Middleware(mw)])],
        lifespan=lifespan,
    )
    key = DpopKey()
    auth = DpopAuth(key, issuer.token(sub="alice", aud=resource, cnf={"jkt": key.jkt}))

    async def main() -> List[str]:
        client = streamable_http_client(resource, http_client=create_mcp_http_client(auth=auth))
        async with client as streams, ClientSession(streams[0], streams[1]) as s:
            await s.initialize()
            return [text(await s.call_tool("whoami", {})) for _ in range(2)]

    with server.start(app):
        seen = asyncio.run(main())
    assert seen == [f"alice|{key.jkt}"] * 2
    # The first request learnt the nonce from a 401; every later one had it from the last answer.
    assert auth.answers[:2] == [401, 200], auth.answers
    assert 401 not in auth.answers[2:], auth.answers


def test_per_operation_rules_on_a_dpop_route(issuer: Issuer) -> None:
    """The body is read for the core's decision and handed on unchanged; a shortfall is a 403
    in the scheme the request used."""
    key = DpopKey()
    server = Server()
    resource = f"{server.url}/mcp"
    mcp_auth = protected(issuer, resource)
    mw = mcp_auth.bearer_auth_middleware(
        "jwt", resource=resource, dpop={"mode": "allowed"}, tool_scopes={"write": ["write"]}
    )

    async def echo(request: Request) -> Response:
        info = mcp_auth.auth_info
        assert info is not None
        return JSONResponse({"jkt": info.jkt, "body": (await request.json())})

    app = Starlette(
        routes=[Mount("/", app=Starlette(routes=[Route("/mcp", echo, methods=["POST"])]), middleware=[Middleware(mw)])]
    )
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "write", "arguments": {}}}
    with server.start(app):
        for scope, status in (("read", 403), ("read write", 200)):
            token = issuer.token(aud=resource, scope=scope, cnf={"jkt": key.jkt})
            headers = dict(dpop_headers(key, token, "POST", resource), Accept="application/json, text/event-stream")
            r = httpx.post(resource, json=call, headers=headers)
            assert r.status_code == status, r.text
            if status == 403:
                [line] = r.headers.get_list("www-authenticate")
                assert line.startswith("DPoP ") and 'error="insufficient_scope"' in line and 'scope="write"' in line
            else:
                assert r.json() == {"jkt": key.jkt, "body": call}


def test_cached_keys_are_answered_without_waiting(issuer: Issuer) -> None:
    """With the key set cached and the in-process replay store, a DPoP request is decided in the
    synchronous call; only a Redis store (or a fetch) needs the core's runtime."""
    key = DpopKey()
    resource = "https://mcp.example.com/mcp"
    mcp_auth = protected(issuer, resource)
    gate = mcp_auth.bearer_auth_middleware("jwt", resource=resource, dpop={"mode": "required"})._gate  # type: ignore[attr-defined]
    redis_gate = (
        protected(issuer, resource)
        .bearer_auth_middleware("jwt", resource=resource, dpop={"replay_store": "redis://127.0.0.1:1/0"})
        ._gate
    )  # type: ignore[attr-defined]
    token = issuer.token(aud=resource, cnf={"jkt": key.jkt})
    request = ("POST", None, None, None, None, None)

    def now(g: Any) -> Any:
        h = dpop_headers(key, token, "POST", resource)
        return g._authenticator.check_request_now(h["Authorization"], [h["DPoP"]], b"/mcp", request)

    async def fetch() -> Any:
        h = dpop_headers(key, token, "POST", resource)
        from mcpauth import _bridge

        return await _bridge.run(
            gate._authenticator.check_request_spawn, h["Authorization"], [h["DPoP"]], "/mcp", request, None, None
        )

    info, headers = asyncio.run(fetch())  # the key set fetched
    assert info.jkt == key.jkt and headers == []
    info, headers = now(gate)
    assert info.jkt == key.jkt and headers == []
    assert now(redis_gate) is None
