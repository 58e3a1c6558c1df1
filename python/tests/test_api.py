"""The documented names, models, exceptions and MCPAuth modes."""

from __future__ import annotations

import importlib
import pickle
import warnings
from contextvars import ContextVar

import pytest
from pydantic import ValidationError
from starlette.routing import Route, Router

import mcpauth
from mcpauth import MCPAuth
from mcpauth.config import (
    AuthorizationServerMetadata,
    AuthorizationServerMetadataDefaults,
    AuthServerConfig,
    AuthServerDiscoveryConfig,
    AuthServerType,
    ProtectedResourceMetadata,
    ResourceServerConfig,
    ResourceServerMetadata,
    ServerMetadataPaths,
)
from mcpauth.exceptions import (
    AuthServerExceptionCode,
    BearerAuthExceptionCode,
    MCPAuthAuthServerException,
    MCPAuthBearerAuthException,
    MCPAuthBearerAuthExceptionDetails,
    MCPAuthConfigException,
    MCPAuthException,
    MCPAuthJwtVerificationException,
    MCPAuthJwtVerificationExceptionCode,
    MCPAuthTokenVerificationException,
    MCPAuthTokenVerificationExceptionCode,
)
from mcpauth.types import AuthInfo, JwtPayload

METADATA = AuthorizationServerMetadata(
    issuer="https://issuer.example.com",
    authorization_endpoint="https://issuer.example.com/authorize",
    token_endpoint="https://issuer.example.com/token",
    jwks_uri="https://issuer.example.com/jwks",
    response_types_supported=["code"],
    code_challenge_methods_supported=["S256"],
    registration_endpoint="https://issuer.example.com/register",
)
SERVER = AuthServerConfig(metadata=METADATA, type=AuthServerType.OIDC)


def resource(rid: str = "https://api.example.com/notes", servers: list = [SERVER]) -> ResourceServerConfig:  # noqa: B006
    return ResourceServerConfig(metadata=ResourceServerMetadata(resource=rid, authorization_servers=servers))


MODULE_NAMES = {
    "mcpauth": [
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
        "MCPAuthAuthServerException",
        "AuthServerExceptionCode",
        "_context_var_name",
    ],
    "mcpauth.config": [
        "ProtectedResourceMetadataBase",
        "ProtectedResourceMetadata",
        "AuthorizationServerMetadata",
        "AuthServerType",
        "AuthorizationServerMetadataDefaults",
        "AuthServerConfig",
        "ServerMetadataPaths",
        "ResourceServerConfig",
        "ResourceServerMetadata",
        "IntrospectionConfig",
        "fetch_server_config",
        "fetch_server_config_by_well_known_url",
    ],
    "mcpauth.types": [
        "ResourceServerMetadata",
        "ResourceServerConfig",
        "Record",
        "AuthInfo",
        "VerifyAccessTokenFunction",
        "NonEmptyString",
        "JwtPayload",
    ],
    "mcpauth.exceptions": [
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
        "MCPAuthJwtVerificationException",
        "MCPAuthJwtVerificationExceptionCode",
    ],
    "mcpauth.utils": [
        "fetch_server_config",
        "validate_server_config",
        "create_verify_jwt",
        "BearerWWWAuthenticateHeader",
        "create_resource_metadata_endpoint",
        "transpile_resource_metadata",
        "fetch_server_config_by_well_known_url",
        "AuthServerConfigErrorCode",
        "AuthServerConfigError",
        "AuthServerConfigWarningCode",
        "AuthServerConfigWarning",
        "AuthServerConfigValidationResult",
    ],
    "mcpauth.utils._fetch_server_config": [
        "get_oauth_well_known_url",
        "get_oidc_well_known_url",
        "_smart_join",
        "fetch_server_config",
        "fetch_server_config_by_well_known_url",
    ],
    "mcpauth.utils._validate_server_config": [
        "auth_server_config_error_description",
        "auth_server_config_warning_description",
        "_create_error",
        "_create_warning",
    ],
    "mcpauth.utils._create_verify_jwt": ["create_verify_jwt"],
    "mcpauth.utils._bearer_www_authenticate_header": ["BearerWWWAuthenticateHeader"],
    "mcpauth.utils._create_resource_metadata_endpoint": [
        "create_resource_metadata_endpoint",
        "RESOURCE_METADATA_BASE_PATH",
    ],
    "mcpauth.utils._transpile_resource_metadata": ["transpile_resource_metadata"],
    "mcpauth.middleware.create_bearer_auth": [
        "BearerAuthConfig",
        "get_bearer_token_from_headers",
        "_handle_error",
        "create_bearer_auth",
    ],
    "mcpauth.auth.mcp_auth_handler": ["MCPAuthHandler"],
    "mcpauth.auth.authorization_server_handler": ["AuthServerModeConfig", "AuthorizationServerHandler"],
    "mcpauth.auth.resource_server_handler": ["ResourceServerModeConfig", "ResourceServerHandler"],
    "mcpauth.auth.token_verifier": ["TokenVerifier"],
}


@pytest.mark.parametrize("module", sorted(MODULE_NAMES))
def test_documented_names(module: str) -> None:
    m = importlib.import_module(module)
    for name in MODULE_NAMES[module]:
        assert hasattr(m, name), f"{module}.{name}"


def test_documentation_imports() -> None:
    from mcpauth.config import (  # noqa: F401  # noqa: F401
        AuthServerType,
        ResourceServerConfig,
        ResourceServerMetadata,
        fetch_server_config,
        fetch_server_config_by_well_known_url,
    )

    e = MCPAuthJwtVerificationException(MCPAuthJwtVerificationExceptionCode.JWT_VERIFICATION_FAILED)
    assert isinstance(e, MCPAuthTokenVerificationException)
    assert e.code == MCPAuthTokenVerificationExceptionCode.TOKEN_VERIFICATION_FAILED
    assert str(e) == "The token verification failed due to an error in the verification process."


def test_enums_and_defaults() -> None:
    assert AuthServerType.OAUTH.value == "oauth" and AuthServerType.OIDC == "oidc"
    assert ServerMetadataPaths.OAUTH.value == "/.well-known/oauth-authorization-server"
    assert ServerMetadataPaths.OIDC.value == "/.well-known/openid-configuration"
    assert AuthorizationServerMetadataDefaults.grant_types_supported.value == ["authorization_code", "implicit"]
    assert AuthorizationServerMetadataDefaults.response_modes_supported.value == ["query", "fragment"]
    assert list(AuthorizationServerMetadata.model_fields)[:4] == [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
    ]
    assert len(AuthorizationServerMetadata.model_fields) == 23
    assert list(ProtectedResourceMetadata.model_fields)[-1] == "authorization_servers"
    info = AuthInfo(token="t", issuer="i", subject="s", claims={})
    assert info.scopes == [] and info.client_id is None and info.audience is None and info.expires_at is None
    with pytest.raises(ValidationError):
        JwtPayload(iss="", sub="s")
    # Unknown provider fields are dropped, as upstream.
    m = AuthorizationServerMetadata(**METADATA.model_dump(), end_session_endpoint="x")
    assert "end_session_endpoint" not in m.model_dump()


def test_exceptions() -> None:
    e = MCPAuthBearerAuthException(
        BearerAuthExceptionCode.INVALID_ISSUER, MCPAuthBearerAuthExceptionDetails(expected="a", actual="b")
    )
    assert e.to_json() == {
        "error": "invalid_issuer",
        "error_description": "The token issuer does not match the expected issuer.",
    }
    assert e.to_json(True)["cause"] == {"expected": "a", "actual": "b"}
    # A None cause is absent, not "None".
    assert "cause" not in MCPAuthTokenVerificationException("invalid_token").to_json(True)
    c = MCPAuthConfigException("fetch_server_config_error", "boom", cause={"x": 1})
    assert c.to_json(True) == {"error": "fetch_server_config_error", "error_description": "boom", "cause": {"x": 1}}
    assert MCPAuthAuthServerException("nope").message == "An exception occurred with the authorization server."
    assert MCPAuthBearerAuthException("nope").message == "An exception occurred with the Bearer auth."
    assert MCPAuthTokenVerificationException("nope").message == "An exception occurred while verifying the token."
    for exc in [e, c, MCPAuthAuthServerException(AuthServerExceptionCode.MISSING_JWKS_URI, cause={"a": 1})]:
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and back.to_json(True) == exc.to_json(True)
        assert isinstance(back, MCPAuthException)

    class Mine(MCPAuthBearerAuthException):
        pass

    assert Mine(BearerAuthExceptionCode.INVALID_TOKEN).code == "invalid_token"


def test_modes() -> None:
    with pytest.raises(MCPAuthAuthServerException) as err:
        MCPAuth(server=SERVER, protected_resources=resource())
    assert err.value.cause == {
        "error_description": "Either `server` or `protected_resources` must be provided, but not both."
    }
    with pytest.raises(MCPAuthAuthServerException) as err:
        MCPAuth(protected_resources=[])
    assert err.value.code == AuthServerExceptionCode.INVALID_SERVER_CONFIG

    res = MCPAuth(protected_resources=resource())
    with pytest.raises(MCPAuthAuthServerException) as err:
        with pytest.warns(DeprecationWarning):
            res.metadata_route()
    assert "resource_metadata_router()" in err.value.cause["error_description"]
    with pytest.raises(MCPAuthAuthServerException) as err:
        res.bearer_auth_middleware("jwt")
    assert "A `resource` must be specified" in err.value.cause["error_description"]
    with pytest.raises(MCPAuthAuthServerException) as err:
        res.bearer_auth_middleware("jwt", resource="https://other.example.com")
    assert "No token verifier found for the specified resource" in err.value.cause["error_description"]
    with pytest.raises(ValueError, match="mode_or_verify must be 'jwt'"):
        res.bearer_auth_middleware("opaque", resource="https://api.example.com/notes")  # type: ignore[arg-type]
    assert isinstance(res.resource_metadata_router(), Router)

    legacy = MCPAuth(server=SERVER)
    with pytest.raises(MCPAuthAuthServerException) as err:
        legacy.resource_metadata_router()
    assert err.value.cause == {
        "error_description": "`resource_metadata_router` is not available in `authorization server` mode."
    }
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        route = legacy.metadata_route()
    assert isinstance(route, Route) and route.path == "/.well-known/oauth-authorization-server"
    assert any(issubclass(x.category, DeprecationWarning) for x in w)
    assert isinstance(legacy.bearer_auth_middleware("jwt"), type)


def test_invalid_and_duplicated_configs() -> None:
    with pytest.raises(MCPAuthAuthServerException) as err:
        MCPAuth(protected_resources=[resource(), resource()])
    assert err.value.cause == {
        "error_description": "The resource metadata ('https://api.example.com/notes') is duplicated."
    }
    with pytest.raises(MCPAuthAuthServerException) as err:
        MCPAuth(protected_resources=resource(servers=[SERVER, SERVER]))
    assert "is duplicated" in err.value.cause["error_description"]
    no_pkce = AuthServerConfig(
        metadata=METADATA.model_copy(update={"code_challenge_methods_supported": None}), type=AuthServerType.OIDC
    )
    with pytest.raises(MCPAuthAuthServerException) as err:
        MCPAuth(protected_resources=resource(servers=[no_pkce]))
    assert err.value.code == AuthServerExceptionCode.INVALID_SERVER_CONFIG
    # Lazy configs are accepted without any fetch.
    MCPAuth(protected_resources=resource(servers=[AuthServerDiscoveryConfig(issuer="https://x.example.com")]))


def test_context_vars_are_per_instance() -> None:
    a, b = MCPAuth(protected_resources=resource()), MCPAuth(protected_resources=resource())
    assert a._context_var is not b._context_var
    mine: ContextVar = ContextVar("mine", default=None)
    c = MCPAuth(protected_resources=resource(), context_var=mine)
    mine.set(AuthInfo(token="t", issuer="i", subject="s", claims={}))
    assert c.auth_info is not None and a.auth_info is None
    assert mcpauth._context_var_name == "mcp_auth_context"


def test_model_fields_and_defaults() -> None:
    from mcpauth.config import ProtectedResourceMetadataBase
    from mcpauth.middleware.create_bearer_auth import BearerAuthConfig
    from mcpauth.utils import AuthServerConfigError, AuthServerConfigValidationResult, AuthServerConfigWarning

    assert list(ProtectedResourceMetadataBase.model_fields) == [
        "resource", "jwks_uri", "scopes_supported", "bearer_methods_supported",
        "resource_signing_alg_values_supported", "resource_name", "resource_documentation",
        "resource_policy_uri", "resource_tos_uri", "tls_client_certificate_bound_access_tokens",
        "authorization_details_types_supported", "dpop_signing_alg_values_supported",
        "dpop_bound_access_tokens_required", "signed_metadata",
    ]  # fmt: skip
    assert list(AuthInfo.model_fields) == [
        "token", "issuer", "client_id", "scopes", "subject", "audience", "claims", "expires_at"
    ]  # fmt: skip
    assert list(JwtPayload.model_fields) == ["aud", "iss", "client_id", "azp", "sub", "scope", "scopes", "exp"]
    d = MCPAuthBearerAuthExceptionDetails()
    assert (d.cause, d.uri, d.missing_scopes, d.expected, d.actual) == (None, None, None, None, None)
    c = BearerAuthConfig(issuer="https://issuer.example.com")
    assert (c.audience, c.required_scopes, c.resource, c.show_error_details) == (None, None, None, False)
    with pytest.raises(ValidationError):
        BearerAuthConfig(issuer=123)  # type: ignore[arg-type]
    assert list(AuthServerConfigValidationResult.model_fields) == ["is_valid", "errors", "warnings"]
    assert list(AuthServerConfigError.model_fields) == ["code", "description", "cause"]
    assert list(AuthServerConfigWarning.model_fields) == ["code", "description"]


def test_create_bearer_auth_checks() -> None:
    from mcpauth.middleware.create_bearer_auth import BearerAuthConfig, create_bearer_auth

    var: ContextVar = ContextVar("v", default=None)
    with pytest.raises(TypeError, match="`verify_access_token` must be a function"):
        create_bearer_auth("nope", BearerAuthConfig(issuer="https://i.example.com"), var)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`issuer` must be a valid URL."):
        create_bearer_auth(lambda t: None, BearerAuthConfig(issuer="not a url"), var)  # type: ignore[arg-type,return-value]
