"""Resource mode: protected resources, each trusting its authorization servers."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Tuple, Union

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from .. import _core
from .._errors import from_core
from ..config import AuthServerConfig, ProtectedResourceMetadata, ResourceServerConfig, get_issuer
from ..exceptions import AuthServerExceptionCode, MCPAuthAuthServerException, MCPAuthConfigException
from ..utils import validate_server_config
from ..utils._transpile_resource_metadata import transpile_resource_metadata
from .authorization_server_handler import CORS_HEADERS
from .mcp_auth_handler import MCPAuthHandler
from .token_verifier import TokenVerifier

logger = logging.getLogger("mcpauth")


class ResourceServerModeConfig:
    def __init__(self, protected_resources: Union[ResourceServerConfig, List[ResourceServerConfig]]):
        self.protected_resources = protected_resources


class ResourceServerHandler(MCPAuthHandler):
    def __init__(self, config: ResourceServerModeConfig):
        resources = config.protected_resources
        self._resources_configs: List[ResourceServerConfig] = (
            list(resources) if isinstance(resources, list) else [resources]
        )
        self._token_verifiers: Dict[str, TokenVerifier] = {}
        # resource -> (its DPoP settings, the gate of a route with them), for the PRM fields.
        self._dpop: Dict[str, Tuple[Dict[str, Any], Any]] = {}
        self._validate_config()

    def _validate_config(self) -> None:
        try:
            _core.validate_resources(
                [
                    (c.metadata.resource, [get_issuer(s) for s in c.metadata.authorization_servers or []])
                    for c in self._resources_configs
                ]
            )
        except _core.CoreError as e:
            raise from_core(e) from None
        for c in self._resources_configs:
            servers = c.metadata.authorization_servers or []
            for server in servers:
                if isinstance(server, AuthServerConfig):
                    self._validate_auth_server(server)
            self._token_verifiers[c.metadata.resource] = TokenVerifier(servers)

    @staticmethod
    def _validate_auth_server(server: AuthServerConfig) -> None:
        result = validate_server_config(server)
        issuer = server.metadata.issuer
        if not result.is_valid:
            logger.error(
                "The authorization server (issuer: `%s`) configuration is invalid: %s",
                issuer,
                ", ".join(e.code.value for e in result.errors),
            )
            raise MCPAuthAuthServerException(AuthServerExceptionCode.INVALID_SERVER_CONFIG, cause=result)
        if result.warnings:
            logger.warning(
                "The authorization server (issuer: `%s`) configuration has warnings:\n%s",
                issuer,
                "\n".join(f"  - {w.description}" for w in result.warnings),
            )

    def add_dpop_route(self, resource: str, options: Dict[str, Any], gate: Any) -> None:
        """A route of `resource` takes DPoP `options`: its metadata advertises their mode and
        algorithms. The document has one answer for the whole resource, so its routes must
        agree on those (nonces, windows and replay stores may differ)."""
        fields = gate.dpop_metadata({})
        seen = self._dpop.get(resource)
        if seen is not None and seen[0] != fields:
            raise MCPAuthConfigException(
                "invalid_dpop_config",
                f"The resource `{resource}` already has a route with other DPoP settings ({seen[0]} there, "
                f"{fields} here); its protected resource metadata advertises one DPoP mode and algorithm list, "
                "so every route of a resource needs the same `mode` and `algorithms`.",
            )
        if seen is None:
            self._dpop[resource] = (fields, gate)

    def _with_dpop(self, resource: str, body: Dict[str, Any]) -> Dict[str, Any]:
        dpop = self._dpop.get(resource)
        if dpop is None:
            return body
        # Through the model again, so the members keep its order (authorization_servers last).
        fields = dpop[1].dpop_metadata(body)
        return ProtectedResourceMetadata(**fields).model_dump(exclude_none=True)

    def create_metadata_route(self) -> Router:
        routes = []
        for c in self._resources_configs:
            try:
                path = _core.resource_metadata_path(c.metadata.resource)
            except _core.CoreError as e:
                raise from_core(e) from None
            body = transpile_resource_metadata(c.metadata).model_dump(exclude_none=True)

            # The DPoP members when asked for: DPoP routes may be added after the router.
            async def metadata(request: Request, body: dict = body, resource: str = c.metadata.resource) -> Response:  # type: ignore[type-arg]
                if request.method == "OPTIONS":
                    return Response(status_code=204, headers=CORS_HEADERS)
                return JSONResponse(self._with_dpop(resource, body), headers=CORS_HEADERS)

            routes.append(Route(path, metadata, methods=["GET", "OPTIONS"]))
        return Router(routes=routes)

    def get_token_verifier(self, resource: str) -> TokenVerifier:
        verifier = self._token_verifiers.get(resource) if resource else None
        if verifier is None:
            raise MCPAuthAuthServerException(
                AuthServerExceptionCode.INVALID_SERVER_CONFIG,
                cause={
                    "error_description": f"No token verifier found for the specified resource: `{resource}`. "
                    "Please ensure that this resource is correctly configured in the `protectedResources` "
                    "array in the MCPAuth constructor."
                },
            )
        return verifier
