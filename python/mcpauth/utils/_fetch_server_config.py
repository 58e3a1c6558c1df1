"""Fetching authorization-server metadata (RFC 8414 / OpenID Connect Discovery)."""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional, Union

from pydantic import ValidationError

from .. import _bridge, _core
from .._errors import from_core
from ..config import AuthorizationServerMetadata, AuthServerConfig, AuthServerType, ServerMetadataPaths
from ..exceptions import AuthServerExceptionCode, MCPAuthAuthServerException
from ..types import Record

TranspileData = Callable[[Record], Record]


def _type_value(type: Optional[Union[AuthServerType, str]]) -> Optional[str]:
    if type is None:
        return None
    return AuthServerType(type).value


def _smart_join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


def get_oauth_well_known_url(issuer: str) -> str:
    """The RFC 8414 metadata URL of `issuer` (well-known segment before the issuer path)."""
    return _core.well_known_url(issuer, "oauth")


def get_oidc_well_known_url(issuer: str) -> str:
    """The OpenID Connect Discovery URL of `issuer` (well-known segment after the issuer path)."""
    return _core.well_known_url(issuer, "oidc")


def _to_config(result: Any) -> AuthServerConfig:
    data, type = result
    try:
        metadata = AuthorizationServerMetadata(**data)
    except ValidationError as e:
        raise MCPAuthAuthServerException(AuthServerExceptionCode.INVALID_SERVER_METADATA, cause=e) from e
    return AuthServerConfig(metadata=metadata, type=AuthServerType(type))


def fetch_server_config_by_well_known_url(
    well_known_url: str,
    type: Union[AuthServerType, str],
    transpile_data: Optional[TranspileData] = None,
) -> AuthServerConfig:
    """Fetches metadata from an explicit URL. Blocks the calling thread (not the GIL).

    Raises `MCPAuthConfigException` (`fetch_server_config_error`) when the fetch fails and
    `MCPAuthAuthServerException` (`invalid_server_metadata`) when the document is unusable.
    """
    try:
        return _to_config(_core.fetch_server_config(well_known_url, _type_value(type), transpile_data, False, True))
    except _core.CoreError as e:
        raise from_core(e) from None


def fetch_server_config(
    issuer: str,
    type: Optional[Union[AuthServerType, str]] = None,
    transpile_data: Optional[TranspileData] = None,
    *,
    check_issuer: bool = True,
) -> AuthServerConfig:
    """Fetches the metadata of `issuer`. Blocks the calling thread (not the GIL).

    `type` picks the well-known URL (`oauth` inserts the segment before the issuer path,
    `oidc` appends it). Without a type the MCP (2025-11-25) discovery order is tried: OAuth
    path-inserted, OpenID Connect path-inserted, OpenID Connect appended; only a 4xx answer
    moves on to the next URL. The returned config's `type` tells which kind was found. The
    fetched `issuer` must equal `issuer` (RFC 8414 §3.3) unless `check_issuer=False`.
    """
    try:
        return _to_config(_core.fetch_server_config(issuer, _type_value(type), transpile_data, check_issuer, False))
    except _core.CoreError as e:
        raise from_core(e) from None


async def fetch_server_config_async(
    issuer: str,
    type: Optional[Union[AuthServerType, str]] = None,
    transpile_data: Optional[TranspileData] = None,
    *,
    check_issuer: bool = True,
) -> AuthServerConfig:
    """`fetch_server_config` without blocking the event loop."""
    spawn = functools.partial(
        _core.fetch_server_config_spawn, issuer, _type_value(type), transpile_data, check_issuer, False
    )
    return _to_config(await _bridge.run(spawn))


async def fetch_server_config_by_well_known_url_async(
    well_known_url: str,
    type: Union[AuthServerType, str],
    transpile_data: Optional[TranspileData] = None,
) -> AuthServerConfig:
    """`fetch_server_config_by_well_known_url` without blocking the event loop."""
    spawn = functools.partial(
        _core.fetch_server_config_spawn, well_known_url, _type_value(type), transpile_data, False, True
    )
    return _to_config(await _bridge.run(spawn))


async def _discovered_server_config(issuer: str, type: Optional[Union[AuthServerType, str]]) -> AuthServerConfig:
    """A lazily configured server's metadata, from the cache its verifiers share."""
    spawn = functools.partial(_core.discover_spawn, issuer, _type_value(type))
    return _to_config(await _bridge.run(spawn))


__all__ = [
    "ServerMetadataPaths",
    "get_oauth_well_known_url",
    "get_oidc_well_known_url",
    "fetch_server_config",
    "fetch_server_config_by_well_known_url",
    "fetch_server_config_async",
    "fetch_server_config_by_well_known_url_async",
]
