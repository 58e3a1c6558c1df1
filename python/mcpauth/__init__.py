"""mcpauth: OAuth 2.1 resource-server protection for MCP servers (Starlette, FastMCP)."""

from __future__ import annotations

import logging
import warnings
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Dict, List, Literal, Mapping, Optional, Sequence, Set, Tuple, Union

from starlette.routing import Route, Router

from . import _core
from ._context import current_auth_info, new_scope_key
from ._errors import from_core
from .auth.authorization_server_handler import AuthorizationServerHandler, AuthServerModeConfig
from .auth.mcp_auth_handler import MCPAuthHandler
from .auth.resource_server_handler import ResourceServerHandler, ResourceServerModeConfig
from .config import AuthServerConfig, AuthServerDiscoveryConfig, DpopConfig, IntrospectionConfig
from .exceptions import AuthServerExceptionCode, MCPAuthAuthServerException
from .middleware.create_bearer_auth import BearerAuthConfig
from .types import AuthInfo, ResourceServerConfig, VerifyAccessTokenFunction

if TYPE_CHECKING:  # the adapters' frameworks are optional
    from mcp.server.auth.settings import AuthSettings

    from .fastapi import BearerAuth
    from .fastmcp import MCPAuthProvider
    from .sdk import MCPAuthTokenVerifier

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
        *,
        tool_scopes: Optional[Mapping[str, Sequence[str]]] = None,
        resource_scopes: Optional[Mapping[str, Sequence[str]]] = None,
        prompt_scopes: Optional[Mapping[str, Sequence[str]]] = None,
        method_scopes: Optional[Mapping[str, Sequence[str]]] = None,
        scope_hierarchy: Optional[Mapping[str, Sequence[str]]] = None,
        max_body_bytes: Optional[int] = None,
        accept_any_audience: bool = False,
        dpop: Optional[Union[DpopConfig, Dict[str, Any]]] = None,
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

        Scopes per operation, on top of `required_scopes`: `tool_scopes` (tool name -> scopes,
        for `tools/call`), `resource_scopes` (URI or RFC 6570 level-1 template such as
        `notes://{id}` -> scopes, for `resources/read`), `prompt_scopes` (prompt name -> scopes,
        for `prompts/get`) and `method_scopes` (JSON-RPC method -> scopes). A request that lacks
        one is answered 403 `insufficient_scope` naming every scope it needs, before the MCP
        handler runs. `scope_hierarchy` maps a scope to the scopes it implies (for every scope
        check of this route). `max_body_bytes` (default 4 MiB) bounds the JSON-RPC body that is
        inspected; larger POSTs get 413. Invalid rules raise `MCPAuthConfigException` here.

        `dpop` (a `DpopConfig` or a dict of its fields) turns on DPoP (RFC 9449) for this route:
        `Authorization: DPoP <token>` with a `DPoP` proof header, the token bound to the proof's
        key (`cnf.jkt`, then `AuthInfo.jkt`). Proofs must name `resource`'s origin plus the
        request path, so a proxy in front needs no `Host` trust. The resource's protected
        resource metadata then advertises `dpop_signing_alg_values_supported` and
        `dpop_bound_access_tokens_required`. Without `dpop`, DPoP-bound tokens are refused.
        """
        verify, config = self._route_auth(
            "bearer_auth_middleware",
            mode_or_verify,
            audience=audience,
            required_scopes=required_scopes,
            show_error_details=show_error_details,
            leeway=leeway,
            resource=resource,
            require_at_jwt=require_at_jwt,
            introspection=introspection,
            tool_scopes=tool_scopes,
            resource_scopes=resource_scopes,
            prompt_scopes=prompt_scopes,
            method_scopes=method_scopes,
            scope_hierarchy=scope_hierarchy,
            max_body_bytes=max_body_bytes,
            accept_any_audience=accept_any_audience,
        )
        from .middleware.create_bearer_auth import create_bearer_auth, dpop_options

        if dpop is not None:
            config.dpop, config._dpop_now = dpop_options(dpop, resource)
        middleware = create_bearer_auth(verify, config=config, context_var=self._context_var, scope_key=self._scope_key)
        if config.dpop is not None and isinstance(self._handler, ResourceServerHandler) and resource:
            self._handler.add_dpop_route(resource, config.dpop, middleware._gate)  # type: ignore[attr-defined]
        return middleware

    def token_verifier(
        self,
        mode_or_verify: Union[Literal["jwt", "introspection"], VerifyAccessTokenFunction] = "jwt",
        *,
        resource: Optional[str] = None,
        audience: Optional[str] = None,
        leeway: float = 60,
        require_at_jwt: bool = False,
        introspection: Optional[Union[IntrospectionConfig, Dict[str, Any]]] = None,
        accept_any_audience: bool = False,
    ) -> "MCPAuthTokenVerifier":
        """An `mcp.server.auth.provider.TokenVerifier` for the MCP SDK's own auth:
        `FastMCP(..., token_verifier=mcp_auth.token_verifier(resource=...), auth=mcp_auth.auth_settings(...))`.

        Tokens are verified as `bearer_auth_middleware` verifies them (same modes, issuer and
        audience checks); scopes are the SDK's, from `auth_settings(required_scopes=...)`.
        """
        from .sdk import MCPAuthTokenVerifier

        return MCPAuthTokenVerifier(
            self._gate(
                "token_verifier",
                mode_or_verify,
                audience=audience,
                leeway=leeway,
                resource=resource,
                require_at_jwt=require_at_jwt,
                introspection=introspection,
                accept_any_audience=accept_any_audience,
            ),
            resource,
            audience,
            self._scope_key,
        )

    def auth_settings(
        self,
        resource: Optional[str] = None,
        *,
        required_scopes: Optional[List[str]] = None,
        issuer: Optional[str] = None,
        validate_token_resource: bool = True,
        **settings: Any,
    ) -> "AuthSettings":
        """The MCP SDK's `AuthSettings` matching `token_verifier(resource=...)`: `issuer_url`
        is the resource's authorization server (`issuer` picks one when it has several, as
        the SDK's metadata names only one), `resource_server_url` the resource identifier,
        `required_scopes` what every request needs (the SDK answers 403 without them), and
        `validate_token_resource` on, so tokens issued for another resource are refused.
        Other `AuthSettings` fields pass through `settings`.
        """
        from mcp.server.auth.settings import AuthSettings

        issuers = self._verifier_for("auth_settings", resource).issuers
        if issuer is None:
            if len(issuers) != 1:
                raise _invalid(
                    f"The resource trusts {len(issuers)} authorization servers, and the MCP SDK's metadata "
                    "names one: pass `issuer=`, or serve `resource_metadata_router()` with `bearer_auth_middleware`."
                )
            issuer = issuers[0]
        elif issuer not in issuers:
            raise _invalid(f"`{issuer}` is not an authorization server of this resource.")
        fields: Dict[str, Any] = {
            "issuer_url": issuer,
            "resource_server_url": resource,
            "required_scopes": list(required_scopes) if required_scopes else None,
        }
        if resource and "validate_token_resource" in AuthSettings.model_fields:
            fields["validate_token_resource"] = validate_token_resource
        fields.update(settings)
        return AuthSettings(**fields)

    def fastmcp_auth(
        self,
        mode_or_verify: Union[Literal["jwt", "introspection"], VerifyAccessTokenFunction] = "jwt",
        *,
        resource: str,
        audience: Optional[str] = None,
        required_scopes: Optional[List[str]] = None,
        leeway: float = 60,
        require_at_jwt: bool = False,
        introspection: Optional[Union[IntrospectionConfig, Dict[str, Any]]] = None,
        accept_any_audience: bool = False,
    ) -> "MCPAuthProvider":
        """A PrefectHQ FastMCP auth provider (`pip install "mcpauth[fastmcp]"`):
        `FastMCP("name", auth=mcp_auth.fastmcp_auth(resource=...))` serves this resource's
        protected resource metadata and verifies tokens through the core, as
        `bearer_auth_middleware` does; FastMCP answers a shortfall of `required_scopes` with
        403, and its `require_scopes` checks read the token's scopes.
        """
        from .fastmcp import MCPAuthProvider, MCPAuthTokenVerifier

        verifier = self.token_verifier(
            mode_or_verify,
            resource=resource,
            audience=audience,
            leeway=leeway,
            require_at_jwt=require_at_jwt,
            introspection=introspection,
            accept_any_audience=accept_any_audience,
        )
        return MCPAuthProvider(
            MCPAuthTokenVerifier(verifier, required_scopes=required_scopes),
            resource=resource,
            authorization_servers=self._verifier_for("fastmcp_auth", resource).issuers,
            metadata_route=self._resource_metadata_route(resource),
        )

    def require(
        self,
        mode_or_verify: Union[Literal["jwt", "introspection"], VerifyAccessTokenFunction] = "jwt",
        *,
        resource: Optional[str] = None,
        audience: Optional[str] = None,
        required_scopes: Optional[List[str]] = None,
        scope_hierarchy: Optional[Mapping[str, Sequence[str]]] = None,
        show_error_details: bool = False,
        leeway: float = 60,
        require_at_jwt: bool = False,
        introspection: Optional[Union[IntrospectionConfig, Dict[str, Any]]] = None,
        accept_any_audience: bool = False,
    ) -> "BearerAuth":
        """A FastAPI dependency: `auth: AuthInfo = Depends(mcp_auth.require(resource=..., required_scopes=[...]))`.

        It decides as `bearer_auth_middleware` does and gives the AuthInfo; a refused request
        gets an `HTTPException` with the middleware's status and `WWW-Authenticate` challenge
        (its body, under FastAPI's `detail`). In OpenAPI it is an HTTP bearer scheme.
        """
        from .fastapi import BearerAuth

        gate = self._gate(
            "require",
            mode_or_verify,
            audience=audience,
            required_scopes=required_scopes,
            show_error_details=show_error_details,
            leeway=leeway,
            resource=resource,
            require_at_jwt=require_at_jwt,
            introspection=introspection,
            scope_hierarchy=scope_hierarchy,
            accept_any_audience=accept_any_audience,
        )
        return BearerAuth(gate)

    def _verifier_for(self, where: str, resource: Optional[str]) -> Any:
        self._check_resource(where, resource)
        return self._handler.get_token_verifier(resource=resource or "")

    def _check_resource(self, where: str, resource: Optional[str]) -> None:
        if isinstance(self._handler, ResourceServerHandler) and not resource:
            raise _invalid(
                f"A `resource` must be specified in the `{where}` configuration when using a `protected_resources` configuration."
            )

    def _resource_metadata_route(self, resource: str) -> Route:
        path = _core.resource_metadata_path(resource)
        for route in self.resource_metadata_router().routes:
            if isinstance(route, Route) and route.path == path:
                return route
        raise _invalid(f"No protected resource metadata for `{resource}`.")

    def _gate(self, where: str, mode_or_verify: Any, **options: Any) -> Any:
        from .middleware.create_bearer_auth import _Gate

        return _Gate(*self._route_auth(where, mode_or_verify, **options))

    def _route_auth(
        self,
        where: str,
        mode_or_verify: Any,
        *,
        audience: Optional[str] = None,
        required_scopes: Optional[List[str]] = None,
        show_error_details: bool = False,
        leeway: float = 60,
        resource: Optional[str] = None,
        require_at_jwt: bool = False,
        introspection: Optional[Union[IntrospectionConfig, Dict[str, Any]]] = None,
        accept_any_audience: bool = False,
        **operations: Any,
    ) -> Tuple[VerifyAccessTokenFunction, BearerAuthConfig]:
        """The verify function and configuration of one protected route, whichever door
        (middleware, SDK verifier, FastMCP provider, FastAPI dependency) it is built for."""
        self._check_resource(where, resource)
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
        route = BearerAuthConfig(
            issuer=token_verifier.validate_jwt_issuer,
            audience=expected,
            required_scopes=required_scopes,
            show_error_details=show_error_details,
            resource=resource,
            **operations,
        )
        route._audience_from_resource = from_resource
        return verify, route


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
    "DpopConfig",
    "MCPAuthAuthServerException",
    "AuthServerExceptionCode",
]
