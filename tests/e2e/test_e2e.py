"""Real MCP clients (Python and TypeScript SDKs) against both sample servers, with tokens from
a real authorization server: discovery from the server URL alone, registration, authorization
code + PKCE with `resource`, 403 step-up, ownership rules across clients, key rotation."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

import py_client
from harness import Cast, run_ts_client


def run(client: str, url: str, user: str, grant: Optional[str], calls: List[Any]) -> Dict[str, Any]:
    if client == "python":
        return asyncio.run(py_client.run(url, user, grant, calls))
    return run_ts_client(url, user, grant, calls)


def prm_url(url: str) -> str:
    return url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")


def index_of(http: List[Dict[str, Any]], start: int = 0, **match: Any) -> int:
    """Index of the first exchange from `start` whose fields satisfy `match` (callables or values)."""
    for i in range(start, len(http)):
        e = http[i]
        if all(v(e.get(k)) if callable(v) else e.get(k) == v for k, v in match.items()):
            return i
    raise AssertionError(f"no exchange like {match} after #{start} in:\n" + "\n".join(map(json.dumps, http)))


def authorization_params(exchange: Dict[str, Any]) -> Dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(exchange["url"]).query).items()}


def is_authorization_request(issuer: str):  # type: ignore[no-untyped-def]
    return lambda url: url.startswith(f"{issuer}/auth?")


def assert_discovered_from_server_url(http: List[Dict[str, Any]], url: str, issuer: str) -> None:
    """401 -> PRM named by the challenge -> AS metadata -> registration -> authorization -> token."""
    challenge = http[0]
    assert (challenge["method"], challenge["url"], challenge["status"]) == ("POST", url, 401)
    assert challenge["www_authenticate"] == f'Bearer resource_metadata="{prm_url(url)}"'
    prm = index_of(http, 1, method="GET", url=prm_url(url), status=200)
    metadata = index_of(http, prm, url=f"{issuer}/.well-known/oauth-authorization-server", status=200)
    registration = index_of(http, metadata, method="POST", url=f"{issuer}/reg", status=201)
    authorization = index_of(http, registration, url=is_authorization_request(issuer))
    params = authorization_params(http[authorization])
    assert params["resource"] == url
    assert params["code_challenge_method"] == "S256"
    token = index_of(http, authorization, method="POST", url=f"{issuer}/token", status=200)
    index_of(http, token, method="POST", url=url, status=200, detail="initialize")


def assert_stepped_up(http: List[Dict[str, Any]], url: str, issuer: str, tool: str, scope: str) -> None:
    """403 insufficient_scope naming `scope` -> authorization for it -> token -> the call succeeds."""
    refused = index_of(http, method="POST", url=url, status=403, detail=f"tools/call {tool}")
    assert http[refused]["www_authenticate"].startswith('Bearer error="insufficient_scope"')
    assert f'scope="{scope}"' in http[refused]["www_authenticate"]
    assert f'resource_metadata="{prm_url(url)}"' in http[refused]["www_authenticate"]
    authorization = index_of(http, refused, url=is_authorization_request(issuer))
    assert authorization_params(http[authorization])["scope"] == scope
    token = index_of(http, authorization, method="POST", url=f"{issuer}/token", status=200)
    index_of(http, token, method="POST", url=url, status=200, detail=f"tools/call {tool}")


def results(report: Dict[str, Any]) -> List[Any]:
    for call in report["calls"]:
        assert "error" not in call, json.dumps(report, indent=1)
    return [call["result"] for call in report["calls"]]


def ids(result: Dict[str, Any]) -> List[str]:
    return [todo["id"] for todo in result["todos"]]


@pytest.mark.parametrize("server", ["python", "node"])
@pytest.mark.parametrize("creator, other", [("python", "typescript"), ("typescript", "python")])
def test_owners_scopes_and_step_up(cast, server: str, creator: str, other: str) -> None:  # type: ignore[no-untyped-def]
    issuer, urls = cast
    url = urls[server]
    content = f"todo of alice via the {creator} client on the {server} server"

    # alice's first login grants only read:todos, so creating needs a step-up.
    alice = run(creator, url, "alice", "read:todos", ["get-todos", ("create-todo", {"content": content}), "get-todos"])
    assert_discovered_from_server_url(alice["http"], url, issuer)
    assert_stepped_up(alice["http"], url, issuer, "create-todo", "create:todos")
    _, created, listed = results(alice)
    assert (created["content"], created["ownerId"]) == (content, "alice")
    assert created["id"] in ids(listed)

    # bob, another user through the other client, without read:todos: he sees only his own.
    bob = run(other, url, "bob", "create:todos", ["get-todos", ("delete-todo", {"id": created["id"]})])
    assert_discovered_from_server_url(bob["http"], url, issuer)
    listed, deleted = results(bob)
    assert all(todo["ownerId"] == "bob" for todo in listed["todos"])
    assert created["id"] not in ids(listed)
    assert deleted == {"error": "Failed to delete todo"}
    assert all(e["status"] != 403 for e in bob["http"])

    # With read:todos he sees it, still cannot delete it.
    reader = run(other, url, "bob", "create:todos read:todos", ["get-todos", ("delete-todo", {"id": created["id"]})])
    listed, deleted = results(reader)
    assert created in listed["todos"]
    assert deleted == {"error": "Failed to delete todo"}

    # With delete:todos he deletes it, and alice's list no longer has it.
    admin = run(creator, url, "bob", "delete:todos", [("delete-todo", {"id": created["id"]})])
    (deleted,) = results(admin)
    assert deleted == {"message": f"Todo {created['id']} deleted", "details": created}
    again = run(other, url, "alice", "read:todos", ["get-todos"])
    assert created["id"] not in ids(results(again)[0])


def test_a_token_is_accepted_only_by_the_server_it_was_issued_for(cast) -> None:  # type: ignore[no-untyped-def]
    _, urls = cast

    async def scenario() -> None:
        headless = py_client.HeadlessUser("alice")
        client = py_client.Client(urls["python"], headless)
        async with client.session() as session:
            assert "todos" in await py_client.call(session, "get-todos")
        await headless.aclose()
        assert client.storage.tokens is not None
        token = client.storage.tokens.access_token
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        headers = {"authorization": f"Bearer {token}", "accept": "application/json, text/event-stream"}
        res = httpx.post(urls["node"], json=ping, headers=headers)
        assert res.status_code == 401
        assert res.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
        assert f'resource_metadata="{prm_url(urls["node"])}"' in res.headers["www-authenticate"]

    asyncio.run(scenario())


def kid(access_token: str) -> str:
    header = access_token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


def test_key_rotation_costs_clients_at_most_one_refresh() -> None:
    with Cast() as processes:
        issuer = processes.authorization_server()
        urls = [processes.python_server(issuer), processes.node_server(issuer)]

        async def scenario() -> None:
            async with contextlib.AsyncExitStack() as stack:
                # Per server: a client that will refresh its token, and one that keeps its old token.
                clients = []
                for url in urls:
                    for refreshes in (True, False):
                        user = py_client.HeadlessUser("alice")
                        stack.push_async_callback(user.aclose)
                        client = py_client.Client(url, user)
                        session = await stack.enter_async_context(client.session())
                        assert "todos" in await py_client.call(session, "get-todos")  # the server caches the JWKS
                        clients.append((refreshes, client, session))
                old_kids = {kid(c.storage.tokens.access_token) for _, c, _ in clients if c.storage.tokens}

                # Right after the servers fetched the JWKS: a successful fetch starts no re-fetch
                # cooldown, so the new kid is looked up at once.
                # The retired key stays published for the default grace period.
                rotated = httpx.post(f"{issuer}/admin/rotate", data={"alg": "RS256"}).json()
                (new_kid,) = [k["kid"] for k in rotated["rotated"]]
                assert {k["kid"] for k in rotated["retired"]} == old_kids != {new_kid}

                for refreshes, client, session in clients:
                    issued = len(client.storage.issued)
                    logins = sum(e.url.startswith(f"{issuer}/auth?") for e in client.log)
                    if refreshes:
                        client.expire_access_token()
                    assert "todos" in await py_client.call(session, "get-todos")
                    # At most one refresh-token grant and no new login; a refreshed token carries the
                    # new key (the server fetched the JWKS again), an old one still verifies.
                    assert len(client.storage.issued) == issued + refreshes
                    assert sum(e.url.startswith(f"{issuer}/auth?") for e in client.log) == logins
                    assert client.storage.tokens is not None
                    if refreshes:
                        assert kid(client.storage.tokens.access_token) == new_kid
                    else:
                        assert kid(client.storage.tokens.access_token) in old_kids

        asyncio.run(scenario())

        # A client that starts after the rotation gets a token with the new key straight away.
        for url in urls:
            report = run_ts_client(url, "bob", None, [("create-todo", {"content": "after rotation"}), "get-todos"])
            created, listed = results(report)
            assert created["ownerId"] == "bob" and created["id"] in ids(listed)
