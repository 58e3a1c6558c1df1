"""Does an authorization server fit MCP? The checks run in the core."""

from __future__ import annotations

from enum import Enum
from typing import Any, Dict, List, Optional

from pydantic import BaseModel

from .. import _core
from ..config import AuthServerConfig


class AuthServerConfigErrorCode(str, Enum):
    INVALID_SERVER_METADATA = "invalid_server_metadata"
    CODE_RESPONSE_TYPE_NOT_SUPPORTED = "code_response_type_not_supported"
    AUTHORIZATION_CODE_GRANT_NOT_SUPPORTED = "authorization_code_grant_not_supported"
    PKCE_NOT_SUPPORTED = "pkce_not_supported"
    S256_CODE_CHALLENGE_METHOD_NOT_SUPPORTED = "s256_code_challenge_method_not_supported"


auth_server_config_error_description: Dict[AuthServerConfigErrorCode, str] = {
    AuthServerConfigErrorCode.INVALID_SERVER_METADATA: "The server metadata is not a valid object or does not conform to the expected schema.",
    AuthServerConfigErrorCode.CODE_RESPONSE_TYPE_NOT_SUPPORTED: 'The server does not support the "code" response type or the "code" response type is not included in one of the supported response types.',
    AuthServerConfigErrorCode.AUTHORIZATION_CODE_GRANT_NOT_SUPPORTED: 'The server does not support the "authorization_code" grant type.',
    AuthServerConfigErrorCode.PKCE_NOT_SUPPORTED: "The server does not support Proof Key for Code Exchange (PKCE).",
    AuthServerConfigErrorCode.S256_CODE_CHALLENGE_METHOD_NOT_SUPPORTED: 'The server does not support the "S256" code challenge method for Proof Key for Code Exchange (PKCE).',
}


class AuthServerConfigWarningCode(str, Enum):
    DYNAMIC_REGISTRATION_NOT_SUPPORTED = "dynamic_registration_not_supported"


auth_server_config_warning_description: Dict[AuthServerConfigWarningCode, str] = {
    AuthServerConfigWarningCode.DYNAMIC_REGISTRATION_NOT_SUPPORTED: "Dynamic Client Registration (RFC 7591) is not supported by the server.",
}


class AuthServerConfigError(BaseModel):
    code: AuthServerConfigErrorCode
    description: str
    cause: Any


class AuthServerConfigWarning(BaseModel):
    code: AuthServerConfigWarningCode
    description: str


class AuthServerConfigValidationResult(BaseModel):
    is_valid: bool
    errors: List[AuthServerConfigError]
    warnings: List[AuthServerConfigWarning]


def _create_error(code: AuthServerConfigErrorCode, cause: Optional[Any] = None) -> AuthServerConfigError:
    return AuthServerConfigError(code=code, description=auth_server_config_error_description[code], cause=cause)


def _create_warning(code: AuthServerConfigWarningCode) -> AuthServerConfigWarning:
    return AuthServerConfigWarning(code=code, description=auth_server_config_warning_description[code])


def validate_server_config(config: AuthServerConfig) -> AuthServerConfigValidationResult:
    """Checks that the server supports what MCP needs: `code`, authorization code, PKCE S256.

    A missing dynamic client registration endpoint is a warning.
    """
    r = _core.validate_server_config(config.metadata.model_dump(exclude_none=True))
    return AuthServerConfigValidationResult(
        is_valid=r["is_valid"],
        errors=[_create_error(AuthServerConfigErrorCode(e["code"]), e.get("cause")) for e in r["errors"]],
        warnings=[_create_warning(AuthServerConfigWarningCode(w["code"])) for w in r["warnings"]],
    )


__all__ = [
    "AuthServerConfigErrorCode",
    "auth_server_config_error_description",
    "AuthServerConfigWarningCode",
    "auth_server_config_warning_description",
    "AuthServerConfigError",
    "AuthServerConfigWarning",
    "AuthServerConfigValidationResult",
    "validate_server_config",
]
