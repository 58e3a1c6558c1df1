from __future__ import annotations

from abc import ABC, abstractmethod

from starlette.routing import Router

from .token_verifier import TokenVerifier


class MCPAuthHandler(ABC):
    """What a mode (legacy authorization server, or resource server) provides."""

    @abstractmethod
    def create_metadata_route(self) -> Router: ...

    @abstractmethod
    def get_token_verifier(self, resource: str) -> TokenVerifier: ...
