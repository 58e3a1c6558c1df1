"""The served PRM document of a configured resource."""

from __future__ import annotations

from .. import _core
from ..config import ProtectedResourceMetadata, ResourceServerMetadata, get_issuer


def transpile_resource_metadata(metadata: ResourceServerMetadata) -> ProtectedResourceMetadata:
    """The configured fields, with `authorization_servers` replaced by their issuers."""
    fields = metadata.model_dump(exclude_none=True, exclude={"authorization_servers"})
    issuers = [get_issuer(s) for s in metadata.authorization_servers or []]
    return ProtectedResourceMetadata(**_core.protected_resource_metadata(fields, issuers))


__all__ = ["transpile_resource_metadata"]
