"""The Kotlin package against Keycloak and Ory Hydra: the Kotlin sample MCP server (kotlin/sample,
Kotlin MCP SDK on Ktor) with this suite's resource identifier verifies their JWT access tokens,
and its `whoami` tool sees the caller; other MCP servers' tokens and ID tokens are refused; its
`add-todo` tool (`toolScopes`: create:todos) answers 403 until the user logs in for that scope.

`make test-kotlin` builds the sample (Maven) and runs this file with MCP_AUTH_KOTLIN=1."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, Optional

import httpx
import pytest

from dpop_key import DpopKey
from harness import ROOT, Cast, free_port
from servers import FOREIGN_RESOURCE, RESOURCE, Hydra, Keycloak, wait_until_up

KOTLIN = ROOT / "kotlin" / "target"
SAMPLE_MAIN = "dev.mcpauth.sample.WhoamiServerKt"

pytestmark = pytest.mark.skipif(
    os.environ.get("MCP_AUTH_KOTLIN") != "1", reason="needs the built Kotlin sample: make test-kotlin"
)


# The DPoP option of the Kotlin package (kotlin/src/main/kotlin/dev/mcpauth/Dpop.kt), compiled.
needs_dpop = pytest.mark.skipif(
    not (KOTLIN / "classes" / "dev" / "mcpauth" / "DpopMode.class").exists(),
    reason="the Kotlin build has no DPoP option (make test-kotlin builds it)",
)


def kotlin_sample(cast: Cast, issuer: str, env: Optional[Dict[str, str]] = None) -> str:
    """Starts the sample for `issuer` with resource RESOURCE (and `env`, e.g. MCP_AUTH_DPOP);
    the URL of its MCP endpoint."""
    port = free_port()
    classpath = ":".join(
        [str(KOTLIN / "test-classes"), str(KOTLIN / "classes"), (KOTLIN / "sample.classpath").read_text().strip()]
    )
    process = cast._spawn(
        "kotlin-server",
        ["java", "-cp", classpath, SAMPLE_MAIN],
        env={"MCP_AUTH_ISSUER": issuer, "PORT": str(port), "MCP_RESOURCE_IDENTIFIER": RESOURCE, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}/mcp"
    wait_until_up(process, f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp", 60)
    return url


def call(
    url: str,
    token: Optional[str],
    tool: str,
    arguments: Optional[Dict[str, Any]] = None,
    auth: Optional[Dict[str, str]] = None,
) -> httpx.Response:
    """A tool call with `token` as Bearer, or with the `auth` headers (DPoP scheme and proof)."""
    headers = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18", **(auth or {})}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments or {}},
    }
    return httpx.post(url, json=message, headers=headers, timeout=30)


def whoami(url: str, token: Optional[str]) -> httpx.Response:
    return call(url, token, "whoami")


def step_up(url: str, login: Callable[[str], str]) -> None:
    """add-todo with a token lacking create:todos: 403 naming it; a login for it passes."""
    refused = call(url, login("notes:read"), "add-todo", {"content": "milk"})
    assert refused.status_code == 403, refused.text
    challenge = refused.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="insufficient_scope"') and 'scope="create:todos"' in challenge
    added = call(url, login("notes:read create:todos"), "add-todo", {"content": "milk"})
    assert added.status_code == 200, added.text
    assert json.loads(added.json()["result"]["content"][0]["text"])["content"] == "milk"


def me(response: httpx.Response) -> Dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(json.loads(response.json()["result"]["content"][0]["text"]))


def refused_with(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    return str(response.json()["error"])


def test_keycloak_tokens(cast: Cast, keycloak: Keycloak) -> None:
    url = kotlin_sample(cast, keycloak.issuer)
    service = me(whoami(url, keycloak.client_credentials(Keycloak.SERVICE).access_token))
    assert (service["issuer"], service["clientId"]) == (keycloak.issuer, Keycloak.SERVICE[0])
    assert service["subject"] == keycloak.service_account_id(Keycloak.SERVICE[0])
    assert service["audience"] == [RESOURCE, "account"] and "notes:read" in service["scopes"]
    tokens = keycloak.login()
    user = me(whoami(url, tokens.access_token))
    assert (user["subject"], user["clientId"]) == (keycloak.user_id(), Keycloak.PUBLIC_CLIENT)
    assert refused_with(whoami(url, keycloak.client_credentials(Keycloak.FOREIGN_SERVICE).access_token)) == (
        "invalid_audience"
    )
    assert refused_with(whoami(url, tokens.id_token)) == "invalid_audience"
    assert refused_with(whoami(url, tokens.refresh_token)) == "invalid_token"
    step_up(url, lambda scope: keycloak.login(f"openid {scope}").access_token)


def test_hydra_tokens(cast: Cast, hydra: Hydra) -> None:
    url = kotlin_sample(cast, hydra.issuer)
    service = me(whoami(url, hydra.client_credentials().access_token))
    assert (service["subject"], service["clientId"], service["scopes"]) == (
        Hydra.SERVICE[0],
        Hydra.SERVICE[0],
        ["notes:read"],
    )
    assert service["audience"] == [RESOURCE]
    tokens = hydra.login()
    user = me(whoami(url, tokens.access_token))
    assert (user["subject"], user["clientId"]) == (Hydra.SUBJECT, Hydra.PUBLIC_CLIENT)
    foreign = hydra.client_credentials(audience=FOREIGN_RESOURCE).access_token
    assert refused_with(whoami(url, foreign)) == "invalid_audience"
    assert refused_with(whoami(url, tokens.id_token)) == "invalid_audience"
    assert refused_with(whoami(url, tokens.refresh_token)) == "invalid_token"
    step_up(url, lambda scope: hydra.login(f"openid {scope}").access_token)


@needs_dpop
def test_keycloak_dpop_bound_tokens(cast: Cast, keycloak: Keycloak) -> None:
    """MCP_AUTH_DPOP=required with a token Keycloak bound to the client's key (client credentials
    with a proof): the call with a proof passes; a replay, the token as Bearer and a proof by
    another key are refused."""
    url = kotlin_sample(cast, keycloak.issuer, {"MCP_AUTH_DPOP": "required"})
    key = DpopKey()
    token = keycloak.client_credentials(
        Keycloak.DPOP_SERVICE, dpop_proof=key.proof("POST", keycloak.token_endpoint)
    ).access_token

    def dpop(signer: DpopKey = key) -> Dict[str, str]:
        # The sample's resource is its MCP endpoint: `htu` is RESOURCE itself.
        return {"authorization": f"DPoP {token}", "dpop": signer.proof("POST", RESOURCE, token)}

    service = me(call(url, None, "whoami", auth=dpop()))
    assert (service["issuer"], service["clientId"]) == (keycloak.issuer, Keycloak.DPOP_SERVICE[0])
    assert service["subject"] == keycloak.service_account_id(Keycloak.DPOP_SERVICE[0])
    headers = dpop()
    me(call(url, None, "whoami", auth=headers))
    replayed = call(url, None, "whoami", auth=headers)
    assert replayed.status_code == 401, replayed.text
    assert replayed.json()["error"] == "invalid_dpop_proof"
    assert replayed.headers["www-authenticate"].startswith('DPoP algs="')
    as_bearer = whoami(url, token)
    assert as_bearer.status_code == 401, as_bearer.text
    assert as_bearer.json()["error"] == "dpop_required"
    other_key = call(url, None, "whoami", auth=dpop(DpopKey()))
    assert other_key.status_code == 401, other_key.text
    assert other_key.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in other_key.headers["www-authenticate"]
