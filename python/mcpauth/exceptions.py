"""The exceptions of mcpauth, with upstream codes, messages and ``to_json`` shapes."""

from __future__ import annotations

from enum import Enum
from typing import Any, Dict, List, Optional, Union

from pydantic import BaseModel

ExceptionCause = Optional[Union[Dict[str, Any], BaseModel, Exception, str, Any]]


def _jsonable_cause(cause: Any) -> Any:
    """A cause as JSON shows it: models dumped, JSON values kept, anything else as text."""
    if cause is None:
        return None
    if isinstance(cause, BaseModel):
        return cause.model_dump(exclude_none=True)
    if isinstance(cause, (str, int, float, bool)):
        return cause
    if isinstance(cause, dict):
        return {str(k): _jsonable_cause(v) for k, v in cause.items()}
    if isinstance(cause, (list, tuple)):
        return [_jsonable_cause(v) for v in cause]
    return str(cause)


def _coerce(enum_cls: Any, code: Any) -> Any:
    """A code given as a plain string (or an alias enum) becomes the member of `enum_cls`."""
    try:
        return enum_cls(code.value if isinstance(code, Enum) else code)
    except ValueError:
        return code


class MCPAuthException(Exception):
    """Base class of every mcpauth exception."""

    def __init__(self, code: Union[str, Enum], message: str, cause: ExceptionCause = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.cause = cause

    def __reduce__(self) -> Any:
        # Subclasses take (code, cause); keep pickling independent of each __init__.
        return (_rebuild, (type(self), self.code, self.message, self.cause))

    def __str__(self) -> str:
        return self.message

    def to_json(self, show_cause: bool = False) -> Dict[str, Any]:
        code = self.code.value if isinstance(self.code, Enum) else self.code
        data: Dict[str, Any] = {"error": code, "error_description": self.message}
        if show_cause:
            cause = _jsonable_cause(self.cause)
            if cause is not None:
                data["cause"] = cause
        return data


def _rebuild(cls: Any, code: Any, message: str, cause: Any) -> MCPAuthException:
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    exc.code, exc.message, exc.cause = code, message, cause
    return exc


class MCPAuthConfigException(MCPAuthException):
    """A configuration problem, such as a failed metadata fetch (`fetch_server_config_error`)."""

    def __init__(self, code: str, message: str, cause: ExceptionCause = None):
        super().__init__(code, message, cause)


class AuthServerExceptionCode(str, Enum):
    INVALID_SERVER_METADATA = "invalid_server_metadata"
    INVALID_SERVER_CONFIG = "invalid_server_config"
    MISSING_JWKS_URI = "missing_jwks_uri"


auth_server_exception_description: Dict[AuthServerExceptionCode, str] = {
    AuthServerExceptionCode.INVALID_SERVER_METADATA: "The server metadata is invalid or malformed.",
    AuthServerExceptionCode.INVALID_SERVER_CONFIG: "The server configuration does not match the MCP specification.",
    AuthServerExceptionCode.MISSING_JWKS_URI: "The server metadata does not contain a JWKS URI, which is required for JWT verification.",
}


class MCPAuthAuthServerException(MCPAuthException):
    """A problem with the authorization server or its configuration."""

    def __init__(self, code: AuthServerExceptionCode, cause: ExceptionCause = None):
        code = _coerce(AuthServerExceptionCode, code)
        super().__init__(
            code,
            auth_server_exception_description.get(
                code,
                "An exception occurred with the authorization server.",  # type: ignore[call-overload]
            ),
            cause,
        )


class BearerAuthExceptionCode(str, Enum):
    MISSING_AUTH_HEADER = "missing_auth_header"
    INVALID_AUTH_HEADER_FORMAT = "invalid_auth_header_format"
    MISSING_BEARER_TOKEN = "missing_bearer_token"
    INVALID_ISSUER = "invalid_issuer"
    INVALID_AUDIENCE = "invalid_audience"
    MISSING_REQUIRED_SCOPES = "missing_required_scopes"
    INVALID_TOKEN = "invalid_token"


bearer_auth_exception_description: Dict[BearerAuthExceptionCode, str] = {
    BearerAuthExceptionCode.MISSING_AUTH_HEADER: "Missing `Authorization` header. Please provide a valid bearer token.",
    BearerAuthExceptionCode.INVALID_AUTH_HEADER_FORMAT: 'Invalid `Authorization` header format. Expected "Bearer <token>".',
    BearerAuthExceptionCode.MISSING_BEARER_TOKEN: "Missing bearer token in `Authorization` header. Please provide a valid token.",
    BearerAuthExceptionCode.INVALID_ISSUER: "The token issuer does not match the expected issuer.",
    BearerAuthExceptionCode.INVALID_AUDIENCE: "The token audience does not match the expected audience.",
    BearerAuthExceptionCode.MISSING_REQUIRED_SCOPES: "The token does not contain the necessary scopes for this request.",
    BearerAuthExceptionCode.INVALID_TOKEN: "The provided token is not valid or has expired.",
}


class MCPAuthBearerAuthExceptionDetails(BaseModel):
    cause: Any = None
    uri: Optional[str] = None
    missing_scopes: Optional[List[str]] = None
    expected: Any = None
    actual: Any = None


class MCPAuthBearerAuthException(MCPAuthException):
    """A request's credentials do not satisfy the bearer policy."""

    def __init__(
        self,
        code: BearerAuthExceptionCode,
        cause: Optional[MCPAuthBearerAuthExceptionDetails] = None,
    ):
        code = _coerce(BearerAuthExceptionCode, code)
        super().__init__(
            code,
            bearer_auth_exception_description.get(
                code,
                "An exception occurred with the Bearer auth.",  # type: ignore[call-overload]
            ),
            cause,
        )

    def to_json(self, show_cause: bool = False) -> Dict[str, Any]:
        data = super().to_json(show_cause)
        if isinstance(self.cause, MCPAuthBearerAuthExceptionDetails):
            if self.cause.uri is not None:
                data["error_uri"] = self.cause.uri
            if self.cause.missing_scopes is not None:
                data["missing_scopes"] = self.cause.missing_scopes
        return data


class MCPAuthTokenVerificationExceptionCode(str, Enum):
    INVALID_TOKEN = "invalid_token"
    TOKEN_VERIFICATION_FAILED = "token_verification_failed"


token_verification_exception_description: Dict[MCPAuthTokenVerificationExceptionCode, str] = {
    MCPAuthTokenVerificationExceptionCode.INVALID_TOKEN: "The provided token is invalid or malformed.",
    MCPAuthTokenVerificationExceptionCode.TOKEN_VERIFICATION_FAILED: "The token verification failed due to an error in the verification process.",
}


class TokenVerificationCause(Exception):
    """Why mcpauth's own verifiers refused a token: the `cause` of the
    `MCPAuthTokenVerificationException` they raise (upstream put PyJWT's exception there).
    `str()` is the reason; bodies with `show_error_details` show that same text."""


class MCPAuthTokenVerificationException(MCPAuthException):
    """A token could not be verified."""

    def __init__(self, code: MCPAuthTokenVerificationExceptionCode, cause: ExceptionCause = None):
        code = _coerce(MCPAuthTokenVerificationExceptionCode, code)
        super().__init__(
            code,
            token_verification_exception_description.get(
                code,
                "An exception occurred while verifying the token.",  # type: ignore[call-overload]
            ),
            cause,
        )


# Names the documentation uses for token verification failures.
MCPAuthJwtVerificationException = MCPAuthTokenVerificationException


class MCPAuthJwtVerificationExceptionCode(str, Enum):
    INVALID_TOKEN = "invalid_token"
    TOKEN_VERIFICATION_FAILED = "token_verification_failed"
    JWT_VERIFICATION_FAILED = "token_verification_failed"


__all__ = [
    "ExceptionCause",
    "MCPAuthException",
    "MCPAuthConfigException",
    "AuthServerExceptionCode",
    "auth_server_exception_description",
    "MCPAuthAuthServerException",
    "BearerAuthExceptionCode",
    "bearer_auth_exception_description",
    "MCPAuthBearerAuthExceptionDetails",
    "MCPAuthBearerAuthException",
    "MCPAuthTokenVerificationExceptionCode",
    "token_verification_exception_description",
    "MCPAuthTokenVerificationException",
    "TokenVerificationCause",
    "MCPAuthJwtVerificationException",
    "MCPAuthJwtVerificationExceptionCode",
]
