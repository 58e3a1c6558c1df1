"""mcpauth behind the official MCP SDK's own auth (`FastMCP` of mcp 1.x, `MCPServer` of mcp 2.x).

    mcp = FastMCP("notes", token_verifier=mcp_auth.token_verifier(resource=rid, audience=rid),
                  auth=mcp_auth.auth_settings(rid, required_scopes=["read"]))

The SDK then serves its protected resource metadata route and runs its own middleware, which
asks our verifier about each bearer token: verification, issuer and audience are decided by
the core exactly as `bearer_auth_middleware` decides them. What the SDK's path cannot say
(per-operation 403s, several authorization servers in the metadata, DPoP challenges, the
RFC 6750 answer to a request without credentials) needs `bearer_auth_middleware` instead.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Optional, Union

from . import _core
from ._context import access_token
from .middleware.create_bearer_auth import _Gate, _log_failure
from .types import AuthInfo

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken

logger = logging.getLogger("mcpauth")


def unavailable(failure: Any) -> bool:
    """Whether the token could not be judged at all (keys, metadata or the introspection
    endpoint unreachable), as opposed to being refused."""
    return bool(failure.status >= 500 or failure.code == "token_verification_failed")


def log_failure(failure: Any) -> None:
    # The middleware can still tell its client (a 401 or 500 with a reason); a verifier's
    # caller learns only "no", so an outage must stand out in the log.
    if unavailable(failure):
        logger.error("Bearer token could not be verified: %s", failure.reason)
    else:
        _log_failure(failure)


class MCPAuthTokenVerifier:
    """An `mcp.server.auth.provider.TokenVerifier`: `await verify_token(token)` is the SDK's
    `AccessToken` of a token the core accepts, and None for any other.

    The SDK's protocol has only None, so a token that could not be judged (the authorization
    server's keys unreachable, say) is None too, and is logged at error level; refused
    tokens are logged as the middleware logs them. Scopes are left to the SDK
    (`AuthSettings.required_scopes`), so that a shortfall is its 403, not a 401.

    The `AccessToken` has `client_id` ("" when the token names none), `scopes`, `expires_at`
    (None for a token without `exp`, which the SDK then never expires), `subject`, `claims`
    (with `iss`) and `resource`: the token's audience for this resource (see `resource_of`),
    which `AuthSettings(validate_token_resource=True)` compares with `resource_server_url`.
    """

    def __init__(self, gate: _Gate, resource: Optional[str], audience: Optional[str], scope_key: str):
        self._gate = gate
        self.resource = resource
        self.audience = audience
        self._key = scope_key

    async def verify_token(self, token: str) -> Optional["AccessToken"]:
        result = await self.check(token)
        if isinstance(result, _core.Failure):
            log_failure(result)
            return None
        return self.access_token(result)

    async def check(self, token: str) -> Union[AuthInfo, Any]:
        """The AuthInfo of `token`, or the `_core.Failure` the middleware would answer with."""
        # The SDK hands over what followed "Bearer " in the header; the core reads it back as
        # that header, so a malformed one is refused exactly as the middleware refuses it.
        return await self._gate.header(f"Bearer {token}")

    def access_token(self, info: AuthInfo, base: Any = None) -> Any:
        """The SDK's AccessToken (or `base`, a subclass of it) for an accepted token."""
        return access_token(info, self.resource_of(info), self._key, base)

    def resource_of(self, info: AuthInfo) -> Optional[str]:
        """The audience entry that names this resource: the configured `audience` or the
        resource identifier when the token lists it, else its only audience, else None."""
        aud = info.audience
        if isinstance(aud, str):
            return aud
        if not aud:
            return None
        for wanted in (self.audience, self.resource):
            if wanted and wanted in aud:
                return wanted
        return aud[0] if len(aud) == 1 else None


__all__ = ["MCPAuthTokenVerifier"]
