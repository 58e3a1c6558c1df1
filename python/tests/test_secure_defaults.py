"""Secure defaults through the public API: the audience rule per server mode, key material,
durations, logs; and the places where upstream's own tests lean on upstream's behaviour."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any, Dict, List
from unittest.mock import MagicMock, Mock

import httpx
import pytest
from conftest import VECTORS
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from support import Server, check_answer

import mcpauth
from mcpauth import MCPAuth
from mcpauth.config import (
    AuthorizationServerMetadata,
    AuthServerConfig,
    AuthServerType,
    IntrospectionConfig,
    ResourceServerConfig,
    ResourceServerMetadata,
)
from mcpauth.exceptions import (
    MCPAuthAuthServerException,
    MCPAuthConfigException,
    MCPAuthTokenVerificationException,
    TokenVerificationCause,
)
from mcpauth.types import AuthInfo
from mcpauth.utils import create_verify_jwt


def load(name: str) -> Dict[str, Any]:
    return json.loads((VECTORS / name).read_text())


def ok_app() -> Starlette:
    return Starlette(routes=[Route("/", lambda r: JSONResponse({"ok": True}))])


def audience_warnings(caplog: pytest.LogCaptureFixture) -> List[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "mcpauth" and r.levelno == logging.WARNING and "audience" in r.getMessage()
    ]


def test_audience_per_server_mode(caplog: pytest.LogCaptureFixture) -> None:
    v = load("audience.json")
    jwks = Server(Starlette(routes=[Route("/jwks", lambda r: JSONResponse(v["jwks"]))])).start()
    try:
        server = AuthServerConfig(
            metadata=AuthorizationServerMetadata(**dict(v["metadata"], jwks_uri=f"{jwks.url}/jwks")),
            type=AuthServerType.OIDC,
        )

        def build(case: Dict[str, Any]) -> Any:
            if case["mode"] == "resource":
                auth = MCPAuth(
                    protected_resources=ResourceServerConfig(
                        metadata=ResourceServerMetadata(resource=v["resource"], authorization_servers=[server])
                    )
                )
                return auth.bearer_auth_middleware(
                    "jwt",
                    resource=v["resource"],
                    audience=case["audience"],
                    accept_any_audience=case["accept_any_audience"],
                )
            return MCPAuth(server=server).bearer_auth_middleware(
                "jwt", audience=case["audience"], accept_any_audience=case["accept_any_audience"]
            )

        routes = []
        for i, case in enumerate(v["cases"]):
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="mcpauth"):
                mw = build(case)
            assert bool(audience_warnings(caplog)) == case["warning"], case["name"]
            routes.append(Mount(f"/c{i}", app=ok_app(), middleware=[Middleware(mw)]))
        with Server(Starlette(routes=routes)) as app, httpx.Client(base_url=app.url) as client:
            for i, case in enumerate(v["cases"]):
                resp = client.get(f"/c{i}/", headers={"Authorization": "Bearer " + v["tokens"][case["token"]]})
                try:
                    check_answer(resp, case["expect"])
                except AssertionError as e:
                    raise AssertionError(f"case {case['name']!r}: {e}") from e
        for case in v["config_errors"]:
            with pytest.raises(MCPAuthAuthServerException) as err:
                build(case)
            assert err.value.code == case["code"], case["name"]
    finally:
        jwks.stop()


def test_the_opt_out_warning_is_logged_once_per_instance(caplog: pytest.LogCaptureFixture) -> None:
    v = load("audience.json")
    server = AuthServerConfig(metadata=AuthorizationServerMetadata(**v["metadata"]), type=AuthServerType.OIDC)
    auth = MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(resource=v["resource"], authorization_servers=[server])
        )
    )
    with caplog.at_level(logging.WARNING, logger="mcpauth"):
        for _ in range(3):
            auth.bearer_auth_middleware("jwt", resource=v["resource"], accept_any_audience=True)
    assert len(audience_warnings(caplog)) == 1


def _verify(verifier: Any, token: str) -> bool:
    try:
        info = verifier(token)
    except MCPAuthTokenVerificationException as e:
        assert e.code == "invalid_token"
        return False
    assert info.subject == "user-1"
    return True


def test_key_material(caplog: pytest.LogCaptureFixture) -> None:
    v = load("keys.json")
    for case in v["secrets"] + v["jwks"]:
        source = base64.b64decode(case["secret_base64"]) if "secret_base64" in case else case["keys"]
        if case["error"]:
            with pytest.raises(MCPAuthConfigException) as err:
                create_verify_jwt(source, algorithms=case["algorithms"])
            assert err.value.code == case["error"], case["name"]
            continue
        verifier = create_verify_jwt(source, algorithms=case["algorithms"])
        for t in case["tokens"]:
            assert _verify(verifier, t["token"]) == t["valid"], case["name"]

    published = v["published"]
    app = Starlette(
        routes=[
            Route(f"/published/{i}", (lambda doc: lambda r: JSONResponse(doc))(c["jwks"]))
            for i, c in enumerate(published)
        ]
    )
    with Server(app) as keys:
        for i, case in enumerate(published):
            verifier = create_verify_jwt(f"{keys.url}/published/{i}", algorithms=case["algorithms"])
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="mcpauth"):
                for t in case["tokens"]:
                    assert _verify(verifier, t["token"]) == t["valid"], case["name"]
            if case["notice"]:
                notices = [r.getMessage() for r in caplog.records if case["notice"] in r.getMessage()]
                assert len(notices) == 1, case["name"]


def test_out_of_range_durations_are_configuration_errors() -> None:
    v = load("options.json")
    server = AuthServerConfig(
        metadata=AuthorizationServerMetadata(
            issuer="https://issuer.example.com",
            authorization_endpoint="https://issuer.example.com/a",
            token_endpoint="https://issuer.example.com/t",
            introspection_endpoint="https://issuer.example.com/i",
            response_types_supported=["code"],
            code_challenge_methods_supported=["S256"],
        ),
        type=AuthServerType.OAUTH,
    )
    resource = "https://mcp.example.com/mcp"
    auth = MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(resource=resource, authorization_servers=[server])
        )
    )
    for case in v["durations"]:
        if case["seconds"] < 0:
            continue  # IntrospectionConfig's own validation refuses it before the core sees it
        config = IntrospectionConfig(client_id="rs", client_secret="s", cache_ttl=case["seconds"])
        if case["ok"]:
            auth.bearer_auth_middleware("introspection", resource=resource, introspection=config)
            continue
        with pytest.raises(MCPAuthConfigException) as err:
            auth.bearer_auth_middleware("introspection", resource=resource, introspection=config)
        assert err.value.code == v["code"], case


def _jwt_auth(issuer: Any, resource: str) -> MCPAuth:
    server = AuthServerConfig(metadata=AuthorizationServerMetadata(**issuer.metadata), type=AuthServerType.OIDC)
    return MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(resource=resource, authorization_servers=[server])
        )
    )


def test_one_request_logs_a_short_line(issuer: Any, caplog: pytest.LogCaptureFixture) -> None:
    resource = "https://mcp.example.com/logs"
    mw = _jwt_auth(issuer, resource).bearer_auth_middleware("jwt", resource=resource)
    header = base64.urlsafe_b64encode(json.dumps({"alg": "\u001b[2J\nforged " + "A" * 20000}).encode()).decode()
    token = header.rstrip("=") + ".e30.c2ln"
    with Server(Starlette(routes=[Mount("/", app=ok_app(), middleware=[Middleware(mw)])])) as app:
        with caplog.at_level(logging.DEBUG, logger="mcpauth"):
            resp = httpx.get(f"{app.url}/", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "mcpauth"]
    assert lines
    for line in lines:
        assert len(line.encode()) < 512 and "\n" not in line and "\x1b" not in line, line[:200]


# --- upstream's own tests lean on these -----------------------------------------------------------


def test_a_mock_verifier_is_a_custom_verifier(issuer: Any) -> None:
    resource = "https://mcp.example.com/mock"
    auth = _jwt_auth(issuer, resource)
    for cls in (Mock, MagicMock):
        verify = cls(
            return_value=AuthInfo(
                token="t", issuer=issuer.url, subject="u", scopes=["read"], audience=resource, claims={}
            )
        )
        mw = auth.bearer_auth_middleware(verify, resource=resource, required_scopes=["read"])
        with Server(Starlette(routes=[Mount("/", app=ok_app(), middleware=[Middleware(mw)])])) as app:
            resp = httpx.get(f"{app.url}/", headers={"Authorization": "Bearer t"})
        assert resp.status_code == 200, resp.text
        verify.assert_called_once_with("t")


def test_a_verification_failure_carries_an_exception_as_cause(issuer: Any) -> None:
    verify = create_verify_jwt(issuer.jwks_uri)
    head, payload, signature = issuer.token().split(".")
    forged = f"{head}.{payload}.{'A' * len(signature)}"
    with pytest.raises(MCPAuthTokenVerificationException) as err:
        verify(forged)
    cause = err.value.cause
    assert isinstance(cause, TokenVerificationCause) and isinstance(cause, Exception)
    assert str(cause) == "The token signature is invalid."
    assert err.value.to_json(show_cause=True)["cause"] == str(cause)


def test_bearer_auth_exception_code_is_importable_where_upstream_has_it() -> None:
    from mcpauth.exceptions import BearerAuthExceptionCode
    from mcpauth.middleware.create_bearer_auth import BearerAuthExceptionCode as Reexported

    assert Reexported is BearerAuthExceptionCode


def test_clear_caches_makes_the_next_verification_fetch(fresh_issuer: Any) -> None:
    from mcpauth import _core

    verify = create_verify_jwt(fresh_issuer.jwks_uri)
    verify(fresh_issuer.token())
    before = _core.jwks_fetch_count(fresh_issuer.jwks_uri)
    verify(fresh_issuer.token())
    assert _core.jwks_fetch_count(fresh_issuer.jwks_uri) == before
    mcpauth.clear_caches()
    verify(fresh_issuer.token())
    assert _core.jwks_fetch_count(fresh_issuer.jwks_uri) == 1
    assert fresh_issuer.jwks_fetches == before + 1
