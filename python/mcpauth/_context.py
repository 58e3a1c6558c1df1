"""Where the AuthInfo of the request being handled lives.

The middleware puts it in three places: this package's context variable (plain Starlette
routes, stateless MCP), the ASGI scope under a key private to each `MCPAuth` (read back
through the MCP SDK's per-message request context, which is the only place that is right
inside a stateful MCP session whose task outlives the request that created it), and
`scope["auth"]` / `scope["user"]` as Starlette and the MCP SDK expect them.
"""

from __future__ import annotations

import itertools
import sys
from contextvars import ContextVar
from typing import Any, Callable, Dict, List, Optional, Tuple

from starlette.authentication import AuthCredentials, BaseUser

from .types import AuthInfo

_keys = itertools.count(1)


def new_scope_key() -> str:
    return f"mcpauth.auth_info.{next(_keys)}"


def _base_user() -> Any:
    try:
        from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser

        return AuthenticatedUser
    except Exception:  # the MCP SDK is optional
        return None


_AuthenticatedUser = _base_user()


_remembering: Dict[type, type] = {}


def access_token(info: AuthInfo, resource: Optional[str], key: Optional[str] = None, base: Any = None) -> Any:
    """The MCP SDK's AccessToken (or `base`, a subclass such as FastMCP's) for an AuthInfo.

    It remembers the AuthInfo and the `MCPAuth` it came from, so `mcp_auth.auth_info` finds
    the caller wherever the SDK's own auth put the token (`scope["user"]`, `get_access_token()`).
    """
    if base is None:
        # In a FastMCP app, FastMCP's own AccessToken: its `get_access_token()` rebuilds any
        # other kind, and FastMCP 3 loses the subject doing so.
        base = getattr(sys.modules.get("fastmcp.server.auth.auth"), "AccessToken", None)
    if base is None:
        from mcp.server.auth.provider import AccessToken

        base = AccessToken
    cls = _remembering.get(base)
    if cls is None:
        cls = _remembering[base] = _remembering_class(base)
    claims = dict(info.claims)
    # The SDK reads the issuer of a session's principal from `claims["iss"]`; introspection
    # answers need not carry it.
    claims.setdefault("iss", info.issuer)
    token = cls(
        token=info.token,
        client_id=info.client_id or "",
        scopes=list(info.scopes),
        expires_at=info.expires_at,
        resource=resource,
        subject=info.subject,
        claims=claims,
    )
    token._mcpauth = (key, info)
    return token


def _remembering_class(base: Any) -> type:
    from pydantic import PrivateAttr

    class Remembering(base):  # type: ignore[misc,valid-type]
        _mcpauth: Optional[Tuple[Optional[str], AuthInfo]] = PrivateAttr(default=None)

    # Reprs and logs name the SDK's class, which is what apps know.
    Remembering.__name__, Remembering.__qualname__ = base.__name__, base.__qualname__
    return Remembering


def remembered_auth_info(token: Any, key: str) -> Optional[AuthInfo]:
    """The AuthInfo an access token of `access_token` carries, if it came from `key`'s MCPAuth."""
    remembered = getattr(token, "_mcpauth", None)
    if isinstance(remembered, tuple) and remembered[0] == key:
        return remembered[1]
    return None


if _AuthenticatedUser is not None:

    class MCPAuthUser(_AuthenticatedUser):  # type: ignore[misc,valid-type]
        """`request.user`: the MCP SDK's AuthenticatedUser, carrying the AuthInfo."""

        def __init__(self, auth_info: AuthInfo, resource: Optional[str] = None, key: Optional[str] = None):
            super().__init__(access_token(auth_info, resource, key))
            self.auth_info = auth_info

        @property
        def display_name(self) -> str:
            return self.auth_info.subject or ""

        @property
        def identity(self) -> str:
            return self.auth_info.subject or ""

else:

    class MCPAuthUser(BaseUser):  # type: ignore[no-redef]
        """`request.user`: a Starlette user carrying the AuthInfo."""

        def __init__(self, auth_info: AuthInfo, resource: Optional[str] = None, key: Optional[str] = None):
            self.auth_info = auth_info
            self.scopes: List[str] = list(auth_info.scopes)

        @property
        def is_authenticated(self) -> bool:
            return True

        @property
        def display_name(self) -> str:
            return self.auth_info.subject or ""

        @property
        def identity(self) -> str:
            return self.auth_info.subject or ""


def _sdk_auth_var() -> Any:
    try:
        from mcp.server.auth.middleware.auth_context import auth_context_var

        return auth_context_var
    except Exception:
        return None


# The MCP SDK's `get_access_token()` reads this variable.
sdk_auth_var = _sdk_auth_var()


def publish(scope: Any, key: str, info: AuthInfo, resource: Optional[str]) -> Any:
    """Puts the AuthInfo where the app looks for it; returns the user for the SDK's variable."""
    scope[key] = info
    scope["auth"] = AuthCredentials(list(info.scopes))
    user = scope["user"] = MCPAuthUser(info, resource, key)
    return user


def _mcp_request_getter() -> Optional[Callable[[], Any]]:
    """How to get the HTTP request of the MCP message being handled, if the SDK is present."""
    try:
        from mcp.server.lowlevel.server import request_ctx
    except Exception:
        return None

    def current() -> Any:
        ctx = request_ctx.get(None)
        return getattr(ctx, "request", None) if ctx is not None else None

    return current


_current_mcp_request: Optional[Callable[[], Any]] = None
_resolved = False


def current_auth_info(key: str, var: "ContextVar[Optional[AuthInfo]]") -> Optional[AuthInfo]:
    global _current_mcp_request, _resolved
    if not _resolved:
        _current_mcp_request = _mcp_request_getter()
        _resolved = True
    if _current_mcp_request is not None:
        request = _current_mcp_request()
        scope = getattr(request, "scope", None)
        if isinstance(scope, dict):
            info = scope.get(key)
            if isinstance(info, AuthInfo):
                return info
            # Authenticated by the SDK's own auth through `MCPAuth.token_verifier()`.
            info = remembered_auth_info(getattr(scope.get("user"), "access_token", None), key)
            if info is not None:
                return info
    if sdk_auth_var is not None:
        info = remembered_auth_info(getattr(sdk_auth_var.get(), "access_token", None), key)
        if info is not None:
            return info
    return var.get()
