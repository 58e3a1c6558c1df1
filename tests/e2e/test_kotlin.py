"""The Kotlin sample MCP server (kotlin/sample, Kotlin MCP SDK on Ktor) with tokens from the local
authorization server: the TypeScript and Python SDK clients discover everything from the server URL,
call the protected `whoami` tool and step up on the per-tool 403 the library answers; raw requests
check the metadata, the challenges and the audience. The DPoP client (clients/dpop-client.mjs) runs
against the sample with MCP_AUTH_DPOP=allowed and =required (RFC 9449, see test_dpop.py).

`make test-kotlin` builds the sample (Maven) and runs this file with MCP_AUTH_KOTLIN=1."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Dict, Iterator, Tuple

import httpx
import pytest

from dpop_expect import assert_run, dump
from harness import ROOT, Cast, free_port, run_dpop_client, run_ts_client

KOTLIN = ROOT / "kotlin" / "target"
SAMPLE_MAIN = "dev.mcpauth.sample.WhoamiServerKt"

pytestmark = pytest.mark.skipif(
    os.environ.get("MCP_AUTH_KOTLIN") != "1", reason="needs the built Kotlin sample: make test-kotlin"
)


def kotlin_server(cast: Cast, issuer: str, env: Dict[str, str] | None = None) -> str:
    """Starts the Kotlin sample; returns its MCP URL."""
    port = free_port()
    classpath = ":".join(
        [str(KOTLIN / "test-classes"), str(KOTLIN / "classes"), (KOTLIN / "sample.classpath").read_text().strip()]
    )
    process = cast._spawn(
        f"kotlin-server-{port}",
        ["java", "-cp", classpath, SAMPLE_MAIN],
        env={"MCP_AUTH_ISSUER": issuer, "PORT": str(port), **(env or {})},
    )
    return cast._ready(process, f"http://127.0.0.1:{port}/mcp")


@pytest.fixture(scope="module")
def kotlin() -> Iterator[Tuple[str, str]]:
    """The authorization server and the Kotlin sample: (issuer, MCP URL)."""
    with Cast() as cast:
        issuer = cast.authorization_server()
        yield issuer, kotlin_server(cast, issuer)


# The DPoP option of the Kotlin package (kotlin/src/main/kotlin/dev/mcpauth/Dpop.kt), compiled.
needs_dpop = pytest.mark.skipif(
    not (KOTLIN / "classes" / "dev" / "mcpauth" / "DpopMode.class").exists(),
    reason="the Kotlin build has no DPoP option (make test-kotlin builds it)",
)


@pytest.fixture(scope="module", params=["allowed", "required"])
def kotlin_dpop(request: pytest.FixtureRequest) -> Iterator[Tuple[str, str, str]]:
    """The authorization server and the Kotlin sample with MCP_AUTH_DPOP: (issuer, MCP URL, mode)."""
    mode = str(request.param)
    env = {"MCP_AUTH_DPOP": mode}
    if mode == "required":  # with server nonces, as the Python and Node samples in test_dpop.py
        env["MCP_AUTH_DPOP_NONCE_SECRET"] = "e2e-dpop-nonce-secret-0123456789abcdef"
    with Cast() as cast:
        issuer = cast.authorization_server()
        yield issuer, kotlin_server(cast, issuer, env), mode


def prm_url(url: str) -> str:
    return url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")


def client_credentials(issuer: str, resource: str, scope: str = "read:todos") -> str:
    res = httpx.post(
        f"{issuer}/token",
        auth=("todo-service", "todo-service-secret"),
        data={"grant_type": "client_credentials", "scope": scope, "resource": resource},
    )
    assert res.status_code == 200, res.text
    return str(res.json()["access_token"])


def rpc(url: str, token: str | None, method: str, params: Dict[str, object] | None = None) -> httpx.Response:
    headers = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    return httpx.post(url, json=message, headers=headers)


def test_typescript_client_discovers_signs_in_and_calls_whoami(kotlin: Tuple[str, str]) -> None:
    issuer, url = kotlin
    report = run_ts_client(url, "alice", None, ["whoami"])
    assert report["returncode"] == 0, json.dumps(report, indent=1)
    http = report["http"]

    # 401 without credentials -> the metadata the challenge names -> the issuer -> a token.
    first = http[0]
    assert (first["method"], first["url"], first["status"]) == ("POST", url, 401)
    assert first["www_authenticate"] == f'Bearer resource_metadata="{prm_url(url)}"'
    assert any(e["url"] == prm_url(url) and e["status"] == 200 for e in http)
    assert any(e["url"] == f"{issuer}/token" and e["status"] == 200 for e in http)
    assert any(e["url"] == url and e["status"] == 200 and e.get("detail") == "initialize" for e in http)

    (call,) = report["calls"]
    assert "error" not in call, json.dumps(report, indent=1)
    me = call["result"]
    assert me["subject"] == "alice"
    assert me["issuer"] == issuer
    assert me["audience"] == [url]
    assert "read:todos" in me["scopes"]
    assert me["clientId"]


def test_step_up_for_a_tool_that_needs_a_scope(kotlin: Tuple[str, str]) -> None:
    issuer, url = kotlin
    # bob's first login grants only read:todos; add-todo needs create:todos.
    report = run_ts_client(url, "bob", "read:todos", ["whoami", ("add-todo", {"content": "milk"})])
    assert report["returncode"] == 0, json.dumps(report, indent=1)
    http = report["http"]
    refused = next(i for i, e in enumerate(http) if e["status"] == 403)
    assert http[refused]["detail"] == "tools/call add-todo"
    challenge = http[refused]["www_authenticate"]
    assert challenge.startswith('Bearer error="insufficient_scope"')
    assert 'scope="create:todos"' in challenge and f'resource_metadata="{prm_url(url)}"' in challenge
    # The client asks the user for that scope, gets a new token and the retried call succeeds.
    assert any(e["url"].startswith(f"{issuer}/auth?") for e in http[refused:])
    assert any(e["url"] == f"{issuer}/token" and e["status"] == 200 for e in http[refused:])

    me, todo = [call["result"] for call in report["calls"]]
    assert me["subject"] == "bob" and me["scopes"] == ["read:todos"]
    assert (todo["content"], todo["ownerId"]) == ("milk", "bob")


def test_python_client_steps_up_for_a_tool_that_needs_a_scope(kotlin: Tuple[str, str]) -> None:
    import py_client

    issuer, url = kotlin
    report = asyncio.run(py_client.run(url, "alice", "read:todos", ["whoami", ("add-todo", {"content": "tea"})]))
    http = report["http"]
    refused = next(i for i, e in enumerate(http) if e["status"] == 403)
    assert http[refused]["detail"] == "tools/call add-todo"
    challenge = http[refused]["www_authenticate"]
    assert challenge.startswith('Bearer error="insufficient_scope"')
    assert 'scope="create:todos"' in challenge and f'resource_metadata="{prm_url(url)}"' in challenge
    assert any(e["url"].startswith(f"{issuer}/auth?") for e in http[refused:])
    assert any(e["url"] == f"{issuer}/token" and e["status"] == 200 for e in http[refused:])
    me, todo = [call["result"] for call in report["calls"]]
    assert me["subject"] == "alice"
    assert (todo["content"], todo["ownerId"]) == ("tea", "alice")


def test_metadata_is_public_with_cors(kotlin: Tuple[str, str]) -> None:
    issuer, url = kotlin
    res = httpx.get(prm_url(url), headers={"origin": "http://example.test"})
    assert res.status_code == 200
    assert res.headers["access-control-allow-origin"] == "*"
    assert res.json() == {
        "resource": url,
        "scopes_supported": ["read:todos", "create:todos", "delete:todos"],
        "authorization_servers": [issuer],
    }
    preflight = httpx.options(prm_url(url), headers={"origin": "http://example.test"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "GET, OPTIONS"


def test_challenges_and_audience(kotlin: Tuple[str, str]) -> None:
    issuer, url = kotlin
    challenge = f'resource_metadata="{prm_url(url)}"'

    missing = rpc(url, None, "ping")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == f"Bearer {challenge}"
    assert missing.json() == {
        "error": "missing_auth_header",
        "error_description": "Missing `Authorization` header. Please provide a valid bearer token.",
    }

    garbage = rpc(url, "not-a-jwt", "ping")
    assert garbage.status_code == 401
    assert garbage.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert garbage.headers["www-authenticate"].endswith(challenge)

    # RFC 8707: a token issued for another resource is refused.
    other = client_credentials(issuer, "http://127.0.0.1:1/mcp")
    refused = rpc(url, other, "ping")
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_audience"
    assert refused.headers["www-authenticate"].startswith('Bearer error="invalid_token"')

    # A token for this resource reaches the MCP server; its tool sees the client as the caller.
    token = client_credentials(issuer, url)
    init = rpc(
        url,
        token,
        "initialize",
        {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    )
    assert init.status_code == 200, init.text
    assert init.json()["result"]["serverInfo"]["name"] == "Whoami"
    called = rpc(url, token, "tools/call", {"name": "whoami", "arguments": {}})
    assert called.status_code == 200, called.text
    me = json.loads(called.json()["result"]["content"][0]["text"])
    assert (me["subject"], me["clientId"], me["scopes"]) == ("todo-service", "todo-service", ["read:todos"])


@needs_dpop
def test_dpop_client_discovers_binds_calls_and_is_refused_what_it_must(kotlin_dpop: Tuple[str, str, str]) -> None:
    issuer, url, mode = kotlin_dpop
    report = run_dpop_client(url, "alice", None, ["whoami", ("add-todo", {"content": "bound"})])
    me, todo = assert_run(report, url, issuer, "alice", required=mode == "required", nonces=mode == "required")
    assert me["subject"] == "alice" and me["audience"] == [url], dump(report)
    assert me["jkt"] == report["key"]["jkt"], dump(report)  # whoami shows the key the call is bound to
    assert (todo["content"], todo["ownerId"]) == ("bound", "alice")


@needs_dpop
def test_dpop_step_up_keeps_the_key(kotlin_dpop: Tuple[str, str, str]) -> None:
    issuer, url, mode = kotlin_dpop
    report = run_dpop_client(url, "bob", "read:todos", [("add-todo", {"content": "stepped up"})], checks=False)
    assert report["returncode"] == 0, dump(report)
    refused = next(e for e in report["http"] if e["status"] == 403)
    assert refused["detail"] == "tools/call add-todo"
    assert refused["www_authenticate"].startswith('DPoP algs="'), refused
    assert 'error="insufficient_scope"' in refused["www_authenticate"]
    assert 'scope="create:todos"' in refused["www_authenticate"]
    first, second = report["tokens"]
    assert first["claims"]["cnf"] == second["claims"]["cnf"] == {"jkt": report["key"]["jkt"]}
    (call,) = report["calls"]
    assert call["result"]["ownerId"] == "bob", dump(report)


@needs_dpop
def test_bearer_clients_where_dpop_is_allowed_or_required(kotlin_dpop: Tuple[str, str, str]) -> None:
    issuer, url, mode = kotlin_dpop
    token = client_credentials(issuer, url)
    called = rpc(url, token, "tools/call", {"name": "whoami", "arguments": {}})
    if mode == "allowed":
        assert called.status_code == 200, called.text
        report = run_ts_client(url, "bob", None, ["whoami"])
        assert report["returncode"] == 0 and "error" not in report["calls"][0], json.dumps(report, indent=1)
    else:
        assert called.status_code == 401, called.text
        assert called.headers["www-authenticate"].startswith('DPoP algs="')
        assert called.json()["error"] == "dpop_required"
