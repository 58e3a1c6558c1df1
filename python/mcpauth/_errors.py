"""The one place where native errors become mcpauth exceptions, and back."""

from __future__ import annotations

import json
from typing import Any, Optional, Tuple

from . import _core
from .exceptions import (
    MCPAuthAuthServerException,
    MCPAuthBearerAuthException,
    MCPAuthBearerAuthExceptionDetails,
    MCPAuthConfigException,
    MCPAuthException,
    MCPAuthTokenVerificationException,
    TokenVerificationCause,
    _jsonable_cause,
)

_KINDS = {
    MCPAuthAuthServerException: "auth_server",
    MCPAuthBearerAuthException: "bearer_auth",
    MCPAuthTokenVerificationException: "token_verification",
    MCPAuthConfigException: "config",
}


def from_core(err: BaseException) -> BaseException:
    """A `_core.CoreError` as the mcpauth exception users catch; anything else unchanged."""
    if not isinstance(err, _core.CoreError):
        return err
    kind, code, message, details_json = err.args
    details = json.loads(details_json) if details_json else {}
    # A Python exception raised inside the core's work (a transpile callback) is the cause.
    cause: Any = err.__cause__ if err.__cause__ is not None else details.get("cause")
    exc: MCPAuthException
    if kind == "bearer_auth":
        exc = MCPAuthBearerAuthException(code, MCPAuthBearerAuthExceptionDetails(**details) if details else None)
    elif kind == "token_verification":
        if isinstance(cause, str):
            cause = TokenVerificationCause(cause)
        exc = MCPAuthTokenVerificationException(code, cause)
    elif kind == "auth_server":
        exc = MCPAuthAuthServerException(code, cause)
    else:
        exc = MCPAuthConfigException(code, message, cause)
    exc.message = message
    exc.args = (message,)
    return exc


def to_core(exc: MCPAuthException) -> Tuple[str, str, Optional[str], Optional[str]]:
    """(kind, code, message, details JSON) of an mcpauth exception, for the core's answers."""
    kind = next((k for cls, k in _KINDS.items() if isinstance(exc, cls)), "auth_server")
    code = getattr(exc.code, "value", exc.code)
    cause = exc.cause
    details: Any
    if isinstance(cause, MCPAuthBearerAuthExceptionDetails):
        details = {k: _jsonable_cause(v) for k, v in cause.model_dump(exclude_none=True).items()}
    elif cause is None:
        details = None
    else:
        details = {"cause": _jsonable_cause(cause)}
    return kind, str(code), exc.message, json.dumps(details) if details else None
