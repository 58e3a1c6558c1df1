"""Where the protected resource metadata of a resource identifier is served (RFC 9728 §3.1)."""

from __future__ import annotations

from .. import _core

RESOURCE_METADATA_BASE_PATH = "/.well-known/oauth-protected-resource"


def create_resource_metadata_endpoint(resource: str) -> str:
    """`https://api.example.com/notes` -> `https://api.example.com/.well-known/oauth-protected-resource/notes`."""
    try:
        return _core.resource_metadata_url(resource)
    except _core.CoreError:
        raise TypeError(f"Invalid resource identifier URI: {resource}") from None


__all__ = ["RESOURCE_METADATA_BASE_PATH", "create_resource_metadata_endpoint"]
