"""Verifies JWTs of a set of trusted authorization servers (keys and metadata cached)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from .. import _core
from .._errors import from_core
from ..config import AnyAuthServerConfig, AuthServerConfig, get_issuer
from ..utils._create_verify_jwt import JwtVerify


def _spec(server: AnyAuthServerConfig) -> Any:
    if isinstance(server, AuthServerConfig):
        return (server.metadata.issuer, server.metadata.model_dump(exclude_none=True), server.type.value)
    return (server.issuer, None, server.type.value if server.type is not None else None)


class _JwtModeVerify(JwtVerify):
    """The `jwt` mode verify function. The bearer middleware finds the native token verifier
    on it and runs header, verification and policy in one native call."""

    def __init__(self, native: Any):
        super().__init__(native)
        self._native_token_verifier = native


class TokenVerifier:
    """Trusts the given authorization servers; resolved configs or `{issuer, type}` ones."""

    def __init__(self, auth_servers: Sequence[AnyAuthServerConfig]):
        self._auth_servers = list(auth_servers)
        self._issuers = [get_issuer(s) for s in self._auth_servers]
        self._specs = [_spec(s) for s in self._auth_servers]
        self._natives: Dict[float, Any] = {}

    def _native(self, leeway: float = 60) -> Any:
        native = self._natives.get(leeway)
        if native is None:
            native = self._natives[leeway] = _core.TokenVerifier(self._specs, float(leeway))
        return native

    def validate_jwt_issuer(self, issuer: str) -> None:
        """Raises `invalid_issuer` unless `issuer` is one of the trusted issuers."""
        try:
            self._native().check_issuer(issuer)
        except _core.CoreError as e:
            raise from_core(e) from None

    def create_verify_jwt_function(self, leeway: float = 60) -> _JwtModeVerify:
        return _JwtModeVerify(self._native(leeway))

    @property
    def issuers(self) -> List[str]:
        return list(self._issuers)

    def _get_auth_server_by_issuer(self, issuer: str) -> Optional[AnyAuthServerConfig]:
        self.validate_jwt_issuer(issuer)
        return next((s for s in self._auth_servers if get_issuer(s) == issuer), None)
