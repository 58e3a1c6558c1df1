"""Legacy mode: one authorization server, its metadata served by this server."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from ..config import AnyAuthServerConfig, AuthServerConfig
from ..exceptions import AuthServerExceptionCode, MCPAuthAuthServerException
from ..utils import validate_server_config
from ..utils._fetch_server_config import _discovered_server_config
from .mcp_auth_handler import MCPAuthHandler
from .token_verifier import TokenVerifier

logger = logging.getLogger("mcpauth")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "*",
}


class AuthServerModeConfig:
    def __init__(self, server: AnyAuthServerConfig):
        self.server = server


class AuthorizationServerHandler(MCPAuthHandler):
    def __init__(self, config: AuthServerModeConfig):
        logger.warning("The authorization server mode is deprecated. Please use resource server mode instead.")
        self.server = config.server
        if isinstance(self.server, AuthServerConfig):
            result = validate_server_config(self.server)
            if not result.is_valid:
                logger.error("The authorization server configuration is invalid:\n%s\n", result.errors)
                raise MCPAuthAuthServerException(AuthServerExceptionCode.INVALID_SERVER_CONFIG, cause=result)
            if result.warnings:
                logger.warning(
                    "The authorization server configuration has warnings:\n%s",
                    "\n".join(f"- {w}" for w in result.warnings),
                )
        self.token_verifier = TokenVerifier([self.server])

    def create_metadata_route(self) -> Router:
        server = self.server

        async def metadata(request: Request) -> Response:
            if request.method == "OPTIONS":
                return Response(status_code=204, headers=CORS_HEADERS)
            if isinstance(server, AuthServerConfig):
                resolved = server
            else:
                resolved = await _discovered_server_config(server.issuer, server.type)
            return JSONResponse(resolved.metadata.model_dump(exclude_none=True), headers=CORS_HEADERS)

        return Router(routes=[Route("/.well-known/oauth-authorization-server", metadata, methods=["GET", "OPTIONS"])])

    def get_token_verifier(self, resource: str) -> TokenVerifier:
        return self.token_verifier
