"""Ory Hydra 2.3 as the MCP server's authorization server, checked through both packages.

Hydra issues opaque access tokens unless the client (or the server) says `jwt`; its JWT access
tokens carry `scp` as a list, `client_id` and `ext` (the consent session's claims). The resource
reaches `aud` only when the client asks for it with `audience` (Hydra has no RFC 8707
`resource`) and the client is allowed that audience. Its introspection endpoint is on the admin
API, not in its metadata, and answers refresh tokens as active: `token_use` tells them apart.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import httpx
import pytest
from mcpauth.config import AuthServerType
from mcpauth.utils import fetch_server_config

from conftest import LANGUAGES, MCP_ROUTE, NODE_CHECKER, Verifiers, node_discovery, run, step_up
from dpop_key import DpopKey
from harness import Cast
from servers import FOREIGN_RESOURCE, RESOURCE, Hydra, claims_of, header_of


def routes(hydra: Hydra) -> dict:
    return {
        "/jwt": {"mode": "jwt", "audience": RESOURCE},
        "/jwt/write": {"mode": "jwt", "audience": RESOURCE, "required_scopes": ["notes:write"]},
        "/mcp": MCP_ROUTE,
        "/dpop": {"mode": "jwt", "audience": RESOURCE, "dpop": {"mode": "required"}},
        "/introspection": {
            "mode": "introspection",
            "audience": RESOURCE,
            # Hydra's admin API takes no client authentication (it belongs behind the operator's
            # network or gateway); the packages send these credentials all the same.
            "introspection": {
                "client_id": "mcp-server",
                "client_secret": "unused-by-hydra",
                "endpoint": hydra.introspection_endpoint,
            },
        },
    }


@pytest.fixture(scope="module")
def apps(cast: Cast, hydra: Hydra) -> Verifiers:
    return Verifiers(cast, hydra.issuer, "oidc", routes(hydra))


def test_discovery_typed_and_untyped(hydra: Hydra) -> None:
    # Hydra serves OpenID Connect discovery only: untyped discovery moves on from the RFC 8414 404.
    untyped = fetch_server_config(hydra.issuer)
    assert untyped.type == AuthServerType.OIDC
    typed = fetch_server_config(hydra.issuer, AuthServerType.OIDC)
    for config in (untyped, typed):
        assert config.metadata.issuer == hydra.issuer
        assert config.metadata.jwks_uri == f"{hydra.issuer}/.well-known/jwks.json"
        assert config.metadata.introspection_endpoint is None
        assert config.metadata.registration_endpoint == f"{hydra.issuer}/oauth2/register"
    for server_type in (None, "oidc"):
        node = node_discovery(hydra.issuer, server_type)
        assert (node["type"], node["metadata"]["issuer"]) == ("oidc", hydra.issuer)
    with pytest.raises(Exception, match="oauth-authorization-server"):
        fetch_server_config(hydra.issuer, AuthServerType.OAUTH)


def test_checker_finds_hydra_compatible(hydra: Hydra) -> None:
    python = run(sys.executable, "-m", "mcpauth", "check", hydra.issuer)
    node = run(str(NODE_CHECKER), "check", hydra.issuer)
    assert (python.returncode, node.returncode) == (0, 0), python.stderr + node.stderr
    assert python.stdout == node.stdout
    lines = python.stdout.splitlines()
    assert lines[:2] == [
        f"{hydra.issuer} (oidc): Compatible with MCP",
        f"Metadata: {hydra.issuer}/.well-known/openid-configuration",
    ]
    # Registration is on here (`oidc.dynamic_client_registration.enabled`); Hydra's default
    # leaves it off, which the checker reports as a warning.
    assert "Successes (6)" in lines and "Warnings" not in python.stdout
    assert any("Dynamic registration supported" in line for line in lines)


def test_client_credentials_jwt_shape_reaches_auth_info(hydra: Hydra, apps: Verifiers) -> None:
    token = hydra.client_credentials().access_token
    info = apps.auth_info("/jwt", token)["python"]
    assert (info["issuer"], info["subject"], info["client_id"]) == (hydra.issuer, Hydra.SERVICE[0], Hydra.SERVICE[0])
    assert info["scopes"] == ["notes:read"] and info["claims"]["scp"] == ["notes:read"]
    assert info["audience"] == [RESOURCE]
    assert info["claims"]["ext"] == {}


def test_authorization_code_with_pkce(hydra: Hydra, apps: Verifiers) -> None:
    tokens = hydra.login(session={"access_token": {"tenant": "acme"}})
    info = apps.auth_info("/jwt", tokens.access_token)["python"]
    assert (info["subject"], info["client_id"]) == (Hydra.SUBJECT, Hydra.PUBLIC_CLIENT)
    assert info["scopes"] == ["openid", "offline_access", "notes:read"]
    assert info["audience"] == [RESOURCE]
    assert info["claims"]["ext"] == {"tenant": "acme"}


def test_missing_scope_is_403_with_the_scope_to_ask_for(hydra: Hydra, apps: Verifiers) -> None:
    refused = apps.refused("/jwt/write", hydra.client_credentials(scope="notes:read").access_token, 403)
    assert refused["body"]["missing_scopes"] == ["notes:write"]
    assert 'scope="notes:write"' in refused["challenge"]
    apps.auth_info("/jwt/write", hydra.client_credentials(scope="notes:read notes:write").access_token)


def test_step_up_for_a_tool(hydra: Hydra, apps: Verifiers) -> None:
    # The consent app grants what the client asked for: the step-up is a new authorization.
    step_up(
        apps, hydra.login("openid notes:read").access_token, lambda scope: hydra.login(f"openid {scope}").access_token
    )


def test_audience_is_what_the_client_asked_for(hydra: Hydra, apps: Verifiers) -> None:
    # Without `audience` the token's `aud` is empty: refused.
    no_audience = hydra.client_credentials(audience=None).access_token
    assert claims_of(no_audience)["aud"] == []
    assert apps.refused("/jwt", no_audience)["body"]["error"] == "invalid_audience"
    foreign = hydra.client_credentials(audience=FOREIGN_RESOURCE).access_token
    refused = apps.refused("/jwt", foreign)
    assert (refused["body"]["error"], refused["body"]["cause"]["actual"]) == ("invalid_audience", [FOREIGN_RESOURCE])


def test_refresh_and_id_tokens_are_not_access_tokens(hydra: Hydra, apps: Verifiers) -> None:
    tokens = hydra.login()
    assert tokens.refresh_token and tokens.refresh_token.startswith("ory_rt_")  # always opaque
    assert apps.refused("/jwt", tokens.refresh_token)["body"]["error"] == "invalid_token"
    # ID tokens are signed with keys of the same JWKS and name the client as audience.
    assert tokens.id_token and claims_of(tokens.id_token)["aud"] == [Hydra.PUBLIC_CLIENT]
    assert apps.refused("/jwt", tokens.id_token)["body"]["error"] == "invalid_audience"


def test_opaque_tokens_by_introspection(hydra: Hydra, apps: Verifiers) -> None:
    service = hydra.client_credentials(Hydra.OPAQUE_SERVICE).access_token
    assert service.startswith("ory_at_")
    info = apps.auth_info("/introspection", service)["python"]
    assert (info["subject"], info["client_id"], info["scopes"]) == (
        Hydra.OPAQUE_SERVICE[0],
        Hydra.OPAQUE_SERVICE[0],
        ["notes:read"],
    )
    assert info["audience"] == [RESOURCE]
    assert (info["claims"]["token_type"], info["claims"]["token_use"]) == ("Bearer", "access_token")
    # An opaque token is no JWT.
    assert apps.refused("/jwt", service)["body"]["error"] == "invalid_token"

    user = hydra.login(opaque=True, session={"access_token": {"tenant": "acme"}})
    info = apps.auth_info("/introspection", user.access_token)["python"]
    assert (info["subject"], info["claims"]["ext"]) == (Hydra.SUBJECT, {"tenant": "acme"})
    # Hydra answers a refresh token as active, `token_type: Bearer`, with the same audience and
    # scopes: only `token_use: refresh_token` says it is not an access token.
    refused = apps.refused("/introspection", user.refresh_token)
    assert refused["body"]["error"] == "invalid_token" and "refresh_token" in str(refused["body"]["cause"])
    assert apps.refused("/introspection", user.id_token)["body"]["error"] == "invalid_token"  # inactive
    foreign = hydra.client_credentials(Hydra.OPAQUE_SERVICE, audience=FOREIGN_RESOURCE).access_token
    assert apps.refused("/introspection", foreign)["body"]["error"] == "invalid_audience"
    # Revocation takes effect on the next request (no answer cache configured).
    hydra.revoke(user.refresh_token, f"{Hydra.PUBLIC_CLIENT}-opaque")
    assert apps.refused("/introspection", user.access_token)["body"]["error"] == "invalid_token"


def test_key_rotation_under_load(hydra: Hydra, apps: Verifiers) -> None:
    """Two rotations while both packages verify tokens signed with every key so far."""
    tokens = [hydra.client_credentials().access_token]
    seen = apps.load("/jwt", tokens, 60)
    for _ in range(2):
        kid = hydra.rotate_key()
        tokens.append(hydra.client_credentials().access_token)
        assert header_of(tokens[-1])["kid"] == kid
        seen += apps.load("/jwt", tokens, 120)
    assert seen == {("python", 200): 150, ("node", 200): 150}


def test_hydra_does_not_bind_tokens_to_dpop_keys(hydra: Hydra, apps: Verifiers) -> None:
    # Hydra 2.3 has no DPoP (ory/hydra#3235): it advertises none and ignores a proof at its token
    # endpoint, so its tokens are bearer tokens and a route that requires DPoP refuses them.
    metadata = httpx.get(f"{hydra.issuer}/.well-known/openid-configuration", timeout=30).json()
    assert "dpop_signing_alg_values_supported" not in metadata
    key = DpopKey()
    tokens = hydra.client_credentials(dpop_proof=key.proof("POST", hydra.token_endpoint))
    assert tokens.token_type == "bearer" and "cnf" not in claims_of(tokens.access_token)
    apps.auth_info("/jwt", tokens.access_token)
    token = tokens.access_token
    refused = apps.refused("/dpop", token)
    assert refused["body"]["error"] == "dpop_required" and refused["challenge"].startswith('DPoP algs="')
    htu = f"{urlsplit(RESOURCE).scheme}://{urlsplit(RESOURCE).netloc}/dpop"
    headers = {lang: {"authorization": f"DPoP {token}", "dpop": key.proof("GET", htu, token)} for lang in LANGUAGES}
    refused = apps.refused("/dpop", token, headers=headers)
    assert refused["body"]["error"] == "invalid_token"
    assert refused["body"]["cause"]["cause"] == "The token has no `cnf.jkt` confirmation."
