"""Helpers: metadata fetching and validation, JWT verification, PRM endpoints."""

from ._bearer_www_authenticate_header import BearerWWWAuthenticateHeader
from ._create_resource_metadata_endpoint import create_resource_metadata_endpoint
from ._create_verify_jwt import create_verify_jwt
from ._fetch_server_config import (
    fetch_server_config,
    fetch_server_config_async,
    fetch_server_config_by_well_known_url,
    fetch_server_config_by_well_known_url_async,
)
from ._transpile_resource_metadata import transpile_resource_metadata
from ._validate_server_config import (
    AuthServerConfigError,
    AuthServerConfigErrorCode,
    AuthServerConfigValidationResult,
    AuthServerConfigWarning,
    AuthServerConfigWarningCode,
    validate_server_config,
)

__all__ = [
    "fetch_server_config",
    "validate_server_config",
    "create_verify_jwt",
    "BearerWWWAuthenticateHeader",
    "create_resource_metadata_endpoint",
    "transpile_resource_metadata",
]

_also_exported = (
    fetch_server_config_by_well_known_url,
    fetch_server_config_async,
    fetch_server_config_by_well_known_url_async,
    AuthServerConfigErrorCode,
    AuthServerConfigError,
    AuthServerConfigWarningCode,
    AuthServerConfigWarning,
    AuthServerConfigValidationResult,
)
