"""mcpauth: OAuth 2.1 resource-server protection for MCP servers (Starlette, FastMCP)."""

from __future__ import annotations

import logging
import warnings
from contextvars import ContextVar
from typing import Any, Dict, List, Literal, Optional, Set, Union

from starlette.routing import Route, Router

from . import _core
from ._context import current_auth_info, new_scope_key
from ._errors import from_core
from .auth.authorization_server_handler import AuthorizationServerHandler, AuthServerModeConfig
from .auth.mcp_auth_handler import MCPAuthHandler
from .auth.resource_server_handler import ResourceServerHandler, ResourceServerModeConfig
from .config import AuthServerConfig, AuthServerDiscoveryConfig, IntrospectionConfig
from .exceptions import AuthServerExceptionCode, MCPAuthAuthServerException
from .middleware.create_bearer_auth import BearerAuthConfig
from .types import AuthInfo, ResourceServerConfig, VerifyAccessTokenFunction

logger = logging.getLogger("mcpauth")

_context_var_name = "mcp_auth_context"


def _invalid(description: str) -> MCPAuthAuthServerException:
    return MCPAuthAuthServerException(
        AuthServerExceptionCode.INVALID_SERVER_CONFIG, cause={"error_description": description}
    )


def clear_caches() -> None:
    """Forgets the key sets and discovered metadata cached by this process, so the next
    verification fetches them again (tests; processes that reconfigure tenants)."""
    _core.clear_caches()


class MCPAuth:
    """Protects an MCP server: serves its metadata and guards its routes with bearer tokens.

    Resource mode (`protected_resources=`) serves RFC 9728 metadata for each resource;
    the deprecated legacy mode (`server=`) serves the authorization server's metadata.
    """

    def __init__(
        self,
        server: Optional[Union[AuthServerConfig, AuthServerDiscoveryConfig]] = None,
        protected_resources: Optional[Union[ResourceServerConfig, List[ResourceServerConfig]]] = None,
        context_var: Optional[ContextVar[Optional[AuthInfo]]] = None,
    ):
        if server and protected_resources:
            raise _invalid("Either `server` or `protected_resources` must be provided, but not both.")
        # Each instance gets its own variable, so two MCPAuth never see each other's users.
        self._context_var: ContextVar[Optional[AuthInfo]] = context_var or ContextVar(_context_var_name, default=None)
        self._scope_key = new_scope_key()
        self._warned_audience: Set[str] = set()
        self._handler: MCPAuthHandler
        if server:
            self._handler = AuthorizationServerHandler(AuthServerModeConfig(server))
        elif protected_resources:
            self._handler = ResourceServerHandler(ResourceServerModeConfig(protected_resources))
        else:
            raise _invalid("Either `server` or `protected_resources` must be provided.")

    @property
    def auth_info(self) -> Optional[AuthInfo]:
        """The AuthInfo of the request being handled, or None."""
        return current_auth_info(self._scope_key, self._context_var)

    def metadata_route(self) -> Route:
        """Legacy mode: the route serving the authorization server metadata (deprecated)."""
        warnings.warn(
            "Use resource_metadata_router() instead for resource server mode", DeprecationWarning, stacklevel=2
        )
        if isinstance(self._handler, ResourceServerHandler):
            raise _invalid(
                "`metadata_route` is not available in `resource server` mode. Use `resource_metadata_router()` instead."
            )
        router = self._handler.create_metadata_route()
        route = router.routes[0] if router.routes else None
        if not isinstance(route, Route):
            raise IndexError(
                "No metadata endpoint route was created. Expected the authorization server metadata route to be present."
            )
        return route

    def resource_metadata_router(self) -> Router:
        """Resource mode: a Router serving every resource's protected resource metadata."""
        if isinstance(self._handler, AuthorizationServerHandler):
            raise _invalid("`resource_metadata_router` is not available in `authorization server` mode.")
        return self._handler.create_metadata_route()

    def bearer_auth_middleware(
        self,
        mode_or_verify: Union[Literal["jwt", "introspection"], VerifyAccessTokenFunction],
        audience: Optional[str] = None,
        required_scopes: Optional[List[str]] = None,
        show_error_details: bool = False,
        leeway: float = 60,
        resource: Optional[str] = None,
        require_at_jwt: bool = False,
        introspection: Optional[Union[IntrospectionConfig, Dict[str, Any]]] = None,
        accept_any_audience: bool = False,
    ) -> type:
        """A pure ASGI middleware class for `Middleware(...)` that requires a valid bearer token.

        `"jwt"` verifies JWTs of the resource's authorization servers (`require_at_jwt=True`
        accepts only RFC 9068 access tokens, header `typ: at+jwt`); `"introspection"` asks the
        authorization server about each token (RFC 7662) as configured by `introspection=`;
        a callable (sync or async) verifies tokens itself. Either way the middleware checks
        issuer, audience and scopes.

        In resource mode the token's `aud` must name `resource` unless another `audience` is
        given (RFC 8707; compared with scheme and host case-insensitive and one trailing `/`
        ignored); `accept_any_audience=True` turns the check off, which is logged.
        """
        if isinstance(self._handler, ResourceServerHandler) and not resource:
            raise _invalid(
                "A `resource` must be specified in the `bearer_auth_middleware` configuration when using a `protected_resources` configuration."
            )
        if require_at_jwt and mode_or_verify != "jwt":
            raise ValueError("`require_at_jwt` applies to the 'jwt' mode only.")
        if introspection is not None and mode_or_verify != "introspection":
            raise ValueError("`introspection` applies to the 'introspection' mode only.")
        token_verifier = self._handler.get_token_verifier(resource=resource or "")
        if mode_or_verify == "jwt":
            # Only named when set, so the call stays `create_verify_jwt_function(leeway=...)`.
            extra = {"require_at_jwt": True} if require_at_jwt else {}
            verify: VerifyAccessTokenFunction = token_verifier.create_verify_jwt_function(leeway=leeway, **extra)
        elif mode_or_verify == "introspection":
            if introspection is None:
                raise ValueError(
                    "The 'introspection' mode needs `introspection=IntrospectionConfig(client_id=..., client_secret=...)`."
                )
            config = (
                introspection
                if isinstance(introspection, IntrospectionConfig)
                else IntrospectionConfig.model_validate(introspection)
            )
            verify = token_verifier.create_introspection_function(config, leeway=leeway)
        elif callable(mode_or_verify):
            verify = mode_or_verify
        else:
            raise ValueError("mode_or_verify must be 'jwt' or a callable function that verifies tokens.")
        try:
            expected, from_resource, warning = _core.route_audience(
                isinstance(self._handler, ResourceServerHandler), resource, audience, accept_any_audience
            )
        except _core.CoreError as e:
            raise from_core(e) from None
        if warning and warning not in self._warned_audience:
            self._warned_audience.add(warning)
            logger.warning(warning)
        from .middleware.create_bearer_auth import create_bearer_auth

        return create_bearer_auth(
            verify,
            config=BearerAuthConfig(
                issuer=token_verifier.validate_jwt_issuer,
                audience=expected,
                required_scopes=required_scopes,
                show_error_details=show_error_details,
                resource=resource,
            ),
            context_var=self._context_var,
            scope_key=self._scope_key,
            audience_from_resource=from_resource,
        )


__all__ = [
    "MCPAuth",
    "clear_caches",
    "AuthorizationServerHandler",
    "AuthServerModeConfig",
    "MCPAuthHandler",
    "ResourceServerHandler",
    "ResourceServerModeConfig",
    "BearerAuthConfig",
    "AuthInfo",
    "ResourceServerConfig",
    "VerifyAccessTokenFunction",
    "AuthServerConfig",
    "IntrospectionConfig",
    "MCPAuthAuthServerException",
    "AuthServerExceptionCode",
]
