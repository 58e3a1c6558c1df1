"""mcpauth: OAuth 2.1 resource-server protection for MCP servers (Starlette, FastMCP)."""

from __future__ import annotations

import logging
import warnings
from contextvars import ContextVar
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, Union

from starlette.routing import Route, Router

from ._context import current_auth_info, new_scope_key
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
        self._warned_no_audience: set = set()  # type: ignore[type-arg]
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
        *,
        tool_scopes: Optional[Mapping[str, Sequence[str]]] = None,
        resource_scopes: Optional[Mapping[str, Sequence[str]]] = None,
        prompt_scopes: Optional[Mapping[str, Sequence[str]]] = None,
        method_scopes: Optional[Mapping[str, Sequence[str]]] = None,
        scope_hierarchy: Optional[Mapping[str, Sequence[str]]] = None,
        max_body_bytes: Optional[int] = None,
    ) -> type:
        """A pure ASGI middleware class for `Middleware(...)` that requires a valid bearer token.

        `"jwt"` verifies JWTs of the resource's authorization servers (`require_at_jwt=True`
        accepts only RFC 9068 access tokens, header `typ: at+jwt`); `"introspection"` asks the
        authorization server about each token (RFC 7662) as configured by `introspection=`;
        a callable (sync or async) verifies tokens itself. Either way the middleware checks
        issuer, audience and scopes.

        Scopes per operation, on top of `required_scopes`: `tool_scopes` (tool name -> scopes,
        for `tools/call`), `resource_scopes` (URI or RFC 6570 level-1 template such as
        `notes://{id}` -> scopes, for `resources/read`), `prompt_scopes` (prompt name -> scopes,
        for `prompts/get`) and `method_scopes` (JSON-RPC method -> scopes). A request that lacks
        one is answered 403 `insufficient_scope` naming every scope it needs, before the MCP
        handler runs. `scope_hierarchy` maps a scope to the scopes it implies (for every scope
        check of this route). `max_body_bytes` (default 4 MiB) bounds the JSON-RPC body that is
        inspected; larger POSTs get 413. Invalid rules raise `MCPAuthConfigException` here.
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
        if not audience and (resource or "") not in self._warned_no_audience:
            self._warned_no_audience.add(resource or "")
            logger.warning(
                "Bearer auth for %s has no `audience`: tokens issued for other resources are accepted. "
                "Pass audience=<resource identifier> (RFC 8707).",
                f"resource `{resource}`" if resource else "this server",
            )
        from .middleware.create_bearer_auth import create_bearer_auth

        return create_bearer_auth(
            verify,
            config=BearerAuthConfig(
                issuer=token_verifier.validate_jwt_issuer,
                audience=audience,
                required_scopes=required_scopes,
                show_error_details=show_error_details,
                resource=resource,
                tool_scopes=tool_scopes,
                resource_scopes=resource_scopes,
                prompt_scopes=prompt_scopes,
                method_scopes=method_scopes,
                scope_hierarchy=scope_hierarchy,
                max_body_bytes=max_body_bytes,
            ),
            context_var=self._context_var,
            scope_key=self._scope_key,
        )


__all__ = [
    "MCPAuth",
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
