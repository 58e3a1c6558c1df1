"""Resource mode: protected resources, each trusting its authorization servers."""

from __future__ import annotations

import logging
from typing import Dict, List, Union

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from .. import _core
from .._errors import from_core
from ..config import AuthServerConfig, ResourceServerConfig, get_issuer
from ..exceptions import AuthServerExceptionCode, MCPAuthAuthServerException
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

    def create_metadata_route(self) -> Router:
        routes = []
        for c in self._resources_configs:
            try:
                path = _core.resource_metadata_path(c.metadata.resource)
            except _core.CoreError as e:
                raise from_core(e) from None
            body = transpile_resource_metadata(c.metadata).model_dump(exclude_none=True)

            async def metadata(request: Request, body: dict = body) -> Response:  # type: ignore[type-arg]
                if request.method == "OPTIONS":
                    return Response(status_code=204, headers=CORS_HEADERS)
                return JSONResponse(body, headers=CORS_HEADERS)

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
