"""The documentation's Python code, run as written against a local issuer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Dict

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from support import IntrospectionEndpoint, Issuer, Server

from mcpauth.exceptions import MCPAuthTokenVerificationException
from mcpauth.types import AuthInfo

SNIPPETS = Path(__file__).parent / "docs_snippets"


def run_snippet(name: str, **names: Any) -> Dict[str, Any]:
    namespace: Dict[str, Any] = {"__name__": f"docs_{name}", **names}
    exec(compile((SNIPPETS / f"{name}.py").read_text(), str(SNIPPETS / f"{name}.py"), "exec"), namespace)
    return namespace


def test_getting_started(issuer: Issuer, capfd: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("mcp.server.fastmcp")
    from mcp_compat import TokenHolder, session

    ns = run_snippet("getting_started", AUTH_ISSUER=issuer.url)
    resource_id = ns["resource_id"]
    with Server(ns["app"]) as srv, httpx.Client(base_url=srv.url) as client:
        prm = client.get("/.well-known/oauth-protected-resource/notes")
        assert prm.json() == {
            "resource": resource_id,
            "scopes_supported": ["read:notes", "write:notes"],
            "authorization_servers": [issuer.url],
        }
        r = client.get("/sse")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == (
            'Bearer scope="read:notes", '
            'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/notes"'
        )
        r = client.get(
            "/sse", headers={"Authorization": f"Bearer {issuer.token(aud=resource_id, scope='write:notes')}"}
        )
        assert r.status_code == 403

        async def call() -> Any:
            holder = TokenHolder(issuer.token(aud=resource_id, scope="read:notes"))
            async with session(f"{srv.url}/sse", holder, "sse") as s:
                return await s.call_tool("add", {"a": 2, "b": 3})

        result = asyncio.run(call())
    assert result.content[0].text == "5"
    assert "Authenticated user: {'iss': '" + issuer.url in capfd.readouterr().out


def test_configure_server_pages(issuer: Issuer) -> None:
    async def verify_token(token: str) -> Any:
        if token != "good":
            return None
        return AuthInfo(
            token=token,
            issuer=issuer.url,
            subject="u",
            scopes=["read", "write"],
            audience="https://api.example.com/notes",
            claims={},
        )

    ns = run_snippet(
        "configure_server",
        AUTH_ISSUER=issuer.url,
        METADATA_URL=f"{issuer.url}/.well-known/openid-configuration",
        verify_token=verify_token,
    )
    assert ns["mcp_auth_config"].metadata.issuer == issuer.url
    app = Starlette(routes=[Mount("/", app=Starlette(), middleware=[Middleware(ns["bearer_auth_custom"])])])
    with Server(app) as srv, httpx.Client(base_url=srv.url) as client:
        r = client.get("/", headers={"Authorization": "Bearer bad"})
        assert r.status_code == 401
        assert r.json() == {
            "error": "token_verification_failed",
            "error_description": "The token verification failed due to an error in the verification process.",
        }
        assert client.get("/", headers={"Authorization": "Bearer good"}).status_code == 404  # reached the app


def test_readme_more(fresh_issuer: Issuer, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    endpoint = IntrospectionEndpoint("mcp-server", "s3cret")
    try:
        fresh_issuer.metadata["introspection_endpoint"] = endpoint.url
        monkeypatch.setenv("INTROSPECTION_CLIENT_SECRET", "s3cret")
        ns = run_snippet("readme_more", AUTH_ISSUER=fresh_issuer.url)
        assert capfd.readouterr().out == "AuthServerType.OAUTH\n"
        resource_id = ns["resource_id"]
        app = Starlette(
            routes=[
                Mount("/opaque", app=Starlette(), middleware=[ns["bearer_auth_introspection"]]),
                Mount("/jwt", app=Starlette(), middleware=[ns["bearer_auth_jwt"]]),
            ]
        )
        endpoint.answers["opaque-1"] = (200, {"active": True, "scope": "read:notes", "aud": resource_id})
        at_jwt = fresh_issuer.token(aud=resource_id, scope="read:notes", typ="at+jwt")
        plain_jwt = fresh_issuer.token(aud=resource_id, scope="read:notes")
        with Server(app) as srv, httpx.Client(base_url=srv.url) as client:

            def status(path: str, token: str) -> int:
                return client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code

            # 404: authenticated, and the empty app has no route.
            assert status("/opaque/", "opaque-1") == 404
            assert status("/opaque/", "opaque-1") == 404
            assert status("/opaque/", "other") == 401
            assert endpoint.asked("opaque-1") == 1  # the cache answered the second time
            assert status("/jwt/", at_jwt) == 404
            assert status("/jwt/", plain_jwt) == 401
        assert ns["verify"](at_jwt).subject == "user-1"
        with pytest.raises(MCPAuthTokenVerificationException):
            ns["verify"](plain_jwt)
    finally:
        endpoint.stop()


def test_readme_operations(issuer: Issuer) -> None:
    pytest.importorskip("mcp.server.fastmcp")
    ns = run_snippet("readme_operations", AUTH_ISSUER=issuer.url)
    resource_id = ns["resource_id"]
    prm = "https://api.example.com/.well-known/oauth-protected-resource/notes"
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}

    def rpc(method: str, **params: Any) -> Dict[str, Any]:
        return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}

    with Server(ns["app"]) as srv, httpx.Client(base_url=srv.url) as client:

        def post(scope: str, body: Any, **extra: str) -> httpx.Response:
            auth = {"authorization": f"Bearer {issuer.token(sub='ann', aud=resource_id, scope=scope)}"}
            content = body if isinstance(body, bytes) else json.dumps(body).encode()
            return client.post("/", headers={**headers, **auth, **extra}, content=content)

        delete = rpc("tools/call", name="delete-note", arguments={"id": "1"})
        r = post("notes:read", delete)
        assert r.status_code == 403
        assert r.headers["www-authenticate"] == (
            'Bearer error="insufficient_scope", error_description="The token does not contain the necessary '
            f'scopes for this request.", scope="notes:read notes:write", resource_metadata="{prm}"'
        )
        assert r.json()["missing_scopes"] == ["notes:write"]
        assert ns["notes"] == {"1": "Buy milk"}  # the tool did not run
        r = post("notes:admin", delete)  # implies notes:write and notes:read
        assert r.status_code == 200 and "deleted by ann" in r.text and ns["notes"] == {}
        assert post("notes:read", rpc("resources/read", uri="notes://1")).status_code == 200
        assert post("notes:write", rpc("prompts/get", name="summarize", arguments={"id": "1"})).status_code == 200
        r = post("notes:write", rpc("resources/subscribe", uri="notes://1"))
        assert r.status_code == 403 and 'scope="notes:read notes:admin"' in r.headers["www-authenticate"]
        # A body that cannot be classified never reaches the SDK: a JSON-RPC error, no challenge.
        r = post("notes:admin", b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","name":"y"}}')
        assert r.status_code == 400 and "www-authenticate" not in r.headers
        assert r.json()["error"]["code"] == -32700 and r.json()["id"] is None
        r = post("notes:admin", delete, **{"mcp-name": "other-tool"})
        assert r.status_code == 400 and r.json()["error"]["code"] == -32020
        r = post("notes:admin", delete, **{"content-type": "text/plain"})
        assert r.status_code == 415
        r = post("notes:admin", {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x" * 2_000_000}})
        assert r.status_code == 413


def test_readme_dpop(issuer: Issuer) -> None:
    pytest.importorskip("mcp.server.fastmcp")
    from test_dpop import NONCE_SECRET, DpopKey

    ns = run_snippet("readme_dpop", AUTH_ISSUER=issuer.url, NONCE_SECRET=NONCE_SECRET)
    resource_id = ns["resource_id"]
    prm = "https://api.example.com/.well-known/oauth-protected-resource/notes"
    key = DpopKey()
    token = issuer.token(sub="ann", aud=resource_id, cnf={"jkt": key.jkt})
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}

    with Server(ns["app"]) as srv, httpx.Client(base_url=srv.url) as client:
        assert client.get(prm.removeprefix("https://api.example.com")).json()["dpop_bound_access_tokens_required"]
        r = client.post("/notes", json=call, headers=headers)
        assert r.status_code == 401
        assert r.headers.get_list("www-authenticate")[0].startswith('DPoP algs="ES256 ')
        # The first proof has no nonce: the answer carries one to sign the retry with.
        dpop = {"authorization": f"DPoP {token}", **headers}
        r = client.post("/notes", json=call, headers={**dpop, "dpop": key.proof("POST", resource_id, token)})
        assert r.status_code == 401 and 'error="use_dpop_nonce"' in r.headers["www-authenticate"]
        proof = key.proof("POST", resource_id, token, nonce=r.headers["dpop-nonce"])
        r = client.post("/notes", json=call, headers={**dpop, "dpop": proof})
        assert r.status_code == 200 and f"ann with key {key.jkt}" in r.text
        assert r.headers["dpop-nonce"]
        # The same proof again, and the token without its key's proof, are refused.
        r = client.post("/notes", json=call, headers={**dpop, "dpop": proof})
        assert r.status_code == 401 and r.json()["error"] == "invalid_dpop_proof"
        r = client.post("/notes", json=call, headers={**headers, "authorization": f"Bearer {token}"})
        assert r.status_code == 401
