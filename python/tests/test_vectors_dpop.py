"""tests/vectors/dpop.json through the bearer middleware on a real Starlette app served by
uvicorn, with "now" pinned per case (as core/tests/vectors.rs does)."""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Optional, Tuple

import httpx
import pytest
from conftest import VECTORS
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from support import Server

from mcpauth import MCPAuth, clear_caches
from mcpauth.config import (
    AuthorizationServerMetadata,
    AuthServerConfig,
    AuthServerType,
    DpopConfig,
    IntrospectionConfig,
    ProtectedResourceMetadata,
    ResourceServerConfig,
    ResourceServerMetadata,
)
from mcpauth.exceptions import MCPAuthConfigException

DOC: Dict[str, Any] = json.loads((VECTORS / "dpop.json").read_text())
RESOURCE: str = DOC["resource"]


def python_dpop(core: Dict[str, Any]) -> Dict[str, Any]:
    """A case's settings (the core's shape) in `DpopConfig`'s names."""
    out: Dict[str, Any] = {}
    for k, v in core.items():
        if k == "replay_timeout_ms":
            out["replay_timeout"] = v / 1000
        elif k == "nonce_secret":
            out["nonce"] = True
            out["nonce_secret"] = v
        else:
            out[k] = v
    return out


def mcp_auth_for(jwks_uri: str, **metadata: Any) -> MCPAuth:
    md = AuthorizationServerMetadata(**dict(DOC["metadata"], jwks_uri=jwks_uri))
    return MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(
                resource=RESOURCE,
                authorization_servers=[AuthServerConfig(metadata=md, type=AuthServerType.OIDC)],
                **metadata,
            )
        )
    )


def upstream_server() -> Server:
    """The authorization server's key set and introspection endpoint."""
    answers = {
        c["request"]["authorization"].split(" ", 1)[1]: c["introspection"] for c in DOC["cases"] if "introspection" in c
    }

    async def introspect(request: Request) -> Response:
        form = await request.form()
        return JSONResponse(answers.get(str(form.get("token")), {"active": False}))

    return Server(
        Starlette(
            routes=[
                Route("/jwks", lambda r: JSONResponse(DOC["jwks"])),
                Route("/introspect", introspect, methods=["POST"]),
            ]
        )
    ).start()


def whoami(mcp_auth: MCPAuth) -> Starlette:
    async def handler(request: Request) -> JSONResponse:
        info = mcp_auth.auth_info
        assert info is not None
        return JSONResponse(dict(info.model_dump(), jkt=info.jkt))

    return Starlette(routes=[Route("/{rest:path}", handler, methods=["GET", "POST"])])


def route(case: Dict[str, Any], upstream: Server) -> Tuple[Any, Any]:
    """(ASGI app, the route's native authenticator) of one case, with a replay store of its own."""
    mcp_auth = mcp_auth_for(f"{upstream.url}/jwks")
    dpop: Optional[DpopConfig] = None
    if case["dpop"] is not None:
        dpop = DpopConfig(**python_dpop(case["dpop"]))
        dpop._now = case["now"]
    if "introspection" in case:
        mode: Any = "introspection"
        extra: Dict[str, Any] = {
            "introspection": IntrospectionConfig(
                client_id=DOC["introspection"]["client_id"],
                client_secret=DOC["introspection"]["client_secret"],
                endpoint=f"{upstream.url}/introspect",
            )
        }
    else:
        mode, extra = "jwt", {}
    mw = mcp_auth.bearer_auth_middleware(
        mode,
        resource=RESOURCE,
        audience=RESOURCE,
        required_scopes=case["required_scopes"],
        show_error_details=case["show_error_details"],
        leeway=case["leeway"],
        dpop=dpop,
        **extra,
    )
    return mw(whoami(mcp_auth)), mw._gate._authenticator


class Cases:
    """One server for every case: the `x-case` header picks the case's route, so each request
    keeps the path its proof names."""

    def __init__(self) -> None:
        self.apps: Dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        case = dict(scope["headers"]).get(b"x-case", b"").decode()
        await self.apps[case](scope, receive, send)


def answer(resp: httpx.Response, authenticator: Any, now: float) -> Dict[str, Any]:
    """The response in the vectors' `expect` shape (as core/tests/vectors.rs `dpop_answer`)."""
    nonces = resp.headers.get_list("dpop-nonce")
    if not nonces:
        nonce: Any = False
    elif len(nonces) > 1:
        nonce = "several DPoP-Nonce headers"
    else:
        at = authenticator.dpop_nonce_issued_at(nonces[0])
        nonce = True if at == math.floor(now) else f"a DPoP-Nonce made at {at}, not at {now}"
    if resp.status_code == 200:
        info = resp.json()
        return {
            "status": 200,
            "auth_info": {k: info[k] for k in ("issuer", "subject", "client_id", "scopes", "audience", "jkt")},
            "dpop_nonce": nonce,
        }
    body = resp.json()
    return {
        "status": resp.status_code,
        "body": body,
        "www_authenticate": resp.headers.get_list("www-authenticate"),
        "dpop_nonce": nonce,
        "_order": list(body),
    }


@pytest.mark.parametrize("cold", [False, True], ids=["cached-keys", "cold-caches"])
def test_dpop_vectors(cold: bool) -> None:
    """Every case through the middleware: with the key set cached after the first case (the
    synchronous path) and with the caches cleared before each case (the fetching path)."""
    upstream = upstream_server()
    cases = Cases()
    try:
        authenticators = {}
        for i, case in enumerate(DOC["cases"]):
            cases.apps[str(i)], authenticators[str(i)] = route(case, upstream)
        failures: List[str] = []
        with Server(cases) as app, httpx.Client(base_url=app.url) as client:
            for i, case in enumerate(DOC["cases"]):
                r = case["request"]
                headers: List[Tuple[str, str]] = [("x-case", str(i))]
                if r["authorization"] is not None:
                    headers.append(("authorization", r["authorization"]))
                # Stripped of surrounding whitespace, as every HTTP/1.1 parser strips it (RFC 9110
                # §5.5) and h11 will not send it: the server sees exactly this either way.
                headers += [("dpop", p.strip(" \t")) for p in r["dpop"]]
                if cold:
                    clear_caches()

                def send(r: Dict[str, Any] = r, headers: List[Tuple[str, str]] = headers) -> httpx.Response:
                    return client.request(r["method"], r["path"], headers=headers)

                if case.get("send_twice"):
                    first = send()
                    if first.status_code != 200:
                        failures.append(f"{case['name']}: the first request got {first.status_code} {first.text}")
                        continue
                got = answer(send(), authenticators[str(i)], case["now"])
                order = got.pop("_order", None)
                if got != case["expect"]:
                    failures.append(f"{case['name']}:\n  expected {case['expect']}\n  got      {got}")
                elif order is not None and order != list(case["expect"]["body"]):
                    failures.append(f"{case['name']}: body members in the order {order}")
        assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)
        assert len(DOC["cases"]) >= 100
    finally:
        upstream.stop()


def python_order(doc: Dict[str, Any]) -> List[str]:
    fields = list(ProtectedResourceMetadata.model_fields)
    fields.remove("authorization_servers")
    return [k for k in fields + ["authorization_servers"] if k in doc]


def test_dpop_metadata_vectors() -> None:
    """The PRM document a DPoP route's resource serves: the core's members replace configured ones."""
    for case in DOC["metadata_cases"]:
        mcp_auth = mcp_auth_for(
            "https://issuer.example.com/jwks",
            scopes_supported=["read"],
            dpop_bound_access_tokens_required=True,
            dpop_signing_alg_values_supported=["configured, replaced"],
        )
        router = mcp_auth.resource_metadata_router()
        mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, dpop=python_dpop(case["dpop"]))
        with Server(Starlette(routes=router.routes)) as app, httpx.Client(base_url=app.url) as client:
            resp = client.get(DOC["resource_metadata"].removeprefix("https://mcp.example.com"))
        assert resp.status_code == 200, case["name"]
        assert resp.json() == case["expected"], case["name"]
        assert list(resp.json()) == python_order(case["expected"]), case["name"]


@pytest.mark.parametrize("case", DOC["config_errors"], ids=[c["name"] for c in DOC["config_errors"]])
def test_dpop_config_errors(case: Dict[str, Any]) -> None:
    settings = python_dpop(case["dpop"])
    resource = settings.pop("resource", RESOURCE)
    mcp_auth = mcp_auth_for("https://issuer.example.com/jwks")
    if resource != RESOURCE:
        # The resource comes from the route's `resource`, which resource mode checks first.
        mcp_auth = MCPAuth(
            server=AuthServerConfig(
                metadata=AuthorizationServerMetadata(**dict(DOC["metadata"], jwks_uri="https://issuer.example.com/j")),
                type=AuthServerType.OIDC,
            )
        )
    with pytest.raises(MCPAuthConfigException) as err:
        mcp_auth.bearer_auth_middleware("jwt", resource=resource, dpop=settings)
    assert err.value.code == "invalid_dpop_config", err.value.message
