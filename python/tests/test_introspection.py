"""The 'introspection' mode (RFC 7662) against a real local introspection endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any, Dict, Iterator, List, Optional

import httpx
import pytest
from conftest import VECTORS
from mcp_compat import TokenHolder, http_app, new_server, session, text
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from support import IntrospectionEndpoint, MetadataHost, Server, bind, check_answer, check_auth_info

from mcpauth import MCPAuth
from mcpauth.config import (
    AuthorizationServerMetadata,
    AuthServerConfig,
    AuthServerDiscoveryConfig,
    AuthServerType,
    IntrospectionConfig,
    ResourceServerConfig,
    ResourceServerMetadata,
)
from mcpauth.exceptions import MCPAuthAuthServerException, MCPAuthConfigException

RESOURCE = "http://127.0.0.1/api"
ISSUER = "https://issuer.example.com"
CLIENT_ID = "mcp-server"
CLIENT_SECRET = "s3cret:with/special+chars é"
FAILED = "The token verification failed due to an error in the verification process."


def metadata(issuer: str = ISSUER, introspection_endpoint: Optional[str] = None) -> AuthorizationServerMetadata:
    return AuthorizationServerMetadata(
        issuer=issuer,
        authorization_endpoint=f"{issuer}/authorize",
        token_endpoint=f"{issuer}/token",
        introspection_endpoint=introspection_endpoint,
        response_types_supported=["code"],
        code_challenge_methods_supported=["S256"],
    )


def resource_auth(*servers: Any, resource: str = RESOURCE) -> MCPAuth:
    return MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(resource=resource, authorization_servers=list(servers))
        )
    )


def whoami_app(mcp_auth: MCPAuth) -> Starlette:
    async def whoami(request: Request) -> JSONResponse:
        info = mcp_auth.auth_info
        assert info is not None and request.scope["user"].auth_info is info
        return JSONResponse(info.model_dump())

    return Starlette(routes=[Route("/", whoami)])


def active(sub: str = "user-1", lifetime: int = 3600, **fields: Any) -> Dict[str, Any]:
    answer = {"active": True, "iss": ISSUER, "sub": sub, "scope": "read write", "aud": RESOURCE}
    answer["exp"] = int(time.time()) + lifetime
    answer.update(fields)
    return answer


@pytest.fixture
def endpoint() -> Iterator[IntrospectionEndpoint]:
    e = IntrospectionEndpoint(CLIENT_ID, CLIENT_SECRET)
    yield e
    e.stop()


def test_vectors(endpoint: IntrospectionEndpoint) -> None:
    v = json.loads((VECTORS / "introspection.json").read_text())
    endpoint.client_id, endpoint.client_secret = v["client_id"], v["client_secret"]
    md = dict(v["metadata"], introspection_endpoint=endpoint.url)
    server = AuthServerConfig(metadata=AuthorizationServerMetadata(**md), type=AuthServerType.OAUTH)
    mcp_auth = resource_auth(server, resource=v["resource"])
    routes: List[Any] = []
    for i, case in enumerate(v["cases"]):
        answer = case["answer"]
        endpoint.answers[case["token"]] = (answer["status"], answer["json"] if "json" in answer else answer["text"])
        mw = mcp_auth.bearer_auth_middleware(
            "introspection",
            resource=v["resource"],
            audience=case["audience"],
            accept_any_audience=case.get("accept_any_audience", False),
            required_scopes=case["required_scopes"],
            show_error_details=case["show_error_details"],
            leeway=case["leeway"],
            introspection=IntrospectionConfig(
                client_id=v["client_id"],
                client_secret=case.get("client_secret", v["client_secret"]),
                auth_method=case["auth_method"],
            ),
        )
        routes.append(Mount(f"/c{i}", app=whoami_app(mcp_auth), middleware=[Middleware(mw)]))
    with Server(Starlette(routes=routes)) as app, httpx.Client(base_url=app.url) as client:
        for i, case in enumerate(v["cases"]):
            headers = {} if case["header"] is None else {"Authorization": case["header"]}
            resp = client.get(f"/c{i}/", headers=headers)
            expect = case["expect"]
            try:
                check_answer(resp, expect)
                if expect["status"] == 200:
                    got = resp.json()
                    check_auth_info(got, expect["auth_info"])
                    assert got["claims"] == case["answer"]["json"]  # the whole response
                if case["header"] is not None and "client_secret" not in case:
                    # The endpoint saw the method the case configured, and the right credentials.
                    assert endpoint.requests[-1] == {"token": case["token"], "auth_method": case["auth_method"]}
            except AssertionError as e:
                raise AssertionError(f"case {case['name']!r}: {e}") from e
    assert len(endpoint.requests) == sum(1 for c in v["cases"] if c["header"] is not None)


def protect(mcp_auth: MCPAuth, resource: Optional[str] = RESOURCE, **kwargs: Any) -> Starlette:
    kwargs.setdefault("show_error_details", True)
    mw = mcp_auth.bearer_auth_middleware("introspection", resource=resource, **kwargs)
    return Starlette(routes=[Mount("/api", app=whoami_app(mcp_auth), middleware=[Middleware(mw)])])


def call(client: httpx.Client, token: str) -> httpx.Response:
    return client.get("/api/", headers={"Authorization": f"Bearer {token}"})


def config(**fields: Any) -> Dict[str, Any]:
    return {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **fields}


def test_endpoint_from_discovered_metadata(endpoint: IntrospectionEndpoint) -> None:
    host = MetadataHost()
    try:
        host.documents["/.well-known/oauth-authorization-server"] = host.metadata(
            host.url, introspection_endpoint=endpoint.url
        )
        # Lazily discovered, no type: the first request fetches the metadata, then introspects.
        mcp_auth = resource_auth(AuthServerDiscoveryConfig(issuer=host.url))
        app = protect(mcp_auth, audience=RESOURCE, introspection=config(auth_method="client_secret_post"))
        endpoint.answers["t1"] = (200, active(iss=host.url, client_id="app-1"))
        endpoint.answers["t2"] = (200, active(iss=None, sub="user-2"))  # no iss: the one trusted server
        with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
            r = call(client, "t1")
            assert r.status_code == 200, r.text
            assert r.json()["issuer"] == host.url and r.json()["client_id"] == "app-1"
            r = call(client, "t2")
            assert r.status_code == 200, r.text
            assert r.json()["issuer"] == host.url and r.json()["subject"] == "user-2"
        assert [r["auth_method"] for r in endpoint.requests] == ["client_secret_post"] * 2
        assert host.requested == ["/.well-known/oauth-authorization-server"]
    finally:
        host.stop()


def test_metadata_without_introspection_endpoint(endpoint: IntrospectionEndpoint) -> None:
    mcp_auth = resource_auth(AuthServerConfig(metadata=metadata(), type=AuthServerType.OIDC))
    with Server(protect(mcp_auth, introspection=config())) as srv, httpx.Client(base_url=srv.url) as client:
        r = call(client, "t1")
        assert r.status_code == 500 and "www-authenticate" not in r.headers
        assert r.json()["error"] == "server_error"
        assert r.json()["cause"]["error"] == "missing_introspection_endpoint"
    # An explicit endpoint needs no metadata field.
    mcp_auth = resource_auth(AuthServerConfig(metadata=metadata(), type=AuthServerType.OIDC))
    endpoint.answers["t1"] = (200, active())
    app = protect(mcp_auth, introspection=config(endpoint=endpoint.url))
    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
        assert call(client, "t1").status_code == 200
    assert endpoint.requests == [{"token": "t1", "auth_method": "client_secret_basic"}]


def test_cache_is_opt_in_and_never_outlives_exp(endpoint: IntrospectionEndpoint) -> None:
    server = AuthServerConfig(metadata=metadata(introspection_endpoint=endpoint.url), type=AuthServerType.OAUTH)
    mcp_auth = resource_auth(server)
    uncached = protect(mcp_auth, introspection=config())
    cached = protect(mcp_auth, leeway=0, introspection=IntrospectionConfig(**config(cache_ttl=300)))
    endpoint.answers["long"] = (200, active())
    with Server(uncached) as srv, httpx.Client(base_url=srv.url) as client:
        assert [call(client, "long").status_code for _ in range(3)] == [200] * 3
    assert endpoint.asked("long") == 3  # no cache by default: revocation takes effect at once

    exp = int(time.time()) + 2
    endpoint.answers["short"] = (200, dict(active(), exp=exp))
    endpoint.answers["revoked"] = (200, {"active": False})
    with Server(cached) as srv, httpx.Client(base_url=srv.url) as client:
        assert [call(client, "long").status_code for _ in range(3)] == [200] * 3
        assert endpoint.asked("long") == 4  # one more, then answered from the cache
        assert call(client, "short").status_code == 200
        assert call(client, "short").status_code == 200
        assert endpoint.asked("short") == 1
        # Negative answers are never kept.
        assert [call(client, "revoked").status_code for _ in range(2)] == [401, 401]
        assert endpoint.asked("revoked") == 2
        while time.time() <= exp + 0.2:
            time.sleep(0.1)
        # Past `exp` the entry is gone although the TTL is not: asked again, and refused.
        r = call(client, "short")
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"
        assert endpoint.asked("short") == 2


def test_endpoint_faults_fail_closed(endpoint: IntrospectionEndpoint) -> None:
    down = bind()
    down_url = f"http://127.0.0.1:{down.getsockname()[1]}/introspect"
    down.close()  # nothing listens there now
    server = AuthServerConfig(metadata=metadata(introspection_endpoint=endpoint.url), type=AuthServerType.OAUTH)
    mcp_auth = resource_auth(server)
    app = Starlette(
        routes=[
            Mount("/up", app=protect(mcp_auth, introspection=config(timeout=0.5))),
            Mount("/down", app=protect(mcp_auth, introspection=config(endpoint=down_url))),
        ]
    )
    endpoint.answers["t"] = (200, active())

    def expect_failure(r: httpx.Response, url: str) -> None:
        assert r.status_code == 401, r.text
        body = r.json()
        assert (body["error"], body["error_description"]) == ("token_verification_failed", FAILED)
        assert body["cause"].startswith(f"Failed to introspect the token at {url}: "), body
        assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')

    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
        assert client.get("/up/api/", headers={"Authorization": "Bearer t"}).status_code == 200
        expect_failure(client.get("/down/api/", headers={"Authorization": "Bearer t"}), down_url)
        endpoint.status = 500
        expect_failure(client.get("/up/api/", headers={"Authorization": "Bearer t"}), endpoint.url)
        endpoint.status = None
        endpoint.delay = 3  # longer than the 0.5 s timeout
        expect_failure(client.get("/up/api/", headers={"Authorization": "Bearer t"}), endpoint.url)
        endpoint.delay = 0
        assert client.get("/up/api/", headers={"Authorization": "Bearer t"}).status_code == 200


def test_legacy_server_mode(endpoint: IntrospectionEndpoint) -> None:
    server = AuthServerConfig(metadata=metadata(introspection_endpoint=endpoint.url), type=AuthServerType.OAUTH)
    mcp_auth = MCPAuth(server=server)
    endpoint.answers["t"] = (200, active(scope="read"))
    app = protect(mcp_auth, resource=None, required_scopes=["read"], introspection=config())
    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
        r = call(client, "t")
        assert r.status_code == 200 and r.json()["scopes"] == ["read"]
        r = call(client, "unknown")
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"
        assert "resource_metadata" not in r.headers["www-authenticate"]


def test_configuration_errors_at_construction() -> None:
    mcp_auth = resource_auth(AuthServerConfig(metadata=metadata(), type=AuthServerType.OAUTH))

    def build(**kwargs: Any) -> Any:
        return mcp_auth.bearer_auth_middleware("introspection", resource=RESOURCE, **kwargs)

    with pytest.raises(
        ValueError, match=r"needs `introspection=IntrospectionConfig\(client_id=..., client_secret=...\)`"
    ):
        build()
    for bad, field in [
        ({"client_secret": "s"}, "client_id"),
        ({"client_id": "c"}, "client_secret"),
        ({"client_id": "", "client_secret": "s"}, "client_id"),
        (config(auth_method="private_key_jwt"), "auth_method"),
        (config(timeout="soon"), "timeout"),
        (config(timeout=0), "timeout"),
        (config(cache_ttl=-1), "cache_ttl"),
        (config(client_secret=123), "client_secret"),
        (config(clientSecret="typo"), "clientSecret"),
    ]:
        with pytest.raises(ValidationError) as err:
            build(introspection=bad)
        assert err.value.errors()[0]["loc"] == (field,), bad
        with pytest.raises(ValidationError):
            IntrospectionConfig(**bad)
    with pytest.raises(MCPAuthConfigException) as scheme:
        build(introspection=config(endpoint="ftp://issuer.example.com/introspect"))
    assert scheme.value.code == "invalid_introspection_config"
    with pytest.raises(ValueError, match="'introspection' mode only"):
        mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, introspection=config())
    with pytest.raises(ValueError, match="'jwt' mode only"):
        build(introspection=config(), require_at_jwt=True)
    # The secret stays out of reprs and logs.
    assert CLIENT_SECRET not in repr(IntrospectionConfig(**config()))

    # Without an endpoint, a token may only be sent to the one trusted server.
    two = resource_auth(
        AuthServerConfig(metadata=metadata(), type=AuthServerType.OAUTH),
        AuthServerConfig(metadata=metadata("https://second.example.com"), type=AuthServerType.OAUTH),
    )
    with pytest.raises(MCPAuthConfigException) as ambiguous:
        two.bearer_auth_middleware("introspection", resource=RESOURCE, introspection=config())
    assert ambiguous.value.code == "invalid_introspection_config"
    assert "explicit endpoint" in ambiguous.value.message
    two.bearer_auth_middleware(
        "introspection", resource=RESOURCE, introspection=config(endpoint="https://issuer.example.com/introspect")
    )
    # As in the jwt mode, resource mode needs the resource.
    with pytest.raises(MCPAuthAuthServerException):
        mcp_auth.bearer_auth_middleware("introspection", introspection=config())


def test_mcp_sdk_sees_the_introspected_caller(endpoint: IntrospectionEndpoint) -> None:
    sock_server = Server()
    resource = f"{sock_server.url}/"
    server = AuthServerConfig(metadata=metadata(introspection_endpoint=endpoint.url), type=AuthServerType.OAUTH)
    mcp_auth = resource_auth(server, resource=resource)
    mcp = new_server()

    @mcp.tool()
    def whoami() -> str:
        from mcp.server.auth.middleware.auth_context import get_access_token

        info = mcp_auth.auth_info
        token = get_access_token()
        assert info is not None and token is not None
        return f"{info.subject}|{info.claims['roles']}|{token.client_id}|{' '.join(token.scopes)}|{token.expires_at}"

    bearer = Middleware(
        mcp_auth.bearer_auth_middleware(
            "introspection",
            resource=resource,
            audience=resource,
            required_scopes=["read"],
            introspection=IntrospectionConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, cache_ttl=60),
        )
    )
    inner = http_app(mcp, stateless=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        async with mcp.session_manager.run():
            yield

    app = Starlette(routes=[Mount("/", app=inner, middleware=[bearer])], lifespan=lifespan)
    answer = active(sub="alice", aud=resource, scope="read write", client_id="app-1", roles=["admin"])
    endpoint.answers["opaque-alice"] = (200, answer)

    async def main() -> str:
        async with session(resource, TokenHolder("opaque-alice"), "http") as s:
            return text(await s.call_tool("whoami", {}))

    with sock_server.start(app):
        assert asyncio.run(main()) == f"alice|['admin']|app-1|read write|{answer['exp']}"
        r = httpx.post(resource, json={}, headers={"Authorization": "Bearer unknown"})
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    assert endpoint.asked("opaque-alice") == 1  # cached across the session's requests
