"""RFC 9068 access-token typing (`require_at_jwt`) in the jwt mode and create_verify_jwt."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from support import Issuer, Server

from mcpauth import MCPAuth
from mcpauth.config import AuthServerDiscoveryConfig, AuthServerType, ResourceServerConfig, ResourceServerMetadata
from mcpauth.exceptions import MCPAuthTokenVerificationException
from mcpauth.utils import create_verify_jwt

RESOURCE = "http://127.0.0.1/api"
NOT_AT_JWT = "The token is not an RFC 9068 access token (`typ` must be `at+jwt`)."


def resource_auth(issuer: Issuer) -> MCPAuth:
    server = AuthServerDiscoveryConfig(issuer=issuer.url, type=AuthServerType.OIDC)
    return MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(resource=RESOURCE, authorization_servers=[server])
        )
    )


def app_for(mcp_auth: MCPAuth, **routes_kwargs: dict) -> Starlette:
    async def me(request: Request) -> JSONResponse:
        info = mcp_auth.auth_info
        assert info is not None
        return JSONResponse({"subject": info.subject})

    mounts = [
        Mount(
            f"/{name}",
            routes=[Route("/me", me)],
            middleware=[Middleware(mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, **kwargs))],
        )
        for name, kwargs in routes_kwargs.items()
    ]
    return Starlette(routes=mounts)


def test_require_at_jwt_in_jwt_mode(issuer: Issuer) -> None:
    mcp_auth = resource_auth(issuer)
    app = app_for(mcp_auth, strict={"require_at_jwt": True, "show_error_details": True}, lax={})
    at_jwt = issuer.token(aud=RESOURCE, typ="at+jwt")
    media_type = issuer.token(aud=RESOURCE, typ="application/at+JWT")
    id_token_like = issuer.token(aud=RESOURCE)  # typ JWT, as ID tokens of the same issuer are
    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:

        def get(route: str, token: str) -> httpx.Response:
            return client.get(f"/{route}/me", headers={"Authorization": f"Bearer {token}"})

        assert get("strict", at_jwt).json() == {"subject": "user-1"}
        assert get("strict", media_type).status_code == 200
        r = get("strict", id_token_like)
        assert r.status_code == 401
        assert r.json() == {
            "error": "invalid_token",
            "error_description": "The provided token is invalid or malformed.",
            "cause": NOT_AT_JWT,
        }
        assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
        # Off by default: both kinds pass.
        assert get("lax", at_jwt).status_code == 200
        assert get("lax", id_token_like).status_code == 200


def test_require_at_jwt_with_legacy_server(issuer: Issuer) -> None:
    from mcpauth.utils import fetch_server_config

    with pytest.warns(DeprecationWarning):
        mcp_auth = MCPAuth(server=fetch_server_config(issuer.url, AuthServerType.OIDC))
        mcp_auth.metadata_route()
    app = app_for(mcp_auth, strict={"require_at_jwt": True})
    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
        ok = client.get("/strict/me", headers={"Authorization": f"Bearer {issuer.token(typ='at+jwt')}"})
        assert ok.status_code == 200
        bad = client.get("/strict/me", headers={"Authorization": f"Bearer {issuer.token()}"})
        assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"


def test_require_at_jwt_in_create_verify_jwt(issuer: Issuer) -> None:
    strict = create_verify_jwt(issuer.jwks_uri, require_at_jwt=True)
    assert strict(issuer.token(typ="at+jwt")).subject == "user-1"
    with pytest.raises(MCPAuthTokenVerificationException) as err:
        strict(issuer.token())
    assert err.value.code == "invalid_token"
    assert NOT_AT_JWT in str(err.value.cause)
    # Default and positional use unchanged.
    assert create_verify_jwt(issuer.jwks_uri, None, 60)(issuer.token()).subject == "user-1"


def test_require_at_jwt_only_for_jwt_mode(issuer: Issuer) -> None:
    mcp_auth = resource_auth(issuer)
    with pytest.raises(ValueError, match="require_at_jwt"):
        mcp_auth.bearer_auth_middleware(lambda t: None, resource=RESOURCE, require_at_jwt=True)  # type: ignore[arg-type,return-value]
