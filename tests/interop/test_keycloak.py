"""Keycloak 26.4 as the MCP server's authorization server, checked through both packages.

Keycloak needs one piece of configuration for MCP: its access tokens name the resource only
when an audience mapper puts it into `aud` (realm `mcp`'s client scope `mcp-audience`; Keycloak
ignores RFC 8707 `resource`). Its tokens carry `aud` as a list with `account`, `azp`, `scope` as
a string, `realm_access.roles` and the claim `typ: Bearer`.
"""

from __future__ import annotations

import sys
from typing import Dict, Tuple
from urllib.parse import urlsplit

import httpx
import pytest
from mcpauth.config import AuthServerType
from mcpauth.utils import fetch_server_config

from conftest import LANGUAGES, MCP_ROUTE, NODE_CHECKER, Verifiers, node_discovery, run, step_up
from dpop_key import DpopKey
from harness import Cast
from servers import FOREIGN_RESOURCE, RESOURCE, Keycloak, claims_of, header_of, ok

ROUTES = {
    "/jwt": {"mode": "jwt", "audience": RESOURCE},
    "/jwt/write": {"mode": "jwt", "audience": RESOURCE, "required_scopes": ["notes:write"]},
    "/jwt/at": {"mode": "jwt", "audience": RESOURCE, "require_at_jwt": True},
    "/mcp": MCP_ROUTE,
    "/dpop": {"mode": "jwt", "audience": RESOURCE, "dpop": {"mode": "required"}},
    "/dpop/introspection": {
        "mode": "introspection",
        "audience": RESOURCE,
        "introspection": {"client_id": Keycloak.INTROSPECTOR[0], "client_secret": Keycloak.INTROSPECTOR[1]},
        "dpop": {"mode": "required"},
    },
    "/introspection": {
        "mode": "introspection",
        "audience": RESOURCE,
        # The endpoint comes from Keycloak's metadata; the MCP server is a confidential client.
        "introspection": {"client_id": Keycloak.INTROSPECTOR[0], "client_secret": Keycloak.INTROSPECTOR[1]},
    },
}


@pytest.fixture(scope="module")
def apps(cast: Cast, keycloak: Keycloak) -> Verifiers:
    # No type: untyped discovery, which finds Keycloak's RFC 8414 metadata first.
    return Verifiers(cast, keycloak.issuer, None, ROUTES)


def test_discovery_typed_and_untyped(keycloak: Keycloak) -> None:
    untyped = fetch_server_config(keycloak.issuer)
    assert untyped.type == AuthServerType.OAUTH  # /.well-known/oauth-authorization-server/realms/mcp
    oidc = fetch_server_config(keycloak.issuer, AuthServerType.OIDC)
    for config in (untyped, oidc):
        assert config.metadata.issuer == keycloak.issuer
        assert config.metadata.jwks_uri == f"{keycloak.issuer}/protocol/openid-connect/certs"
        assert config.metadata.introspection_endpoint == keycloak.introspection_endpoint
        assert "S256" in (config.metadata.code_challenge_methods_supported or [])
    for server_type, expected in ((None, "oauth"), ("oidc", "oidc")):
        node = node_discovery(keycloak.issuer, server_type)
        assert node["type"] == expected
        assert node["metadata"]["issuer"] == keycloak.issuer
        assert node["metadata"]["introspectionEndpoint"] == keycloak.introspection_endpoint


def test_checker_finds_keycloak_compatible(keycloak: Keycloak) -> None:
    python = run(sys.executable, "-m", "mcpauth", "check", keycloak.issuer)
    node = run(str(NODE_CHECKER), "check", keycloak.issuer)
    assert (python.returncode, node.returncode) == (0, 0), python.stderr + node.stderr
    assert python.stdout == node.stdout
    lines = python.stdout.splitlines()
    assert lines[:2] == [
        f"{keycloak.issuer} (oauth): Compatible with MCP",
        f"Metadata: {keycloak.base}/.well-known/oauth-authorization-server/realms/{Keycloak.REALM}",
    ]
    # PKCE S256 and a registration endpoint; whether anonymous registration is allowed is a
    # realm policy (Client Registration, Trusted Hosts) the metadata cannot show.
    assert "Successes (6)" in lines and "Warnings" not in python.stdout and "Errors" not in python.stdout
    assert any("S256 code challenge method supported" in line for line in lines)
    assert any("Dynamic registration supported" in line for line in lines)


def test_client_credentials_token_shape_reaches_auth_info(keycloak: Keycloak, apps: Verifiers) -> None:
    token = keycloak.client_credentials(Keycloak.SERVICE).access_token
    infos = apps.auth_info("/jwt", token)
    info = infos["python"]
    assert info["issuer"] == keycloak.issuer
    assert info["subject"] == keycloak.service_account_id(Keycloak.SERVICE[0])
    assert info["client_id"] == Keycloak.SERVICE[0]
    assert "notes:read" in info["scopes"] and "notes:write" not in info["scopes"]
    assert info["audience"] == [RESOURCE, "account"]
    claims = info["claims"]
    assert (claims["azp"], claims["typ"]) == (Keycloak.SERVICE[0], "Bearer")
    assert isinstance(claims["scope"], str)
    assert "default-roles-mcp" in claims["realm_access"]["roles"]


def test_authorization_code_with_pkce(keycloak: Keycloak, apps: Verifiers) -> None:
    tokens = keycloak.login("openid notes:read")
    info = apps.auth_info("/jwt", tokens.access_token)["python"]
    assert info["subject"] == keycloak.user_id()
    # User tokens have no `client_id` claim: the client comes from `azp`.
    assert "client_id" not in info["claims"] and info["client_id"] == Keycloak.PUBLIC_CLIENT
    assert {"openid", "notes:read"} <= set(info["scopes"])
    assert info["audience"] == [RESOURCE, "account"]
    assert (info["claims"]["preferred_username"], info["claims"]["email"]) == ("alice", "alice@example.com")


def test_missing_scope_is_403_with_the_scope_to_ask_for(keycloak: Keycloak, apps: Verifiers) -> None:
    read_only = keycloak.client_credentials(Keycloak.SERVICE, "notes:read").access_token
    refused = apps.refused("/jwt/write", read_only, 403)
    assert refused["body"]["missing_scopes"] == ["notes:write"]
    assert 'error="insufficient_scope"' in refused["challenge"] and 'scope="notes:write"' in refused["challenge"]
    both = keycloak.client_credentials(Keycloak.SERVICE, "notes:read notes:write").access_token
    assert "notes:write" in apps.auth_info("/jwt/write", both)["python"]["scopes"]


def test_step_up_for_a_tool(keycloak: Keycloak, apps: Verifiers) -> None:
    # Keycloak grants optional client scopes the client asks for: the step-up is a new login.
    step_up(
        apps,
        keycloak.login("openid notes:read").access_token,
        lambda scope: keycloak.login(f"openid {scope}").access_token,
    )


def test_audience_needs_the_mapper(keycloak: Keycloak, apps: Verifiers) -> None:
    # Without the mapper Keycloak's `aud` is only `account` (or absent): refused.
    plain = keycloak.client_credentials(Keycloak.PLAIN_SERVICE).access_token
    assert RESOURCE not in (claims_of(plain).get("aud") or [])
    assert apps.refused("/jwt", plain)["body"]["error"] == "invalid_audience"
    # A token for another MCP server is refused by this one.
    foreign = keycloak.client_credentials(Keycloak.FOREIGN_SERVICE).access_token
    assert FOREIGN_RESOURCE in claims_of(foreign)["aud"]
    refused = apps.refused("/jwt", foreign)
    assert refused["body"]["error"] == "invalid_audience"
    assert refused["body"]["cause"]["expected"] == RESOURCE


def test_refresh_and_id_tokens_are_not_access_tokens(keycloak: Keycloak, apps: Verifiers) -> None:
    tokens = keycloak.login()
    assert tokens.refresh_token and tokens.id_token
    # Keycloak's refresh tokens are HS512 JWTs (a realm secret, never published in the JWKS).
    assert header_of(tokens.refresh_token)["alg"] == "HS512"
    assert apps.refused("/jwt", tokens.refresh_token)["body"]["error"] == "invalid_token"
    # Its ID tokens are signed by the access-token key but name the client as audience.
    assert claims_of(tokens.id_token)["aud"] == Keycloak.PUBLIC_CLIENT
    assert apps.refused("/jwt", tokens.id_token)["body"]["error"] == "invalid_audience"


def test_rfc9068_header_type_tells_access_from_id_tokens(keycloak: Keycloak, apps: Verifiers) -> None:
    at_jwt = keycloak.client_credentials(Keycloak.RFC9068_SERVICE).access_token
    assert header_of(at_jwt)["typ"] == "at+jwt"
    apps.auth_info("/jwt/at", at_jwt)
    # The client option is off by default: plain `typ: JWT` access tokens and ID tokens are refused.
    plain = keycloak.client_credentials(Keycloak.SERVICE).access_token
    assert apps.refused("/jwt/at", plain)["body"]["error"] == "invalid_token"
    assert apps.refused("/jwt/at", keycloak.login().id_token)["body"]["error"] == "invalid_token"


def test_introspection(keycloak: Keycloak, apps: Verifiers) -> None:
    tokens = keycloak.login()
    info = apps.auth_info("/introspection", tokens.access_token)["python"]
    assert info["subject"] == keycloak.user_id()
    assert info["client_id"] == Keycloak.PUBLIC_CLIENT  # Keycloak's answer names it
    assert info["audience"] == [RESOURCE, "account"]
    assert (info["claims"]["active"], info["claims"]["token_type"], info["claims"]["username"]) == (
        True,
        "Bearer",
        "alice",
    )
    # Keycloak answers refresh and ID tokens as active, with `token_type` Refresh and ID.
    for token, kind in ((tokens.refresh_token, "Refresh"), (tokens.id_token, "ID")):
        refused = apps.refused("/introspection", token)
        assert refused["body"]["error"] == "invalid_token"
        assert kind in str(refused["body"]["cause"])
    foreign = keycloak.client_credentials(Keycloak.FOREIGN_SERVICE).access_token
    assert apps.refused("/introspection", foreign)["body"]["error"] == "invalid_audience"
    assert apps.refused("/introspection", "not-a-keycloak-token")["body"]["error"] == "invalid_token"


def test_key_rotation_under_load(keycloak: Keycloak, apps: Verifiers) -> None:
    """Two rotations while both packages verify tokens signed with every key so far: each new
    `kid` is fetched on its first token, nothing is refused."""
    tokens = [keycloak.client_credentials(Keycloak.SERVICE).access_token]
    seen = apps.load("/jwt", tokens, 60)
    for _ in range(2):
        keycloak.rotate_key()
        tokens.append(keycloak.client_credentials(Keycloak.SERVICE).access_token)
        seen += apps.load("/jwt", tokens, 120)
    kids = [header_of(t)["kid"] for t in tokens]
    assert len(set(kids)) == 3, kids
    assert seen == {("python", 200): 150, ("node", 200): 150}


@pytest.fixture(scope="module")
def bound(keycloak: Keycloak) -> Tuple[DpopKey, str]:
    """A DPoP key and a Keycloak access token bound to it (client credentials with a proof)."""
    key = DpopKey()
    tokens = keycloak.client_credentials(Keycloak.DPOP_SERVICE, dpop_proof=key.proof("POST", keycloak.token_endpoint))
    assert tokens.token_type == "DPoP"
    return key, tokens.access_token


def dpop_headers(key: DpopKey, token: str, path: str = "/dpop") -> Dict[str, Dict[str, str]]:
    """Per package: the token under the DPoP scheme and a fresh proof for GET `path`."""
    htu = f"{urlsplit(RESOURCE).scheme}://{urlsplit(RESOURCE).netloc}{path}"
    return {
        language: {"authorization": f"DPoP {token}", "dpop": key.proof("GET", htu, token)} for language in LANGUAGES
    }


def test_keycloak_binds_tokens_to_the_proof_key(keycloak: Keycloak, bound: Tuple[DpopKey, str]) -> None:
    key, token = bound
    metadata = httpx.get(f"{keycloak.issuer}/.well-known/openid-configuration", timeout=30).json()
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]
    claims = claims_of(token)
    # RFC 9449 §6.1: the key's thumbprint in `cnf.jkt`; Keycloak also says so in its `typ` claim.
    assert claims["cnf"] == {"jkt": key.jkt}
    assert (claims["typ"], claims["azp"]) == ("DPoP", Keycloak.DPOP_SERVICE[0])
    assert RESOURCE in claims["aud"]
    # The client requires DPoP: a token request without a proof is refused.
    refused = keycloak.token_request(Keycloak.DPOP_SERVICE)
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_request", "error_description": "DPoP proof is missing"}


def test_dpop_bound_token_with_its_proof(keycloak: Keycloak, apps: Verifiers, bound: Tuple[DpopKey, str]) -> None:
    key, token = bound
    infos = apps.auth_info("/dpop", token, dpop_headers(key, token))
    info = infos["python"]
    assert info["jkt"] == infos["node"]["jkt"] == key.jkt
    assert info["subject"] == keycloak.service_account_id(Keycloak.DPOP_SERVICE[0])
    assert info["client_id"] == Keycloak.DPOP_SERVICE[0]
    assert info["audience"] == [RESOURCE, "account"]


def test_dpop_login_of_a_public_client(keycloak: Keycloak, apps: Verifiers) -> None:
    # An MCP client's flow: authorization code with PKCE, a proof at the token endpoint. The
    # public client has no DPoP attribute: Keycloak binds the tokens because a proof came.
    key = DpopKey()
    tokens = keycloak.login("openid notes:read", dpop_proof=key.proof("POST", keycloak.token_endpoint))
    assert tokens.token_type == "DPoP" and claims_of(tokens.access_token)["cnf"] == {"jkt": key.jkt}
    info = apps.auth_info("/dpop", tokens.access_token, dpop_headers(key, tokens.access_token))["python"]
    assert (info["jkt"], info["subject"], info["client_id"]) == (key.jkt, keycloak.user_id(), Keycloak.PUBLIC_CLIENT)

    # Its refresh token is bound too (public clients, RFC 9449 §5): refreshed only with a proof.
    def refresh(proof: Dict[str, str]) -> httpx.Response:
        data = {
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token,
            "client_id": Keycloak.PUBLIC_CLIENT,
        }
        return httpx.post(keycloak.token_endpoint, data=data, headers=proof, timeout=30)

    refused = refresh({})
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_grant", "error_description": "DPoP proof is missing"}
    refreshed = ok(refresh({"dpop": key.proof("POST", keycloak.token_endpoint)})).json()
    assert refreshed["token_type"] == "DPoP" and claims_of(refreshed["access_token"])["cnf"] == {"jkt": key.jkt}
    apps.auth_info("/dpop", refreshed["access_token"], dpop_headers(key, refreshed["access_token"]))


def test_dpop_replayed_proof_is_refused(apps: Verifiers, bound: Tuple[DpopKey, str]) -> None:
    key, token = bound
    headers = dpop_headers(key, token)
    for language, response in apps.send("/dpop", headers).items():
        assert response.status_code == 200, f"{language}: {response.text}"
    refused = apps.refused("/dpop", token, headers=headers)
    assert refused["body"]["error"] == "invalid_dpop_proof"
    assert "used before" in refused["body"]["cause"]["cause"]
    assert refused["challenge"].startswith('DPoP algs="') and 'error="invalid_dpop_proof"' in refused["challenge"]


def test_dpop_bound_token_as_bearer_is_refused(apps: Verifiers, bound: Tuple[DpopKey, str]) -> None:
    _, token = bound
    refused = apps.refused("/dpop", token)
    assert refused["body"]["error"] == "dpop_required"
    assert refused["challenge"].startswith('DPoP algs="')


def test_dpop_proof_by_another_key_is_refused(apps: Verifiers, bound: Tuple[DpopKey, str]) -> None:
    _, token = bound
    # A valid proof, but not by the key in the token's `cnf.jkt`: the token is refused.
    refused = apps.refused("/dpop", token, headers=dpop_headers(DpopKey(), token))
    assert refused["body"]["error"] == "invalid_token"
    assert "cnf.jkt" in refused["body"]["cause"]["cause"]
    assert refused["challenge"].startswith('DPoP algs="') and 'error="invalid_token"' in refused["challenge"]


def test_routes_without_dpop_refuse_bound_tokens(apps: Verifiers, bound: Tuple[DpopKey, str]) -> None:
    # An MCP server not configured for DPoP, given Keycloak's bound token: as a bearer token it is
    # refused (RFC 9449 §7.2), and the DPoP scheme is not one it takes.
    key, token = bound
    refused = apps.refused("/jwt", token)
    assert refused["body"]["error"] == "invalid_token"
    assert "cnf.jkt" in refused["body"]["cause"]["cause"]
    refused = apps.refused("/jwt", token, headers=dpop_headers(key, token, "/jwt"))
    assert refused["body"]["error"] == "invalid_auth_header_format"
    assert refused["challenge"].startswith("Bearer ")


def test_keycloak_introspects_bound_tokens_with_their_key(keycloak: Keycloak, bound: Tuple[DpopKey, str]) -> None:
    key, token = bound
    answer = ok(
        httpx.post(keycloak.introspection_endpoint, auth=Keycloak.INTROSPECTOR, data={"token": token}, timeout=30)
    ).json()
    assert answer["active"] is True and answer["cnf"] == {"jkt": key.jkt}
    # RFC 9449 §6.2's `token_type: DPoP`, and Keycloak's own `typ` claim says so too.
    assert (answer["token_type"], answer["typ"]) == ("DPoP", "DPoP")


def test_dpop_bound_token_by_introspection(keycloak: Keycloak, apps: Verifiers, bound: Tuple[DpopKey, str]) -> None:
    # Keycloak's answer says `typ: DPoP` (tests/vectors/dpop.json has the case): an access token.
    key, token = bound
    infos = apps.auth_info("/dpop/introspection", token, dpop_headers(key, token, "/dpop/introspection"))
    assert infos["python"]["jkt"] == key.jkt
    assert infos["python"]["client_id"] == Keycloak.DPOP_SERVICE[0]
