"""Verifies JWTs of a set of trusted authorization servers (keys and metadata cached)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from .. import _core
from .._errors import from_core
from ..config import AnyAuthServerConfig, AuthServerConfig, IntrospectionConfig, get_issuer
from ..utils._create_verify_jwt import JwtVerify


def _spec(server: AnyAuthServerConfig) -> Any:
    if isinstance(server, AuthServerConfig):
        return (server.metadata.issuer, server.metadata.model_dump(exclude_none=True), server.type.value)
    return (server.issuer, None, server.type.value if server.type is not None else None)


class _JwtModeVerify(JwtVerify):
    """The verify function of a built-in mode (`jwt`, `introspection`). The bearer middleware
    finds the native verifier on it and runs header, verification and policy in one native call."""

    def __init__(self, native: Any):
        super().__init__(native)
        self._native_token_verifier = native


class TokenVerifier:
    """Trusts the given authorization servers; resolved configs or `{issuer, type}` ones."""

    def __init__(self, auth_servers: Sequence[AnyAuthServerConfig]):
        self._auth_servers = list(auth_servers)
        self._issuers = [get_issuer(s) for s in self._auth_servers]
        self._specs = [_spec(s) for s in self._auth_servers]
        self._natives: Dict[Tuple[float, bool], Any] = {}

    def _native(self, leeway: float = 60, require_at_jwt: bool = False) -> Any:
        key = (float(leeway), bool(require_at_jwt))
        native = self._natives.get(key)
        if native is None:
            native = self._natives[key] = _core.TokenVerifier(self._specs, key[0], require_at_jwt=key[1])
        return native

    def validate_jwt_issuer(self, issuer: str) -> None:
        """Raises `invalid_issuer` unless `issuer` is one of the trusted issuers."""
        try:
            self._native().check_issuer(issuer)
        except _core.CoreError as e:
            raise from_core(e) from None

    def create_verify_jwt_function(self, leeway: float = 60, require_at_jwt: bool = False) -> _JwtModeVerify:
        """The `jwt` mode verifier; `require_at_jwt` accepts only RFC 9068 access tokens
        (header `typ` `at+jwt`), so ID tokens of the same issuer are refused."""
        return _JwtModeVerify(self._native(leeway, require_at_jwt))

    def create_introspection_function(self, config: IntrospectionConfig, leeway: float = 60) -> _JwtModeVerify:
        """The `introspection` mode verifier: asks the authorization server about each token
        (RFC 7662). Raises `MCPAuthConfigException` (`invalid_introspection_config`) when the
        configuration cannot work, e.g. no endpoint and not exactly one authorization server."""
        try:
            native = _core.IntrospectionVerifier(
                self._specs,
                client_id=config.client_id,
                client_secret=config.client_secret,
                endpoint=config.endpoint,
                auth_method=config.auth_method,
                cache_ttl=config.cache_ttl or None,
                timeout=float(config.timeout),
                leeway=float(leeway),
                headers=[("user-agent", "@mcp-auth/python")],
            )
        except _core.CoreError as e:
            raise from_core(e) from None
        return _JwtModeVerify(native)

    @property
    def issuers(self) -> List[str]:
        return list(self._issuers)

    def _get_auth_server_by_issuer(self, issuer: str) -> Optional[AnyAuthServerConfig]:
        self.validate_jwt_issuer(issuer)
        return next((s for s in self._auth_servers if get_issuer(s) == issuer), None)
