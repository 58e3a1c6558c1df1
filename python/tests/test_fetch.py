"""Metadata fetching against a local issuer: sync (GIL released), async, transpile, errors."""

from __future__ import annotations

import pytest
from support import Issuer

from mcpauth.config import AuthServerType, fetch_server_config_by_well_known_url
from mcpauth.exceptions import AuthServerExceptionCode, MCPAuthAuthServerException, MCPAuthConfigException
from mcpauth.utils import fetch_server_config, fetch_server_config_async, fetch_server_config_by_well_known_url_async


def test_fetch_oidc_and_oauth(issuer: Issuer) -> None:
    # The issuer runs in a thread of this process: the fetch only completes because the
    # GIL is released while it waits.
    for t in (AuthServerType.OIDC, AuthServerType.OAUTH, "oidc"):
        config = fetch_server_config(issuer.url, t)
        assert config.type == AuthServerType(t)
        assert config.metadata.issuer == issuer.url
        assert config.metadata.jwks_uri == issuer.jwks_uri
        assert "end_session_endpoint" not in config.metadata.model_dump()


def test_fetch_discovers_without_type(issuer: Issuer) -> None:
    config = fetch_server_config(issuer.url, None)
    assert config.type == AuthServerType.OAUTH and config.metadata.issuer == issuer.url


def test_transpile_data(issuer: Issuer) -> None:
    seen = {}

    def transpile(data: dict) -> dict:
        seen.update(data)
        return {**data, "response_types_supported": ["code", "token"]}

    config = fetch_server_config(issuer.url, type=AuthServerType.OIDC, transpile_data=transpile)
    assert seen["end_session_endpoint"] == f"{issuer.url}/logout"  # raw, snake_case, unknown keys kept
    assert config.metadata.response_types_supported == ["code", "token"]

    def failing(data: dict) -> dict:
        raise KeyError("nope")

    with pytest.raises(MCPAuthConfigException) as err:
        fetch_server_config(issuer.url, AuthServerType.OIDC, failing)
    assert err.value.code == "fetch_server_config_error"
    assert "Failed to fetch server config from" in err.value.message
    assert isinstance(err.value.cause, KeyError)


def test_by_well_known_url(issuer: Issuer) -> None:
    url = f"{issuer.url}/.well-known/openid-configuration"
    config = fetch_server_config_by_well_known_url(url, type=AuthServerType.OIDC)
    assert config.metadata.issuer == issuer.url
    config = fetch_server_config_by_well_known_url(
        url, type=AuthServerType.OIDC, transpile_data=lambda d: {**d, "issuer": "https://renamed.example.com"}
    )
    assert config.metadata.issuer == "https://renamed.example.com"


def test_fetch_errors(issuer: Issuer) -> None:
    with pytest.raises(MCPAuthConfigException) as err:
        fetch_server_config(f"{issuer.url}/broken", AuthServerType.OIDC)
    assert "Failed to fetch server config" in err.value.message and "Internal Server Error" in err.value.message
    with pytest.raises(MCPAuthConfigException):
        fetch_server_config_by_well_known_url(f"{issuer.url}/missing", AuthServerType.OIDC)
    with pytest.raises(MCPAuthAuthServerException) as bad:
        fetch_server_config(issuer.url, AuthServerType.OIDC, lambda d: {"issuer": issuer.url})
    assert bad.value.code == AuthServerExceptionCode.INVALID_SERVER_METADATA
    # RFC 8414 §3.3: metadata must name the issuer it was fetched for.
    with pytest.raises(MCPAuthAuthServerException) as mismatch:
        fetch_server_config(issuer.url, AuthServerType.OIDC, lambda d: {**d, "issuer": "https://other.example.com"})
    assert mismatch.value.code == AuthServerExceptionCode.INVALID_SERVER_METADATA
    config = fetch_server_config(
        issuer.url, AuthServerType.OIDC, lambda d: {**d, "issuer": "https://other.example.com"}, check_issuer=False
    )
    assert config.metadata.issuer == "https://other.example.com"


async def test_async_variants(issuer: Issuer) -> None:
    config = await fetch_server_config_async(issuer.url, AuthServerType.OIDC)
    assert config.metadata.issuer == issuer.url
    config = await fetch_server_config_by_well_known_url_async(
        f"{issuer.url}/.well-known/oauth-authorization-server", AuthServerType.OAUTH
    )
    assert config.type == AuthServerType.OAUTH
    with pytest.raises(MCPAuthConfigException):
        await fetch_server_config_async(f"{issuer.url}/broken", AuthServerType.OIDC)

    def failing(data: dict) -> dict:
        raise KeyError("nope")

    with pytest.raises(MCPAuthConfigException) as err:
        await fetch_server_config_async(issuer.url, AuthServerType.OIDC, failing)
    assert isinstance(err.value.cause, KeyError)
