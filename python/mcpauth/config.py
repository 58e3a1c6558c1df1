"""Configuration models: authorization-server metadata, server configs, protected resources."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, List, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr


class ProtectedResourceMetadataBase(BaseModel):
    """RFC 9728 protected resource metadata, without `authorization_servers`."""

    resource: str
    jwks_uri: Optional[str] = None
    scopes_supported: Optional[List[str]] = None
    bearer_methods_supported: Optional[List[str]] = None
    resource_signing_alg_values_supported: Optional[List[str]] = None
    resource_name: Optional[str] = None
    resource_documentation: Optional[str] = None
    resource_policy_uri: Optional[str] = None
    resource_tos_uri: Optional[str] = None
    tls_client_certificate_bound_access_tokens: Optional[bool] = None
    authorization_details_types_supported: Optional[List[str]] = None
    dpop_signing_alg_values_supported: Optional[List[str]] = None
    dpop_bound_access_tokens_required: Optional[bool] = None
    signed_metadata: Optional[str] = None


class ProtectedResourceMetadata(ProtectedResourceMetadataBase):
    """RFC 9728 protected resource metadata as served: `authorization_servers` are issuers."""

    authorization_servers: Optional[List[str]] = None


class AuthorizationServerMetadata(BaseModel):
    """RFC 8414 authorization server metadata (the fields MCP relies on)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: Optional[str] = None
    registration_endpoint: Optional[str] = None
    scopes_supported: Optional[List[str]] = None
    response_types_supported: List[str]
    response_modes_supported: Optional[List[str]] = None
    grant_types_supported: Optional[List[str]] = None
    token_endpoint_auth_methods_supported: Optional[List[str]] = None
    token_endpoint_auth_signing_alg_values_supported: Optional[List[str]] = None
    service_documentation: Optional[str] = None
    ui_locales_supported: Optional[List[str]] = None
    op_policy_uri: Optional[str] = None
    op_tos_uri: Optional[str] = None
    revocation_endpoint: Optional[str] = None
    revocation_endpoint_auth_methods_supported: Optional[List[str]] = None
    revocation_endpoint_auth_signing_alg_values_supported: Optional[List[str]] = None
    introspection_endpoint: Optional[str] = None
    introspection_endpoint_auth_methods_supported: Optional[List[str]] = None
    introspection_endpoint_auth_signing_alg_values_supported: Optional[List[str]] = None
    code_challenge_methods_supported: Optional[List[str]] = None
    userinfo_endpoint: Optional[str] = None


class AuthServerType(str, Enum):
    OAUTH = "oauth"
    OIDC = "oidc"


class AuthorizationServerMetadataDefaults(Enum):
    grant_types_supported = ["authorization_code", "implicit"]
    response_modes_supported = ["query", "fragment"]


class AuthServerConfig(BaseModel):
    """An authorization server with known metadata."""

    metadata: AuthorizationServerMetadata
    type: AuthServerType


class AuthServerDiscoveryConfig(BaseModel):
    """An authorization server whose metadata is fetched on first use (and refreshed hourly)."""

    issuer: str
    type: Optional[AuthServerType] = None


AnyAuthServerConfig = Union[AuthServerConfig, AuthServerDiscoveryConfig]


def get_issuer(config: AnyAuthServerConfig) -> str:
    """The issuer of a resolved or a discovery config."""
    if isinstance(config, AuthServerConfig):
        return config.metadata.issuer
    return config.issuer


class ServerMetadataPaths(str, Enum):
    OAUTH = "/.well-known/oauth-authorization-server"
    OIDC = "/.well-known/openid-configuration"


class ResourceServerMetadata(ProtectedResourceMetadataBase):
    """A protected resource and the authorization servers it trusts."""

    authorization_servers: Optional[List[AnyAuthServerConfig]] = None


class ResourceServerConfig(BaseModel):
    metadata: ResourceServerMetadata


class DpopConfig(BaseModel):
    """DPoP (RFC 9449) on a protected route: tokens bound to a key the client proves it holds.

    `mode`: `"allowed"` (Bearer and DPoP tokens both accepted), `"required"` (Bearer refused) or
    `"off"` (Bearer only); in every mode a DPoP-bound token sent as a bearer token is refused.
    `algorithms`: the proof algorithms accepted (default: every asymmetric one). `iat_window`
    (seconds, default 300) is how far a proof's `iat` may be from now, plus `leeway` (default:
    the route's `leeway`). `nonce=True` sends server nonces (RFC 9449 §8), sealed under
    `nonce_secret` (at least 32 bytes; replicas sharing it accept each other's nonces) and valid
    for `nonce_window` seconds. `replay_store`: `"memory"` (in process, at most
    `replay_max_entries` proofs) or a `redis://` / `rediss://` URL shared by every replica; each
    Redis call is bounded by `replay_timeout` seconds, keys start with `replay_key_prefix`, and
    when Redis cannot answer the request is refused with 503 unless `replay_fail_open=True`.
    Proofs must name the resource identifier's origin plus the request path (never `Host`).
    """

    # Strict: a misspelt option or a value of the wrong type is refused, not coerced or dropped.
    model_config = ConfigDict(extra="forbid", strict=True)

    mode: Literal["allowed", "required", "off"] = "allowed"
    algorithms: Optional[List[str]] = None
    iat_window: Optional[float] = Field(default=None, allow_inf_nan=False)
    leeway: Optional[float] = Field(default=None, allow_inf_nan=False)
    nonce: bool = False
    nonce_secret: Optional[str] = Field(default=None, repr=False)
    nonce_window: Optional[float] = Field(default=None, allow_inf_nan=False)
    replay_store: str = "memory"
    replay_max_entries: Optional[int] = None
    replay_timeout: Optional[float] = Field(default=None, gt=0, allow_inf_nan=False)
    replay_fail_open: bool = False
    replay_key_prefix: Optional[str] = None
    # Tests only: "now" for the DPoP checks (proof `iat`, nonces, replay windows).
    _now: Optional[float] = PrivateAttr(default=None)


class IntrospectionConfig(BaseModel):
    """How the `introspection` mode asks the authorization server about a token (RFC 7662).

    The resource server authenticates as a confidential client: `client_secret_basic` sends
    the credentials in an `Authorization: Basic` header, `client_secret_post` in the form.
    `endpoint` defaults to the `introspection_endpoint` of the resource's authorization server
    metadata. `cache_ttl` (seconds) keeps positive answers that long, never past the token's
    `exp`; `None` asks the endpoint on every request, so revocation takes effect at once.
    `timeout` (seconds) bounds each request to the endpoint.
    """

    # A misspelt option would otherwise be dropped silently and the default used instead.
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1, repr=False)
    endpoint: Optional[str] = None
    auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    cache_ttl: Optional[float] = Field(default=None, ge=0, allow_inf_nan=False)
    timeout: float = Field(default=5.0, gt=0, allow_inf_nan=False)


if TYPE_CHECKING:
    from .utils._fetch_server_config import (
        fetch_server_config as fetch_server_config,
    )
    from .utils._fetch_server_config import (
        fetch_server_config_by_well_known_url as fetch_server_config_by_well_known_url,
    )


def __getattr__(name: str) -> Any:
    # The documentation imports the fetch helpers from here; they live in mcpauth.utils,
    # which imports this module, so they are resolved on first access.
    if name in ("fetch_server_config", "fetch_server_config_by_well_known_url"):
        from .utils import _fetch_server_config

        return getattr(_fetch_server_config, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ProtectedResourceMetadataBase",
    "ProtectedResourceMetadata",
    "AuthorizationServerMetadata",
    "AuthServerType",
    "AuthorizationServerMetadataDefaults",
    "AuthServerConfig",
    "AuthServerDiscoveryConfig",
    "ServerMetadataPaths",
    "ResourceServerMetadata",
    "ResourceServerConfig",
    "IntrospectionConfig",
    "DpopConfig",
    "get_issuer",
    "fetch_server_config",
    "fetch_server_config_by_well_known_url",
]
