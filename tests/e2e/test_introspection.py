"""Opaque access tokens end to end: the authorization server issues opaque tokens for the sample
servers' resources, and the samples, in their introspection mode, check each token at its RFC 7662
introspection endpoint. Real MCP clients of both SDKs go through discovery, login and step-up as
with JWTs; revocation takes effect on the next request."""

from __future__ import annotations

from typing import Dict, Iterator, Tuple

import httpx
import pytest

from harness import Cast
from test_e2e import assert_discovered_from_server_url, assert_stepped_up, ids, results, run

INTROSPECTION = {
    "MCP_AUTH_INTROSPECTION_CLIENT_ID": "mcp-resource-server",
    "MCP_AUTH_INTROSPECTION_CLIENT_SECRET": "mcp-resource-server-secret",
}
SERVICE = ("todo-service", "todo-service-secret")
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
ACCEPT = "application/json, text/event-stream"


@pytest.fixture(scope="module")
def opaque_cast() -> Iterator[Tuple[str, Dict[str, str]]]:
    with Cast() as processes:
        issuer = processes.authorization_server()
        urls = {
            "python": processes.python_server(issuer, INTROSPECTION),
            "node": processes.node_server(issuer, INTROSPECTION),
        }
        for url in urls.values():
            answer = httpx.post(f"{issuer}/admin/resources", data={"resource": url, "alg": "opaque"})
            assert answer.status_code == 200, answer.text
        yield issuer, urls


def service_token(issuer: str, resource: str, scope: str) -> str:
    answer = httpx.post(
        f"{issuer}/token",
        data={"grant_type": "client_credentials", "scope": scope, "resource": resource},
        auth=SERVICE,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def ping(url: str, token: str) -> httpx.Response:
    return httpx.post(url, json=PING, headers={"authorization": f"Bearer {token}", "accept": ACCEPT})


@pytest.mark.parametrize("server", ["python", "node"])
@pytest.mark.parametrize("client", ["python", "typescript"])
def test_mcp_clients_use_opaque_tokens(opaque_cast, server: str, client: str) -> None:  # type: ignore[no-untyped-def]
    issuer, urls = opaque_cast
    url = urls[server]
    content = f"opaque todo via the {client} client on the {server} server"
    report = run(client, url, "alice", "read:todos", ["get-todos", ("create-todo", {"content": content}), "get-todos"])
    assert_discovered_from_server_url(report["http"], url, issuer)
    assert_stepped_up(report["http"], url, issuer, "create-todo", "create:todos")
    _, created, listed = results(report)
    # The subject comes from the introspection answer.
    assert (created["content"], created["ownerId"]) == (content, "alice")
    assert created["id"] in ids(listed)


@pytest.mark.parametrize("server", ["python", "node"])
def test_opaque_token_audience_and_revocation(opaque_cast, server: str) -> None:  # type: ignore[no-untyped-def]
    issuer, urls = opaque_cast
    url, other = urls[server], urls["node" if server == "python" else "python"]
    token = service_token(issuer, url, "read:todos")
    assert "." not in token, "the authorization server issued a JWT, not an opaque token"

    assert ping(url, token).status_code == 200
    # Introspection reports the token's audience: the other server refuses it.
    refused = ping(other, token)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert refused.json()["error"] == "invalid_audience"

    revoked = httpx.post(f"{issuer}/token/revocation", data={"token": token}, auth=SERVICE)
    assert revoked.status_code == 200
    gone = ping(url, token)
    assert gone.status_code == 401
    assert gone.json()["error"] == "invalid_token"
    assert 'resource_metadata="' in gone.headers["www-authenticate"]

    # A made-up token is inactive, not an error of the server.
    made_up = ping(url, "not-a-token-the-server-issued")
    assert made_up.status_code == 401
    assert made_up.json()["error"] == "invalid_token"
