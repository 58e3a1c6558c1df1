"""The shared vectors (tests/vectors), through the public API and real servers."""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, List

import httpx
import pytest
from conftest import VECTORS
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from support import Server, check_answer, check_auth_info

from mcpauth import MCPAuth
from mcpauth.config import (
    AuthorizationServerMetadata,
    AuthServerConfig,
    AuthServerDiscoveryConfig,
    AuthServerType,
    ProtectedResourceMetadata,
    ResourceServerConfig,
    ResourceServerMetadata,
)
from mcpauth.exceptions import (
    MCPAuthAuthServerException,
    MCPAuthBearerAuthException,
    MCPAuthBearerAuthExceptionDetails,
    MCPAuthTokenVerificationException,
)
from mcpauth.types import AuthInfo
from mcpauth.utils import create_resource_metadata_endpoint, transpile_resource_metadata, validate_server_config
from mcpauth.utils._fetch_server_config import get_oauth_well_known_url, get_oidc_well_known_url


def load(name: str) -> Dict[str, Any]:
    return json.loads((VECTORS / name).read_text())


def whoami_app(mcp_auth: MCPAuth) -> Starlette:
    async def whoami(request: Request) -> JSONResponse:
        info = mcp_auth.auth_info
        assert info is not None and request.scope["user"].auth_info is info
        return JSONResponse(info.model_dump())

    return Starlette(routes=[Route("/", whoami)])


def _oidc_mcp_auth(resource: str, servers_metadata: List[Dict[str, Any]]) -> MCPAuth:
    """An MCPAuth protecting `resource` with one OIDC authorization server per metadata dict."""
    return MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(
                resource=resource,
                authorization_servers=[
                    AuthServerConfig(metadata=AuthorizationServerMetadata(**m), type=AuthServerType.OIDC)
                    for m in servers_metadata
                ],
            )
        )
    )


@pytest.mark.parametrize("name", ["tokens.json", "providers.json"])
def test_tokens(name: str) -> None:
    v = load(name)
    jwks_server = Server(Starlette(routes=[Route("/jwks", lambda r: JSONResponse(v["jwks"]))])).start()
    try:
        metadata = dict(v["metadata"], jwks_uri=f"{jwks_server.url}/jwks")
        # Further trusted authorization servers, when the file names them, share the key set.
        more = ([v["second_issuer"]] if "second_issuer" in v else []) + v.get("more_issuers", [])
        issuers_metadata = [metadata] + [dict(metadata, issuer=issuer) for issuer in more]
        mcp_auth = _oidc_mcp_auth(v["resource"], issuers_metadata)
        routes: List[Any] = []
        for i, case in enumerate(v["cases"]):
            mw = mcp_auth.bearer_auth_middleware(
                "jwt",
                resource=v["resource"],
                audience=case["audience"],
                required_scopes=case["required_scopes"],
                show_error_details=case["show_error_details"],
                leeway=case["leeway"],
                require_at_jwt=case.get("require_at_jwt", False),
                accept_any_audience=case.get("accept_any_audience", False),
            )
            routes.append(Mount(f"/c{i}", app=whoami_app(mcp_auth), middleware=[Middleware(mw)]))
        with Server(Starlette(routes=routes)) as app, httpx.Client(base_url=app.url) as client:
            for i, case in enumerate(v["cases"]):
                headers = {} if case["header"] is None else {"Authorization": case["header"]}
                expect = case["expect"]
                # Twice: the second answer may come from the verifier's cache of verified
                # tokens, and must be the same.
                for attempt in ("first", "again"):
                    _check_jwt_answer(
                        client.get(f"/c{i}/", headers=headers), expect, f"case {case['name']!r} ({attempt})"
                    )
    finally:
        jwks_server.stop()


def _check_jwt_answer(resp: Any, expect: Dict[str, Any], label: str) -> None:
    """A JWT-mode route's answer against a vector's `expect`; `label` names the case or step."""
    try:
        check_answer(resp, expect)
        if expect["status"] == 200:
            check_auth_info(resp.json(), expect["auth_info"])
    except AssertionError as e:
        raise AssertionError(f"{label}: {e}") from e


def test_key_rotation() -> None:
    """key_rotation.json: one route, the steps in order, the key set served changing between them."""
    v = load("key_rotation.json")
    # The key set the JWKS URL answers with; a step's `serve` replaces it from that step on.
    serving = {"set": v["steps"][0]["serve"]}
    # A path of its own: the key-set cache is process-wide, keyed by URL, and ports are reused.
    path = "/rotation/jwks"
    jwks_server = Server(Starlette(routes=[Route(path, lambda r: JSONResponse(v["key_sets"][serving["set"]]))])).start()
    try:
        metadata = dict(v["metadata"], jwks_uri=f"{jwks_server.url}{path}")
        mcp_auth = _oidc_mcp_auth(v["resource"], [metadata])
        # Resource-server defaults: the audience is the resource, no required scopes, default leeway.
        mw = mcp_auth.bearer_auth_middleware("jwt", resource=v["resource"], show_error_details=v["show_error_details"])
        routes = [Mount("/mcp", app=whoami_app(mcp_auth), middleware=[Middleware(mw)])]
        with Server(Starlette(routes=routes)) as app, httpx.Client(base_url=app.url) as client:
            for step in v["steps"]:
                if step["serve"] is not None:
                    serving["set"] = step["serve"]
                headers = {} if step["header"] is None else {"Authorization": step["header"]}
                _check_jwt_answer(client.get("/mcp/", headers=headers), step["expect"], f"step {step['name']!r}")
    finally:
        jwks_server.stop()


def _raised(spec: Dict[str, Any]) -> Exception:
    kind, code = spec["kind"], spec["code"]
    if kind == "token_verification":
        return MCPAuthTokenVerificationException(code)
    if kind == "auth_server":
        return MCPAuthAuthServerException(code)
    details = {k: spec[k] for k in ("missing_scopes", "expected", "actual") if k in spec}
    return MCPAuthBearerAuthException(code, MCPAuthBearerAuthExceptionDetails(**details) if details else None)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_custom_verifiers(asynchronous: bool) -> None:
    v = load("custom_verifiers.json")
    metadata = AuthorizationServerMetadata(
        issuer=v["issuer"],
        authorization_endpoint=f"{v['issuer']}/a",
        token_endpoint=f"{v['issuer']}/t",
        response_types_supported=["code"],
        code_challenge_methods_supported=["S256"],
        registration_endpoint=f"{v['issuer']}/r",
    )
    mcp_auth = MCPAuth(
        protected_resources=[
            ResourceServerConfig(
                metadata=ResourceServerMetadata(
                    resource=v["resource"],
                    authorization_servers=[AuthServerConfig(metadata=metadata, type=AuthServerType.OAUTH)],
                )
            )
        ]
    )

    def verifier(case: Dict[str, Any]) -> Any:
        def outcome(token: str) -> AuthInfo:
            assert token == "any-token"
            if "raise" in case:
                raise _raised(case["raise"])
            return AuthInfo(token=token, claims={}, **case["return"])

        async def async_outcome(token: str) -> AuthInfo:
            return outcome(token)

        return async_outcome if asynchronous else outcome

    routes = []
    for i, case in enumerate(v["cases"]):
        mw = mcp_auth.bearer_auth_middleware(
            verifier(case),
            resource=v["resource"],
            # A case's own `audience` (None: none configured) replaces the top level's.
            audience=case.get("audience", v["audience"]),
            accept_any_audience=case.get("accept_any_audience", False),
            required_scopes=case.get("required_scopes"),
            show_error_details=case.get("show_error_details", False),
        )
        routes.append(Mount(f"/c{i}", app=whoami_app(mcp_auth), middleware=[Middleware(mw)]))
    with Server(Starlette(routes=routes)) as app, httpx.Client(base_url=app.url) as client:
        for i, case in enumerate(v["cases"]):
            resp = client.get(f"/c{i}/", headers={"Authorization": "Bearer any-token"})
            try:
                check_answer(resp, case["expect"])
            except AssertionError as e:
                raise AssertionError(f"case {case['name']!r}: {e}") from e


def test_well_known_urls() -> None:
    v = load("well_known_urls.json")
    for case in v["cases"]:
        assert get_oauth_well_known_url(case["issuer"]) == case["oauth"], case
        assert get_oidc_well_known_url(case["issuer"]) == case["oidc"], case
    for case in v["errors"]:
        with pytest.raises(Exception) as info:
            get_oidc_well_known_url(case["issuer"])
        assert case["issuer"] in str(info.value.message if hasattr(info.value, "message") else info.value)


def python_order(doc: Dict[str, Any]) -> List[str]:
    """Upstream mcpauth serves PRM keys in model field order (authorization_servers last)."""
    fields = list(ProtectedResourceMetadata.model_fields)
    fields.remove("authorization_servers")
    return [k for k in fields + ["authorization_servers"] if k in doc]


def test_resource_metadata_urls_and_documents() -> None:
    v = load("resource_metadata.json")
    for case in v["urls"]:
        assert create_resource_metadata_endpoint(case["resource"]) == case["url"]
    for case in v["url_errors"]:
        with pytest.raises(TypeError, match="Invalid resource identifier URI"):
            create_resource_metadata_endpoint(case["resource"])

    configs = []
    for doc in v["documents"]:
        servers = [
            AuthServerConfig(
                metadata=AuthorizationServerMetadata(
                    issuer=iss,
                    authorization_endpoint=f"{iss}/a",
                    token_endpoint=f"{iss}/t",
                    response_types_supported=["code"],
                    code_challenge_methods_supported=["S256"],
                    registration_endpoint=f"{iss}/r",
                ),
                type=AuthServerType.OIDC,
            )
            for iss in doc["issuers"]
        ]
        meta = ResourceServerMetadata(**copy.deepcopy(doc["metadata"]), authorization_servers=servers)
        got = transpile_resource_metadata(meta).model_dump(exclude_none=True)
        assert got == doc["expected"] and list(got) == python_order(doc["expected"])
        configs.append(ResourceServerConfig(metadata=meta))

    # Served over HTTP: one MCPAuth per document (they may share a resource identifier).
    paths = {c["resource"]: c["path"] for c in v["urls"]}
    for doc, config in zip(v["documents"], configs, strict=True):
        router = MCPAuth(protected_resources=config).resource_metadata_router()
        with Server(Starlette(routes=router.routes)) as app, httpx.Client(base_url=app.url) as client:
            path = paths.get(doc["metadata"]["resource"]) or [r.path for r in router.routes][0]
            resp = client.get(path)
            assert resp.status_code == 200
            assert resp.json() == doc["expected"] and list(resp.json()) == python_order(doc["expected"])
            assert resp.headers["access-control-allow-origin"] == "*"


def test_server_metadata_validation() -> None:
    v = load("server_metadata_validation.json")
    for case in v["cases"]:
        if case.get("schema_error"):
            with pytest.raises(ValidationError):
                AuthorizationServerMetadata(**case["metadata"])
            continue
        result = validate_server_config(
            AuthServerConfig(metadata=AuthorizationServerMetadata(**case["metadata"]), type=AuthServerType.OAUTH)
        )
        assert result.is_valid == case["is_valid"], case["name"]
        assert [e.code.value for e in result.errors] == case["errors"], case["name"]
        assert [w.code.value for w in result.warnings] == case["warnings"], case["name"]


def test_resource_config_errors() -> None:
    for case in load("resource_metadata.json").get("config_errors", []):
        resources = [
            ResourceServerConfig(
                metadata=ResourceServerMetadata(
                    resource=r["resource"],
                    authorization_servers=[AuthServerDiscoveryConfig(issuer=i) for i in r["issuers"]],
                )
            )
            for r in case["resources"]
        ]
        with pytest.raises(MCPAuthAuthServerException) as err:
            MCPAuth(protected_resources=resources)
        assert err.value.code == "invalid_server_config"
        assert err.value.cause == {"error_description": case["python"]}
