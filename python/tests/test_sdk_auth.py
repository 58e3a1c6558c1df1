"""The MCP SDK's own auth (FastMCP on mcp 1.x, MCPServer on mcp 2.x) backed by mcpauth:
`token_verifier=mcp_auth.token_verifier(...)` and `auth=mcp_auth.auth_settings(...)`. The SDK
serves its metadata route and runs its own middleware; the real MCP client calls a tool that
sees the caller; refusals are the SDK's 401 and 403."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict, List, Optional, Tuple

import httpx
import jwt
import pytest
from mcp_compat import MCP_MAJOR, TokenHolder, http_app, new_server, session, text
from support import Issuer, Server, bind

from mcpauth import MCPAuth
from mcpauth.config import (
    AuthorizationServerMetadata,
    AuthServerConfig,
    AuthServerType,
    ResourceServerConfig,
    ResourceServerMetadata,
)
from mcpauth.exceptions import MCPAuthAuthServerException
from mcpauth.types import AuthInfo
from mcpauth.utils import fetch_server_config

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
                resource=resource, authorization_servers=list(servers), scopes_supported=["read", "write"]
            )
        )
    )


def build(
    issuer: Issuer, stateless: bool = True, audience: bool = True, **settings: Any
) -> Tuple[Server, str, MCPAuth]:
    server = Server()
    resource = f"{server.url}/mcp"
    mcp_auth = protect(resource, fetch_server_config(issuer.url, AuthServerType.OIDC))
    from mcp.server.auth.middleware.auth_context import get_access_token

    mcp = new_server(
        "notes",
        # Without our audience check (`accept_any_audience`), only the SDK's resource check applies.
        token_verifier=(
            mcp_auth.token_verifier(resource=resource, audience=resource)
            if audience
            else mcp_auth.token_verifier(resource=resource, accept_any_audience=True)
        ),
        auth=mcp_auth.auth_settings(resource, required_scopes=["read"], **settings),
    )

    @mcp.tool()
    def whoami() -> str:
        token = get_access_token()  # the SDK's view of the caller
        info = mcp_auth.auth_info  # and ours, from the same token
        assert token is not None and info is not None
        return json.dumps(
            {
                "subject": token.subject,
                "client_id": token.client_id,
                "scopes": token.scopes,
                "expires_at": token.expires_at,
                "resource": token.resource,
                "iss": (token.claims or {}).get("iss"),
                "auth_info": [info.subject, info.issuer, info.audience],
            }
        )

    return server.start(http_app(mcp, stateless=stateless, path="/mcp")), resource, mcp_auth


def call_whoami(url: str, token: str) -> Dict[str, Any]:
    async def main() -> Dict[str, Any]:
        async with session(url, TokenHolder(token), "http") as s:
            return json.loads(text(await s.call_tool("whoami", {})))  # type: ignore[no-any-return]

    return asyncio.run(main())


def post(url: str, token: Optional[str]) -> httpx.Response:
    auth = {"authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(url, headers={**MCP_HEADERS, **auth}, json=INITIALIZE)


@pytest.mark.parametrize("stateless", [True, False], ids=["stateless", "stateful"])
def test_the_tool_sees_the_caller(issuer: Issuer, stateless: bool) -> None:
    server, resource, _ = build(issuer, stateless)
    token = issuer.token(sub="alice", aud=resource, scope="read write", client_id="notes-app")
    try:
        seen = call_whoami(resource, token)
    finally:
        server.stop()
    assert seen == {
        "subject": "alice",
        "client_id": "notes-app",
        "scopes": ["read", "write"],
        "expires_at": jwt.decode(token, options={"verify_signature": False})["exp"],
        "resource": resource,
        "iss": issuer.url,
        "auth_info": ["alice", issuer.url, resource],
    }


def test_the_sdk_serves_its_metadata(issuer: Issuer) -> None:
    server, resource, _ = build(issuer)
    try:
        resp = httpx.get(f"{server.url}/.well-known/oauth-protected-resource/mcp")
    finally:
        server.stop()
    assert resp.status_code == 200
    body = resp.json()
    assert body["resource"] == resource
    # The SDK lists one authorization server; mcp 1.x writes the issuer with a trailing slash.
    assert body["authorization_servers"] == [issuer.url + ("/" if MCP_MAJOR == 1 else "")]
    assert body["scopes_supported"] == ["read"]  # the SDK advertises its required scopes


def test_refusals_are_the_sdk_answers(issuer: Issuer, fresh_issuer: Issuer) -> None:
    server, resource, _ = build(issuer)
    metadata = f"{server.url}/.well-known/oauth-protected-resource/mcp"
    unauthorized = (
        f'Bearer error="invalid_token", error_description="Authentication required", resource_metadata="{metadata}"'
    )
    refused = {
        "no credentials": None,
        "not a JWT": "not-a-jwt",
        "expired": issuer.token(aud=resource, lifetime=-3600),
        "for another resource": issuer.token(aud="https://other.example.com/mcp"),
        "from an untrusted issuer": fresh_issuer.token(aud=resource),
        "signed by another key": fresh_issuer.token(aud=resource, iss=issuer.url),
    }
    try:
        answers = {name: post(resource, token) for name, token in refused.items()}
        short = post(resource, issuer.token(aud=resource, scope="write"))
        ok = post(resource, issuer.token(aud=resource, scope="read"))
    finally:
        server.stop()
    for name, resp in answers.items():
        assert (resp.status_code, resp.headers.get("www-authenticate")) == (401, unauthorized), name
    assert short.status_code == 403
    assert short.headers["www-authenticate"] == (
        f'Bearer error="insufficient_scope", error_description="Required scope: read", resource_metadata="{metadata}"'
    )
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("validate", [True, False], ids=["validate_token_resource", "no-validation"])
def test_the_sdk_compares_the_resource_we_report(issuer: Issuer, validate: bool) -> None:
    """Without our audience check, `AccessToken.resource` is what the SDK checks."""
    server, resource, _ = build(issuer, audience=False, validate_token_resource=validate)
    other = "https://other.example.com/mcp"
    try:
        statuses = {
            name: post(resource, issuer.token(aud=aud, scope="read")).status_code
            for name, aud in {
                "ours": resource,
                "another": other,
                "a list with ours": [other, resource],
                "a list without ours": [other, "https://third.example.com"],
                "none": None,
            }.items()
        }
    finally:
        server.stop()
    if validate:
        assert statuses == {
            "ours": 200,
            "another": 401,
            "a list with ours": 200,
            "a list without ours": 401,
            "none": 401,
        }
    else:
        assert set(statuses.values()) == {200}


def test_a_token_without_exp(issuer: Issuer) -> None:
    """The core accepts a JWT without `exp`; the AccessToken then has no `expires_at`, and the
    SDK, which only expires tokens whose `expires_at` is set, lets it through."""
    server, resource, mcp_auth = build(issuer)
    token = issuer.token(sub="bot", aud=resource, scope="read", exp=None)
    assert "exp" not in jwt.decode(token, options={"verify_signature": False})
    try:
        direct = asyncio.run(mcp_auth.token_verifier(resource=resource, audience=resource).verify_token(token))
        seen = call_whoami(resource, token)
    finally:
        server.stop()
    assert direct is not None and direct.expires_at is None and direct.subject == "bot"
    assert seen["subject"] == "bot" and seen["expires_at"] is None


def test_unverifiable_tokens_are_none_and_logged_as_errors(issuer: Issuer, caplog: pytest.LogCaptureFixture) -> None:
    dead = bind()  # bound, never listening: the key server refuses connections
    resource = "https://notes.example.com/mcp"
    metadata = {**issuer.metadata, "jwks_uri": f"http://127.0.0.1:{dead.getsockname()[1]}/jwks"}
    mcp_auth = protect(
        resource, AuthServerConfig(metadata=AuthorizationServerMetadata(**metadata), type=AuthServerType.OIDC)
    )
    verifier = mcp_auth.token_verifier(resource=resource, audience=resource)
    try:
        with caplog.at_level(logging.INFO, logger="mcpauth"):
            unverifiable = asyncio.run(verifier.verify_token(issuer.token(aud=resource)))
            errors = [r for r in caplog.records if r.levelno == logging.ERROR]
            caplog.clear()
            invalid = asyncio.run(verifier.verify_token("not-a-jwt"))
            warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    finally:
        dead.close()
    assert unverifiable is None and invalid is None
    assert len(errors) == 1 and "token_verification_failed" in errors[0].getMessage(), errors
    assert len(warnings) == 1 and "invalid_token" in warnings[0].getMessage(), warnings


def test_the_verifier_keeps_the_policy_of_custom_verifiers(issuer: Issuer) -> None:
    resource = "https://notes.example.com/mcp"
    mcp_auth = protect(resource, fetch_server_config(issuer.url, AuthServerType.OIDC))
    claimed: List[str] = []

    issuers = {"alice": issuer.url, "mallory": "https://evil.example.com"}

    async def verify(token: str) -> AuthInfo:
        claimed.append(token)
        return AuthInfo(
            token=token, issuer=issuers[token], subject=token, audience=resource, scopes=["read"], claims={"sub": token}
        )

    verifier = mcp_auth.token_verifier(verify, resource=resource, audience=resource)
    trusted = asyncio.run(verifier.verify_token("alice"))
    untrusted = asyncio.run(verifier.verify_token("mallory"))
    assert claimed == ["alice", "mallory"]
    assert trusted is not None and trusted.subject == "alice" and trusted.scopes == ["read"]
    assert trusted.resource == resource and trusted.claims == {"sub": "alice", "iss": issuer.url}
    assert untrusted is None  # the issuer is checked for custom verifiers too


def test_settings_for_resources_with_several_issuers(issuer: Issuer, fresh_issuer: Issuer) -> None:
    resource = "https://notes.example.com/mcp"
    mcp_auth = protect(
        resource,
        fetch_server_config(issuer.url, AuthServerType.OIDC),
        fetch_server_config(fresh_issuer.url, AuthServerType.OIDC),
    )
    with pytest.raises(MCPAuthAuthServerException) as e:
        mcp_auth.auth_settings(resource)
    assert "names one: pass `issuer=`" in str(e.value.cause)
    settings = mcp_auth.auth_settings(resource, issuer=fresh_issuer.url, required_scopes=["read"])
    assert str(settings.issuer_url).rstrip("/") == fresh_issuer.url
    assert str(settings.resource_server_url) == resource
    assert settings.required_scopes == ["read"] and settings.validate_token_resource is True
    with pytest.raises(MCPAuthAuthServerException):
        mcp_auth.auth_settings(resource, issuer="https://stranger.example.com")
    with pytest.raises(MCPAuthAuthServerException):
        mcp_auth.auth_settings()  # resource mode needs the resource
    with pytest.raises(MCPAuthAuthServerException):
        mcp_auth.token_verifier()
    # Tokens of both servers verify: only the SDK's metadata is limited to one.
    verifier = mcp_auth.token_verifier(resource=resource, audience=resource)
    for i in (issuer, fresh_issuer):
        token = asyncio.run(verifier.verify_token(i.token(aud=resource)))
        assert token is not None and (token.claims or {})["iss"] == i.url


def test_opaque_tokens_through_introspection(caplog: pytest.LogCaptureFixture) -> None:
    import time

    from support import IntrospectionEndpoint

    from mcpauth.config import IntrospectionConfig

    resource, issuer = "https://notes.example.com/mcp", "https://issuer.example.com"
    endpoint = IntrospectionEndpoint("mcp-server", "s3cret")
    exp = int(time.time()) + 600
    endpoint.answers = {
        "opaque-1": (200, {"active": True, "sub": "carol", "scope": "read", "aud": resource, "exp": exp}),
        "opaque-2": (200, {"active": False}),
    }
    server = AuthServerConfig(
        type=AuthServerType.OAUTH,
        metadata=AuthorizationServerMetadata(
            issuer=issuer,
            authorization_endpoint=f"{issuer}/authorize",
            token_endpoint=f"{issuer}/token",
            introspection_endpoint=endpoint.url,
            response_types_supported=["code"],
            code_challenge_methods_supported=["S256"],
        ),
    )
    verifier = protect(resource, server).token_verifier(
        "introspection",
        resource=resource,
        audience=resource,
        introspection=IntrospectionConfig(client_id="mcp-server", client_secret="s3cret"),
    )
    try:
        token = asyncio.run(verifier.verify_token("opaque-1"))
        inactive = asyncio.run(verifier.verify_token("opaque-2"))
        endpoint.status = 503
        with caplog.at_level(logging.ERROR, logger="mcpauth"):
            unavailable = asyncio.run(verifier.verify_token("opaque-3"))
    finally:
        endpoint.stop()
    assert token is not None
    assert (token.subject, token.scopes, token.expires_at, token.resource) == ("carol", ["read"], exp, resource)
    assert (token.claims or {})["iss"] == issuer  # the answer had none: the issuer asked
    assert inactive is None and unavailable is None
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "Failed to introspect the token" in errors[0], errors
