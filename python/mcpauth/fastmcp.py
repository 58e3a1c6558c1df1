"""mcpauth as PrefectHQ FastMCP's auth (`pip install "mcpauth[fastmcp]"`, FastMCP 3.4+ and 4.x).

    mcp = FastMCP("notes", auth=mcp_auth.fastmcp_auth(resource=rid, audience=rid, required_scopes=["read"]))

FastMCP serves this resource's protected resource metadata (ours, with every authorization
server and field of the configuration) and asks the core about each bearer token, as
`bearer_auth_middleware` would. FastMCP's own component checks (`@mcp.tool(auth=require_scopes(...))`)
read the token's scopes, but answer a shortfall inside a 200 response; for a real
`403 insufficient_scope` per tool, put `bearer_auth_middleware(..., tool_scopes=...)` in front
of `mcp.http_app()`.
"""

from __future__ import annotations

from typing import Any, List, Optional, Type
from urllib.parse import urlsplit

try:
    from fastmcp.server.auth import AccessToken, RemoteAuthProvider, TokenVerifier
except ImportError as e:  # an optional dependency
    raise ImportError('mcpauth.fastmcp needs FastMCP: pip install "mcpauth[fastmcp]"') from e
from pydantic import AnyHttpUrl
from starlette.routing import Route

from . import _core
from .sdk import MCPAuthTokenVerifier as _SdkVerifier
from .sdk import log_failure, unavailable

_Unavailable: Optional[Type[Exception]]
try:
    from fastmcp.server.auth import TokenVerificationError

    _Unavailable = TokenVerificationError  # type: ignore[assignment]  # FastMCP 3 lacks it
except ImportError:  # FastMCP 3.x: a verifier can only say "not valid"
    _Unavailable = None


class MCPAuthTokenVerifier(TokenVerifier):  # type: ignore[misc]
    """FastMCP's `TokenVerifier` (no routes of its own; fits `MultiAuth(verifiers=[...])`)
    deciding through the core. A token the core could not judge (keys unreachable) raises
    FastMCP 4's `TokenVerificationError`, which FastMCP answers as a server error; FastMCP 3
    has no such error, so there it is None and an error in the log."""

    def __init__(self, verifier: _SdkVerifier, required_scopes: Optional[List[str]] = None):
        super().__init__(required_scopes=list(required_scopes) if required_scopes else None)
        self._verifier = verifier

    async def verify_token(self, token: str) -> Optional[AccessToken]:
        result = await self._verifier.check(token)
        if isinstance(result, _core.Failure):
            log_failure(result)
            if _Unavailable is not None and unavailable(result):
                raise _Unavailable(result.reason)
            return None
        return self._verifier.access_token(result, AccessToken)


class MCPAuthProvider(RemoteAuthProvider):  # type: ignore[misc]
    """FastMCP's `RemoteAuthProvider` for one mcpauth resource: serves its protected resource
    metadata and points FastMCP's 401 challenges at it."""

    def __init__(
        self,
        token_verifier: MCPAuthTokenVerifier,
        *,
        resource: str,
        authorization_servers: List[str],
        metadata_route: Route,
    ):
        parts = urlsplit(resource)
        super().__init__(
            token_verifier=token_verifier,
            authorization_servers=[AnyHttpUrl(s) for s in authorization_servers],
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
        self.resource = resource
        self._metadata_route = metadata_route

    def _get_resource_url(self, path: Optional[str] = None) -> Any:
        # FastMCP derives the metadata URL of its challenges from this; the resource is the
        # configured identifier, wherever FastMCP mounts its endpoint.
        return AnyHttpUrl(self.resource)

    def get_routes(self, mcp_path: Optional[str] = None) -> List[Route]:
        self.set_mcp_path(mcp_path)
        return [self._metadata_route]


__all__ = ["MCPAuthProvider", "MCPAuthTokenVerifier"]
