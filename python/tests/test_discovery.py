"""Untyped discovery (MCP 2025-11-25 order) and typed fetches, observed on a local host."""

from __future__ import annotations

from typing import Iterator

import pytest
from support import MetadataHost

from mcpauth.config import AuthServerType
from mcpauth.exceptions import MCPAuthAuthServerException, MCPAuthConfigException
from mcpauth.utils import fetch_server_config, fetch_server_config_async

OAUTH_INSERTED = "/.well-known/oauth-authorization-server/tenant"
OIDC_INSERTED = "/.well-known/openid-configuration/tenant"
OIDC_APPENDED = "/tenant/.well-known/openid-configuration"
ORDER = [OAUTH_INSERTED, OIDC_INSERTED, OIDC_APPENDED]


@pytest.fixture
def host() -> Iterator[MetadataHost]:
    h = MetadataHost()
    yield h
    h.stop()


@pytest.mark.parametrize(
    ("served_at", "found_type", "tried"),
    [
        (OAUTH_INSERTED, AuthServerType.OAUTH, ORDER[:1]),
        (OIDC_INSERTED, AuthServerType.OIDC, ORDER[:2]),
        (OIDC_APPENDED, AuthServerType.OIDC, ORDER),
    ],
)
def test_untyped_discovery_order(host: MetadataHost, served_at: str, found_type: AuthServerType, tried: list) -> None:
    issuer = f"{host.url}/tenant"
    host.documents[served_at] = host.metadata(issuer)
    config = fetch_server_config(issuer)
    assert config.type == found_type
    assert config.metadata.issuer == issuer
    assert host.requested == tried


def test_untyped_discovery_prefers_oauth(host: MetadataHost) -> None:
    issuer = f"{host.url}/tenant"
    for path in ORDER:
        host.documents[path] = host.metadata(issuer)
    assert fetch_server_config(issuer, None).type == AuthServerType.OAUTH
    assert host.requested == ORDER[:1]


def test_untyped_discovery_without_issuer_path(host: MetadataHost) -> None:
    # Path-inserted and appended OIDC URLs coincide: two URLs, not three.
    host.documents["/.well-known/openid-configuration"] = host.metadata(host.url)
    assert fetch_server_config(host.url).type == AuthServerType.OIDC
    assert host.requested == ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]


def test_untyped_discovery_failures(host: MetadataHost) -> None:
    issuer = f"{host.url}/tenant"
    with pytest.raises(MCPAuthConfigException) as none_found:
        fetch_server_config(issuer)
    assert none_found.value.code == "fetch_server_config_error"
    assert f"{host.url}{OIDC_APPENDED}" in none_found.value.message
    assert host.requested == ORDER

    # A server error is a real failure, not "not here": discovery stops there.
    host.requested.clear()
    host.statuses[OAUTH_INSERTED] = 503
    host.documents[OIDC_INSERTED] = host.metadata(issuer)
    with pytest.raises(MCPAuthConfigException) as failed:
        fetch_server_config(issuer)
    assert f"{host.url}{OAUTH_INSERTED}" in failed.value.message
    assert host.requested == ORDER[:1]

    # Metadata naming another issuer is refused (RFC 8414 §3.3), wherever it was found.
    del host.statuses[OAUTH_INSERTED]
    host.documents[OIDC_INSERTED] = host.metadata("https://other.example.com/tenant")
    with pytest.raises(MCPAuthAuthServerException) as mismatch:
        fetch_server_config(issuer)
    assert mismatch.value.code == "invalid_server_metadata"


@pytest.mark.parametrize(
    ("type", "path"),
    [(AuthServerType.OAUTH, OAUTH_INSERTED), (AuthServerType.OIDC, OIDC_APPENDED), ("oidc", OIDC_APPENDED)],
)
def test_typed_fetch_asks_one_url(host: MetadataHost, type: AuthServerType, path: str) -> None:
    issuer = f"{host.url}/tenant"
    for p in ORDER:
        host.documents[p] = host.metadata(issuer)
    config = fetch_server_config(issuer, type)
    assert config.type == AuthServerType(type)
    assert host.requested == [path]


def test_typed_fetch_does_not_fall_back(host: MetadataHost) -> None:
    issuer = f"{host.url}/tenant"
    host.documents[OIDC_INSERTED] = host.metadata(issuer)
    with pytest.raises(MCPAuthConfigException):
        fetch_server_config(issuer, AuthServerType.OIDC)
    with pytest.raises(MCPAuthConfigException):
        fetch_server_config(issuer, AuthServerType.OAUTH)
    assert host.requested == [OIDC_APPENDED, OAUTH_INSERTED]


async def test_untyped_discovery_async(host: MetadataHost) -> None:
    issuer = f"{host.url}/tenant"
    host.documents[OIDC_APPENDED] = host.metadata(issuer)
    config = await fetch_server_config_async(issuer)
    assert config.type == AuthServerType.OIDC
    assert host.requested == ORDER
