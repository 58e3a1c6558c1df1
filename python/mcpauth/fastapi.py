"""mcpauth for FastAPI routes next to the MCP endpoint of the same app.

    @app.get("/api/notes")
    async def notes(auth: AuthInfo = Depends(mcp_auth.require(resource=rid, audience=rid, required_scopes=["read"]))):
        ...

The dependency decides as `bearer_auth_middleware` decides (one core call) and refuses with
FastAPI's own mechanism, an `HTTPException` carrying the middleware's status and
`WWW-Authenticate` challenge; FastAPI puts the middleware's JSON body under `detail`.
`app.add_exception_handler(MCPAuthHTTPException, mcpauth_exception_handler)` answers with
that body unwrapped, byte for byte what the middleware sends.
"""

from __future__ import annotations

import json
from typing import Any, Optional

try:
    from fastapi import HTTPException, Request
    from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
    from fastapi.security.base import SecurityBase
except ImportError as e:  # an optional dependency
    raise ImportError("mcpauth.fastapi needs FastAPI: pip install fastapi") from e
from starlette.responses import Response

from . import _core
from .middleware.create_bearer_auth import _authorization, _Gate, _log_failure
from .types import AuthInfo


class MCPAuthHTTPException(HTTPException):
    """A refused request: `status_code`, `headers` (the challenge), `detail` (the JSON body as
    a dict) and `body` (the same JSON, as the middleware sends it)."""

    def __init__(self, failure: Any):
        self.body: bytes = failure.body
        headers = {"WWW-Authenticate": failure.www_authenticate} if failure.www_authenticate else None
        super().__init__(status_code=failure.status, detail=json.loads(failure.body), headers=headers)


async def mcpauth_exception_handler(request: Request, exc: Exception) -> Response:
    """An exception handler answering `MCPAuthHTTPException` with the middleware's own body."""
    assert isinstance(exc, MCPAuthHTTPException)
    return Response(exc.body, status_code=exc.status_code, headers=exc.headers, media_type="application/json")


class BearerAuth(SecurityBase):  # type: ignore[misc]
    """The dependency `MCPAuth.require()` returns: the caller's `AuthInfo`, or
    `MCPAuthHTTPException`. As a `SecurityBase` it shows in OpenAPI as HTTP bearer auth."""

    def __init__(self, gate: _Gate, scheme_name: Optional[str] = None, description: Optional[str] = None):
        self.model = HTTPBearerModel(description=description)
        self.scheme_name = scheme_name or "MCPAuthBearer"
        self._gate = gate

    async def __call__(self, request: Request) -> AuthInfo:
        result = await self._gate.header(_authorization(request.scope))
        if isinstance(result, _core.Failure):
            _log_failure(result)
            raise MCPAuthHTTPException(result)
        return result  # type: ignore[no-any-return]


__all__ = ["BearerAuth", "MCPAuthHTTPException", "mcpauth_exception_handler"]
