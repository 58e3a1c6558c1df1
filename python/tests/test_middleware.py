"""The bearer middleware against real servers and a local issuer."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import threading
from typing import Any, Dict, List

import anyio.to_thread
import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Mount, Route
from support import Issuer, Server

from mcpauth import MCPAuth, _core
from mcpauth.config import AuthServerDiscoveryConfig, AuthServerType, ResourceServerConfig, ResourceServerMetadata
from mcpauth.exceptions import (
    BearerAuthExceptionCode,
    MCPAuthBearerAuthException,
    MCPAuthConfigException,
    MCPAuthTokenVerificationException,
)
from mcpauth.types import AuthInfo
from mcpauth.utils import create_verify_jwt, fetch_server_config

RESOURCE = "http://127.0.0.1/api"


def make_auth(issuer: Issuer, lazy: bool = False) -> MCPAuth:
    server: Any = (
        AuthServerDiscoveryConfig(issuer=issuer.url, type=AuthServerType.OIDC)
        if lazy
        else fetch_server_config(issuer.url, AuthServerType.OIDC)
    )
    return MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(
                resource=RESOURCE, authorization_servers=[server], scopes_supported=["read"]
            )
        )
    )


def protected_app(mcp_auth: MCPAuth, **kwargs: Any) -> Starlette:
    kwargs.setdefault("resource", RESOURCE)
    mode = kwargs.pop("mode", "jwt")
    bearer = Middleware(mcp_auth.bearer_auth_middleware(mode, **kwargs))

    async def whoami(request: Request) -> JSONResponse:
        info = mcp_auth.auth_info
        assert info is not None
        return JSONResponse(
            {
                "subject": info.subject,
                "scopes": info.scopes,
                "auth_scopes": request.auth.scopes,
                "user": request.user.display_name,
                "authenticated": request.user.is_authenticated,
            }
        )

    async def boom(request: Request) -> JSONResponse:
        raise MCPAuthBearerAuthException(BearerAuthExceptionCode.MISSING_REQUIRED_SCOPES)

    async def public(request: Request) -> JSONResponse:
        return JSONResponse({"auth_info": mcp_auth.auth_info is not None})

    return Starlette(
        routes=[
            *mcp_auth.resource_metadata_router().routes,
            Route("/public", public),
            Mount("/api", routes=[Route("/me", whoami), Route("/boom", boom)], middleware=[bearer]),
        ]
    )


def test_jwt_mode_end_to_end(fresh_issuer: Issuer) -> None:
    mcp_auth = make_auth(fresh_issuer)
    app = protected_app(mcp_auth, audience=RESOURCE, required_scopes=["read"])
    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
        prm = client.get("/.well-known/oauth-protected-resource/api")
        assert prm.json() == {
            "resource": RESOURCE,
            "scopes_supported": ["read"],
            "authorization_servers": [fresh_issuer.url],
        }
        assert client.options("/.well-known/oauth-protected-resource/api").status_code == 204

        good = fresh_issuer.token(aud=RESOURCE, client_id="c1")
        r = client.get("/api/me", headers={"Authorization": f"Bearer {good}"})
        assert r.status_code == 200, r.text
        assert r.json() == {
            "subject": "user-1",
            "scopes": ["read", "write"],
            "auth_scopes": ["read", "write"],
            "user": "user-1",
            "authenticated": True,
        }
        assert client.get("/public").json() == {"auth_info": False}

        cases: List[Any] = [
            ({}, 401, "missing_auth_header"),
            ({"Authorization": "Basic abc"}, 401, "invalid_auth_header_format"),
            ({"Authorization": "Bearer"}, 401, "missing_bearer_token"),
            ({"Authorization": "Bearer a b"}, 401, "invalid_auth_header_format"),
            ({"Authorization": "Bearer " + "x" * 15000}, 401, "invalid_token"),
            ({"Authorization": f"Bearer {fresh_issuer.token(aud=RESOURCE, lifetime=-3600)}"}, 401, "invalid_token"),
            ({"Authorization": f"Bearer {fresh_issuer.token(aud=RESOURCE, nbf=4102444800)}"}, 401, "invalid_token"),
            (
                {"Authorization": f"Bearer {fresh_issuer.token(aud='https://other.example.com')}"},
                401,
                "invalid_audience",
            ),
            (
                {"Authorization": f"Bearer {fresh_issuer.token(aud=RESOURCE, iss='https://evil.example.com')}"},
                401,
                "invalid_issuer",
            ),
            (
                {"Authorization": f"Bearer {fresh_issuer.token(aud=RESOURCE, scope='write')}"},
                403,
                "missing_required_scopes",
            ),
            ({"Authorization": f"Bearer {good[:-4]}AAAA"}, 401, "invalid_token"),
        ]
        for headers, status, code in cases:
            r = client.get("/api/me", headers=headers)
            assert (r.status_code, r.json()["error"]) == (status, code), (headers, r.text)
            challenge = r.headers["www-authenticate"]
            assert challenge.startswith("Bearer ")
            assert 'resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource/api"' in challenge
        # alg none and HS256 signed with the public key are refused.
        none_token = jwt.encode({"iss": fresh_issuer.url, "sub": "x", "aud": RESOURCE}, None, algorithm="none")
        r = client.get("/api/me", headers={"Authorization": f"Bearer {none_token}"})
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"
        # Two Authorization fields are one malformed value.
        r = client.get("/api/me", headers=[("Authorization", f"Bearer {good}"), ("Authorization", f"Bearer {good}")])
        assert r.status_code == 401 and r.json()["error"] == "invalid_auth_header_format"

        # An mcpauth exception raised by the app itself is not turned into an auth answer.
        r = client.get("/api/boom", headers={"Authorization": f"Bearer {good}"})
        assert r.status_code == 500 and "missing_required_scopes" not in r.text
        assert "www-authenticate" not in r.headers


def test_jwks_fetched_once_for_many_requests(fresh_issuer: Issuer) -> None:
    mcp_auth = make_auth(fresh_issuer, lazy=True)
    assert fresh_issuer.metadata_fetches == 0  # lazy: nothing fetched at construction
    app = protected_app(mcp_auth, audience=RESOURCE)
    tokens = [fresh_issuer.token(sub=f"user-{i}", aud=RESOURCE) for i in range(40)]

    async def hit_all(url: str) -> List[Dict[str, Any]]:
        async with httpx.AsyncClient(base_url=url) as client:
            rs = await asyncio.gather(
                *(client.get("/api/me", headers={"Authorization": f"Bearer {t}"}) for t in tokens)
            )
        return [r.json() for r in rs]

    with Server(app) as srv:
        results = asyncio.run(hit_all(srv.url))
        results += asyncio.run(hit_all(srv.url))
    assert sorted(r["subject"] for r in results[:40]) == sorted(f"user-{i}" for i in range(40))
    assert fresh_issuer.jwks_fetches == 1
    assert fresh_issuer.metadata_fetches == 1
    assert _core.jwks_fetch_count(fresh_issuer.jwks_uri) == 1


def test_streaming_passes_through(issuer: Issuer) -> None:
    mcp_auth = make_auth(issuer)
    bearer = Middleware(mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, audience=RESOURCE))
    first_seen = threading.Event()

    async def events(request: Request) -> StreamingResponse:
        async def gen() -> Any:
            yield b"data: one\n\n"
            # The second event is only produced once the client has read the first: a
            # middleware that buffered the body would never let this test finish.
            await anyio.to_thread.run_sync(first_seen.wait, 10)
            yield b"data: " + (mcp_auth.auth_info.subject or "").encode() + b"\n\n"  # type: ignore[union-attr]

        return StreamingResponse(gen(), media_type="text/event-stream")

    app = Starlette(routes=[Mount("/api", routes=[Route("/events", events)], middleware=[bearer])])
    token = issuer.token(aud=RESOURCE)
    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
        with client.stream("GET", "/api/events", headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            lines = r.iter_lines()
            assert next(lines) == "data: one"
            assert first_seen.is_set() is False
            first_seen.set()
            rest = [line for line in lines if line]
    assert rest == ["data: user-1"]


@pytest.mark.parametrize("kind", ["sync", "async", "create_verify_jwt"])
def test_custom_verifiers(issuer: Issuer, kind: str) -> None:
    mcp_auth = make_auth(issuer)
    loop_threads: List[int] = []

    def sync_verify(token: str) -> AuthInfo:
        loop_threads.append(threading.get_ident())
        if token == "bad":
            raise MCPAuthTokenVerificationException("invalid_token")
        claims = {"when": datetime.datetime.now(), "raw": object()}  # not JSON: must not matter
        return AuthInfo(
            token=token, issuer=issuer.url, subject="custom", scopes=["read"], audience=RESOURCE, claims=claims
        )

    async def async_verify(token: str) -> AuthInfo:
        await asyncio.sleep(0)
        return sync_verify(token)

    verify: Any = {"sync": sync_verify, "async": async_verify, "create_verify_jwt": create_verify_jwt(issuer.jwks_uri)}[
        kind
    ]
    app = protected_app(mcp_auth, mode=verify, audience=RESOURCE, required_scopes=["read"])
    token = issuer.token(aud=RESOURCE, sub="custom", scope="read") if kind == "create_verify_jwt" else "opaque"
    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
        r = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        assert r.json()["subject"] == "custom"
        r = client.get("/api/me", headers={"Authorization": "Bearer bad"})
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    if kind == "sync":
        assert loop_threads and srv._thread is not None and srv._thread.ident not in loop_threads


def test_create_verify_jwt_standalone(issuer: Issuer) -> None:
    verify = create_verify_jwt(issuer.jwks_uri, leeway=10)
    info = verify(issuer.token(aud="x", client_id="c"))
    assert (info.subject, info.client_id, info.audience, info.scopes) == ("user-1", "c", "x", ["read", "write"])
    with pytest.raises(MCPAuthTokenVerificationException) as err:
        verify(issuer.token(lifetime=-3600))
    assert err.value.code == "invalid_token"
    # PyJWT objects are understood when PyJWT is there.
    jwk = jwt.PyJWK(dict(jwt.algorithms.RSAAlgorithm.to_jwk(issuer.key.public_key(), as_dict=True), kid=issuer.kid))
    assert create_verify_jwt(jwk)(issuer.token()).subject == "user-1"
    assert create_verify_jwt(jwt.PyJWKClient(issuer.jwks_uri))(issuer.token()).subject == "user-1"
    assert create_verify_jwt(issuer.key.public_key())(issuer.token()).subject == "user-1"
    # Bytes are an HMAC secret; PEM bytes are refused rather than turned into one.
    hs = jwt.encode(
        {"iss": "i", "sub": "s"}, "a-long-enough-shared-secret-value!", algorithm="HS256", headers={"kid": "k"}
    )
    assert create_verify_jwt(b"a-long-enough-shared-secret-value!")(hs).subject == "s"
    with pytest.raises(MCPAuthTokenVerificationException):
        create_verify_jwt(b"another-secret-of-enough-length!!")(hs)
    # A configuration error, as every key the core refuses (tests/vectors/keys.json has the rest).
    with pytest.raises(MCPAuthConfigException) as refused:
        create_verify_jwt(b"-----BEGIN PUBLIC KEY-----\nMIIB...\n-----END PUBLIC KEY-----\n")
    assert refused.value.code == "invalid_key"


def test_auth_info_is_the_model_model_construct_builds(issuer: Issuer) -> None:
    """The native verifiers build AuthInfo themselves; it must be what pydantic would build."""
    token = issuer.token(aud=["x", "y"], client_id="c", big=2**70, f=-1.5e-7, nested={"a": [1, None, True]})
    info = create_verify_jwt(issuer.jwks_uri)(token)
    fields = {name: getattr(info, name) for name in AuthInfo.model_fields}
    built = AuthInfo.model_construct(**fields)
    assert type(info) is AuthInfo
    assert list(vars(info)) == list(vars(built)) == list(AuthInfo.model_fields)
    assert info == built and info.model_dump() == built.model_dump()
    assert info.model_fields_set == built.model_fields_set
    assert (info.__pydantic_extra__, info.__pydantic_private__) == (None, None)
    assert info.token is token  # the string passed in, not a copy
    assert info.claims["big"] == 2**70 and info.claims["nested"] == {"a": [1, None, True]}
    assert AuthInfo.model_validate(info.model_dump()) == info
    # Instances are independent: changing one leaves the next untouched.
    info.scopes.append("extra")
    info.model_fields_set.discard("token")
    again = create_verify_jwt(issuer.jwks_uri)(token)
    assert again.scopes == ["read", "write"] and "token" in again.model_fields_set
    info.subject = "changed"
    assert again.subject == "user-1"


async def test_asgi_level_reset_logging_and_propagation(issuer: Issuer, caplog: pytest.LogCaptureFixture) -> None:
    mcp_auth = make_auth(issuer)
    cls = mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, audience=RESOURCE)
    seen: List[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(mcp_auth.auth_info)
        if scope["path"] == "/raise":
            raise RuntimeError("from the app")
        await PlainTextResponse("ok")(scope, receive, send)

    mw = cls(inner)
    sent: List[Dict[str, Any]] = []

    async def send(msg: Dict[str, Any]) -> None:
        sent.append(msg)

    async def receive() -> Dict[str, Any]:
        return {"type": "http.request", "body": b""}

    def scope(path: str, header: Any) -> Dict[str, Any]:
        headers = [(b"authorization", header)] if header is not None else []
        return {"type": "http", "method": "GET", "path": path, "headers": headers, "query_string": b""}

    token = issuer.token(aud=RESOURCE)
    await mw(scope("/", f"Bearer {token}".encode()), receive, send)
    assert sent[0]["status"] == 200 and seen[0].subject == "user-1"
    assert mcp_auth.auth_info is None  # reset after the request

    with pytest.raises(RuntimeError, match="from the app"):
        await mw(scope("/raise", f"Bearer {token}".encode()), receive, send)
    assert mcp_auth.auth_info is None

    sent.clear()
    caplog.set_level(logging.INFO, logger="mcpauth")
    expired = issuer.token(aud=RESOURCE, lifetime=-3600)
    await mw(scope("/", f"Bearer {expired}".encode()), receive, send)
    assert sent[0]["status"] == 401
    assert any(r.name == "mcpauth" and "expired" in r.getMessage() for r in caplog.records)
    assert all(expired not in r.getMessage() for r in caplog.records)

    sent.clear()
    await mw(scope("/", b"Bearer " + b"a" * 100_000), receive, send)
    assert sent[0]["status"] == 401
    assert b"invalid_auth_header_format" in sent[1]["body"]

    # Lifespan and other scopes pass through untouched.
    passed: List[str] = []

    async def lifespan_app(scope: Any, receive: Any, send: Any) -> None:
        passed.append(scope["type"])

    await cls(lifespan_app)({"type": "lifespan"}, receive, send)
    assert passed == ["lifespan"]


def test_fastapi(issuer: Issuer) -> None:
    fastapi = pytest.importorskip("fastapi")
    mcp_auth = make_auth(issuer)
    app = fastapi.FastAPI()
    app.add_middleware(mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, audience=RESOURCE))

    @app.get("/me")
    async def me(request: Request) -> Dict[str, Any]:
        return {"sub": mcp_auth.auth_info.subject, "user": request.user.display_name}  # type: ignore[union-attr]

    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
        r = client.get("/me", headers={"Authorization": f"Bearer {issuer.token(aud=RESOURCE)}"})
        assert r.json() == {"sub": "user-1", "user": "user-1"}
        assert client.get("/me").status_code == 401


def test_legacy_mode(issuer: Issuer) -> None:
    mcp_auth = MCPAuth(server=fetch_server_config(issuer.url, AuthServerType.OIDC))
    bearer = Middleware(mcp_auth.bearer_auth_middleware("jwt", required_scopes=["read"]))

    async def me(request: Request) -> JSONResponse:
        return JSONResponse({"sub": mcp_auth.auth_info.subject})  # type: ignore[union-attr]

    with pytest.warns(DeprecationWarning):
        route = mcp_auth.metadata_route()
    app = Starlette(routes=[route, Mount("/api", routes=[Route("/me", me)], middleware=[bearer])])
    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
        meta = client.get("/.well-known/oauth-authorization-server")
        assert meta.json()["issuer"] == issuer.url and meta.headers["access-control-allow-origin"] == "*"
        assert client.get("/api/me", headers={"Authorization": f"Bearer {issuer.token()}"}).json() == {"sub": "user-1"}
        r = client.get("/api/me")
        assert r.status_code == 401 and r.headers["www-authenticate"] == 'Bearer scope="read"'


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_verifies_after_fork(issuer: Issuer) -> None:
    verify = create_verify_jwt(issuer.jwks_uri)
    assert verify(issuer.token()).subject == "user-1"
    token = issuer.token(sub="child")
    pid = os.fork()
    if pid == 0:  # the child: the runtime and caches must be rebuilt, not inherited dead
        code = 1
        try:
            code = 0 if verify(token).subject == "child" else 2
            fetch_server_config(issuer.url, AuthServerType.OIDC)
        except BaseException:
            code = 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_legacy_mode_with_discovery(fresh_issuer: Issuer) -> None:
    mcp_auth = MCPAuth(server=AuthServerDiscoveryConfig(issuer=fresh_issuer.url, type=AuthServerType.OIDC))
    assert fresh_issuer.metadata_fetches == 0
    bearer = Middleware(mcp_auth.bearer_auth_middleware("jwt"))

    async def me(request: Request) -> JSONResponse:
        return JSONResponse({"sub": mcp_auth.auth_info.subject})  # type: ignore[union-attr]

    with pytest.warns(DeprecationWarning):
        route = mcp_auth.metadata_route()
    app = Starlette(routes=[route, Mount("/api", routes=[Route("/me", me)], middleware=[bearer])])
    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
        for _ in range(3):
            assert client.get("/.well-known/oauth-authorization-server").json()["issuer"] == fresh_issuer.url
            assert client.get("/api/me", headers={"Authorization": f"Bearer {fresh_issuer.token()}"}).json() == {
                "sub": "user-1"
            }
    # The router and the verifier share one discovery.
    assert fresh_issuer.metadata_fetches == 1


def test_key_fetch_does_not_block_the_event_loop(issuer: Issuer) -> None:
    """While the JWKS is being fetched, the same server keeps answering other requests."""
    released = threading.Event()
    slow_hits: List[int] = []

    async def slow_jwks(request: Request) -> JSONResponse:
        slow_hits.append(1)
        await anyio.to_thread.run_sync(released.wait, 30)
        return JSONResponse(httpx.get(issuer.jwks_uri).json())

    keys = Server(Starlette(routes=[Route("/jwks", slow_jwks)])).start()
    try:
        metadata = dict(issuer.metadata, jwks_uri=f"{keys.url}/jwks")
        metadata.pop("end_session_endpoint")
        from mcpauth.config import AuthorizationServerMetadata, AuthServerConfig

        server = AuthServerConfig(metadata=AuthorizationServerMetadata(**metadata), type=AuthServerType.OIDC)
        mcp_auth = MCPAuth(
            protected_resources=ResourceServerConfig(
                metadata=ResourceServerMetadata(resource=RESOURCE, authorization_servers=[server])
            )
        )
        bearer = Middleware(mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, audience=RESOURCE))

        async def me(request: Request) -> JSONResponse:
            return JSONResponse({"sub": mcp_auth.auth_info.subject})  # type: ignore[union-attr]

        async def release(request: Request) -> JSONResponse:
            # Only reachable if the loop is free while the protected request waits for keys.
            released.set()
            return JSONResponse({"released": True})

        app = Starlette(
            routes=[Route("/release", release), Mount("/api", routes=[Route("/me", me)], middleware=[bearer])]
        )

        async def main(url: str) -> Any:
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                protected = asyncio.create_task(
                    client.get("/api/me", headers={"Authorization": f"Bearer {issuer.token(aud=RESOURCE)}"})
                )
                while not slow_hits:
                    await asyncio.sleep(0.01)
                assert (await client.get("/release")).json() == {"released": True}
                return await protected

        with Server(app) as srv:
            r = asyncio.run(main(srv.url))
        assert r.status_code == 200 and r.json() == {"sub": "user-1"}
    finally:
        released.set()
        keys.stop()


def test_lazy_config_without_type_and_unreachable_issuer(fresh_issuer: Issuer) -> None:
    """No type: the MCP discovery order. An unreachable issuer is a 500 server_error, not a 401."""
    configs = ResourceServerConfig(
        metadata=ResourceServerMetadata(
            resource=RESOURCE,
            authorization_servers=[
                AuthServerDiscoveryConfig(issuer=fresh_issuer.url),
                {"issuer": "http://127.0.0.1:9/down", "type": "oidc"},  # type: ignore[list-item]
            ],
        )
    )
    mcp_auth = MCPAuth(protected_resources=configs)
    app = protected_app(mcp_auth, audience=RESOURCE, show_error_details=True)
    down = jwt.encode(
        {"iss": "http://127.0.0.1:9/down", "sub": "x", "aud": RESOURCE}, fresh_issuer.key, algorithm="RS256"
    )
    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
        ok = client.get("/api/me", headers={"Authorization": f"Bearer {fresh_issuer.token(aud=RESOURCE)}"})
        assert ok.status_code == 200, ok.text
        r = client.get("/api/me", headers={"Authorization": f"Bearer {down}"})
        assert r.status_code == 500 and "www-authenticate" not in r.headers
        assert r.json()["error"] == "server_error"
        assert r.json()["cause"]["error"] == "fetch_server_config_error"
    assert fresh_issuer.metadata_fetches == 1
