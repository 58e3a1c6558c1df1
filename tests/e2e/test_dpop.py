"""DPoP (RFC 9449) end to end: the DPoP client (tests/e2e/clients/dpop-client.mjs) against the
Python and Node samples with MCP_AUTH_DPOP, tokens from the local authorization server: discovery
from the 401, a DPoP-bound token (cnf.jkt), tool calls with a fresh proof each, step-up, and the
refusals (a replayed proof, the token as Bearer, no proof, another key, another URL); with
server nonces the use_dpop_nonce round trip. Bearer clients keep working where DPoP is allowed."""

from __future__ import annotations

import json
from typing import Dict, Iterator, Tuple

import httpx
import pytest

from dpop_expect import assert_run, challenge, dump, prm_url
from harness import SAMPLES, Cast, run_dpop_client, run_ts_client

NONCE_SECRET = "e2e-dpop-nonce-secret-0123456789abcdef"


def python_has_dpop() -> bool:
    try:
        from mcpauth.config import DpopConfig  # noqa: F401
    except ImportError:
        return False
    return True


def node_has_dpop() -> bool:
    return (SAMPLES / "node" / "node_modules" / "mcp-auth" / "lib" / "handlers" / "dpop.js").exists()


SKIPS = {
    "python": pytest.mark.skipif(
        not python_has_dpop(), reason="the installed mcpauth has no DPoP option (make e2e-deps installs it)"
    ),
    "node": pytest.mark.skipif(
        not node_has_dpop(), reason="samples/node's mcp-auth has no DPoP option (make e2e-deps installs it)"
    ),
}

# (language, mode): allowed without nonces, required with nonces.
SERVERS = [(lang, mode) for lang in ("python", "node") for mode in ("allowed", "required")]


def env(mode: str) -> Dict[str, str]:
    if mode == "required":
        return {"MCP_AUTH_DPOP": "required", "MCP_AUTH_DPOP_NONCE_SECRET": NONCE_SECRET}
    return {"MCP_AUTH_DPOP": "allowed"}


@pytest.fixture(scope="module")
def dpop_cast() -> Iterator[Tuple[str, Dict[Tuple[str, str], str]]]:
    """The authorization server and each sample that has the option, in both modes."""
    with Cast() as cast:
        issuer = cast.authorization_server()
        urls: Dict[Tuple[str, str], str] = {}
        for lang, mode in SERVERS:
            if (lang == "python" and python_has_dpop()) or (lang == "node" and node_has_dpop()):
                start = cast.python_server if lang == "python" else cast.node_server
                urls[(lang, mode)] = start(issuer, env(mode))
        yield issuer, urls


def cases(*modes: str):  # type: ignore[no-untyped-def]
    return [
        pytest.param(lang, mode, marks=SKIPS[lang], id=f"{lang}-{mode}")
        for lang in ("python", "node")
        for mode in modes
    ]


@pytest.mark.parametrize(("lang", "mode"), cases("allowed", "required"))
def test_dpop_client_discovers_binds_calls_and_is_refused_what_it_must(
    dpop_cast: Tuple[str, Dict[Tuple[str, str], str]], lang: str, mode: str
) -> None:
    issuer, urls = dpop_cast
    url = urls[(lang, mode)]
    content = f"DPoP {lang} {mode}"
    report = run_dpop_client(
        url, "alice", None, ["whoami", "get-todos", ("create-todo", {"content": content}), "get-todos"]
    )
    me, _, todo, listed = assert_run(
        report, url, issuer, "alice", required=mode == "required", nonces=mode == "required"
    )
    # The tool sees the call as sender-constrained: AuthInfo's jkt is the client's key.
    assert me["subject"] == "alice" and me["jkt"] == report["key"]["jkt"], dump(report)
    assert (todo["content"], todo["ownerId"]) == (content, "alice")
    assert todo in listed["todos"]


@pytest.mark.parametrize(("lang", "mode"), cases("required"))
def test_nonce_round_trip_in_the_first_authorized_request(
    dpop_cast: Tuple[str, Dict[Tuple[str, str], str]], lang: str, mode: str
) -> None:
    """Raw requests: the first proof carries no nonce; the server answers 401 use_dpop_nonce with a
    DPoP-Nonce, and a proof with that nonce is accepted; every answer brings a nonce."""
    issuer, urls = dpop_cast
    url = urls[(lang, mode)]
    report = run_dpop_client(url, "bob", None, ["get-todos"], checks=True)
    assert report["returncode"] == 0, dump(report)
    nonce = report["checks"]["nonce"]
    assert nonce["without"]["status"] == 401 and nonce["without"]["dpop_nonce"], dump(report)
    assert challenge(nonce["without"], "DPoP")["params"]["error"] == "use_dpop_nonce"
    assert nonce["retry"]["status"] == 200
    # Each authorized answer carried a nonce for the next proof.
    authorized = [e for e in report["http"] if e["url"] == url and e.get("authorization") == "DPoP"]
    assert all(e.get("dpop_nonce") for e in authorized), dump(report)


@pytest.mark.parametrize(("lang", "mode"), cases("allowed"))
def test_step_up_keeps_the_key(dpop_cast: Tuple[str, Dict[Tuple[str, str], str]], lang: str, mode: str) -> None:
    """bob grants read:todos only: create-todo gets 403 with a DPoP insufficient_scope challenge
    (the scheme the request used); the client authorizes for that scope and gets a second token
    bound to the same key."""
    issuer, urls = dpop_cast
    url = urls[(lang, mode)]
    report = run_dpop_client(url, "bob", "read:todos", [("create-todo", {"content": "stepped up"})], checks=False)
    assert report["returncode"] == 0, dump(report)
    http = report["http"]
    refused = next(e for e in http if e["status"] == 403)
    assert refused["detail"] == "tools/call create-todo"
    assert refused["www_authenticate"].startswith('DPoP algs="'), refused
    assert 'error="insufficient_scope"' in refused["www_authenticate"]
    assert 'scope="create:todos"' in refused["www_authenticate"]
    assert f'resource_metadata="{prm_url(url)}"' in refused["www_authenticate"]
    assert "Bearer" not in refused["www_authenticate"]
    first, second = report["tokens"]
    assert first["claims"]["scope"] == "read:todos"
    assert "create:todos" in second["claims"]["scope"].split(" ")
    assert first["claims"]["cnf"] == second["claims"]["cnf"] == {"jkt": report["key"]["jkt"]}
    (call,) = report["calls"]
    assert call["result"]["ownerId"] == "bob", dump(report)


@pytest.mark.parametrize(("lang", "mode"), cases("allowed"))
def test_bearer_clients_still_work_where_dpop_is_allowed(
    dpop_cast: Tuple[str, Dict[Tuple[str, str], str]], lang: str, mode: str
) -> None:
    issuer, urls = dpop_cast
    url = urls[(lang, mode)]
    report = run_ts_client(url, "bob", None, ["whoami"])
    assert report["returncode"] == 0, json.dumps(report, indent=1)
    assert "error" not in report["calls"][0], json.dumps(report, indent=1)
    me = report["calls"][0]["result"]
    assert me["subject"] == "bob" and me["jkt"] is None  # a bearer token, bound to nothing


@pytest.mark.parametrize(("lang", "mode"), cases("required"))
def test_bearer_tokens_are_refused_where_dpop_is_required(
    dpop_cast: Tuple[str, Dict[Tuple[str, str], str]], lang: str, mode: str
) -> None:
    issuer, urls = dpop_cast
    url = urls[(lang, mode)]
    token = httpx.post(
        f"{issuer}/token",
        auth=("todo-service", "todo-service-secret"),
        data={"grant_type": "client_credentials", "scope": "read:todos", "resource": url},
    ).json()["access_token"]
    res = httpx.post(
        url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={"authorization": f"Bearer {token}", "accept": "application/json, text/event-stream"},
    )
    assert res.status_code == 401, res.text
    assert res.headers["www-authenticate"].startswith('DPoP algs="'), res.headers
    assert "Bearer" not in res.headers["www-authenticate"]
    assert res.json()["error"] == "dpop_required"
    # The metadata says so too.
    assert httpx.get(prm_url(url)).json()["dpop_bound_access_tokens_required"] is True


@pytest.mark.skipif(
    not node_has_dpop(), reason="samples/node's mcp-auth has no DPoP option (make e2e-deps installs it)"
)
def test_the_authorization_servers_nonce_at_the_token_endpoint() -> None:
    """An authorization server that demands DPoP nonces (--dpop-nonce): the client's first token
    request gets 400 use_dpop_nonce with a DPoP-Nonce, the retry with it gets the bound token."""
    with Cast() as cast:
        issuer = cast.authorization_server("--dpop-nonce")
        url = cast.node_server(issuer, env("allowed"))
        report = run_dpop_client(url, "alice", None, ["whoami"], checks=False)
    assert report["returncode"] == 0, dump(report)
    tokens = [e for e in report["http"] if e["url"] == f"{issuer}/token"]
    assert [e["status"] for e in tokens] == [400, 200], dump(report)
    assert tokens[0]["detail"].startswith("error=use_dpop_nonce") and tokens[0]["dpop_nonce"]
    assert "nonce" not in tokens[0]["proof"] and tokens[1]["proof"]["nonce"]
    assert report["tokens"][0]["claims"]["cnf"] == {"jkt": report["key"]["jkt"]}
    assert report["calls"][0]["result"]["jkt"] == report["key"]["jkt"]
