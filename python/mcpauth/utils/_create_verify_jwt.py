"""`create_verify_jwt`: a verifier for JWTs signed by one key source."""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Union

from .. import _bridge, _core
from .._errors import from_core
from ..types import AuthInfo

DEFAULT_ALGORITHMS = ["RS256", "PS256", "ES256", "ES384", "ES512"]
HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"]

logger = logging.getLogger("mcpauth")


def log_notices() -> None:
    """Logs what the core found worth saying once (a key server publishing a private key)."""
    for notice in _core.take_notices():
        logger.warning(notice)


def _key_source(input: Any) -> Any:
    """A JWKS URI, JWK/JWK Set dict or HMAC secret from what the caller gave.

    PyJWT objects (`PyJWKClient`, `PyJWK`, `PyJWKSet`) are understood when PyJWT is
    installed, but PyJWT is never needed.
    """
    if isinstance(input, (str, bytes, dict)):
        return input
    uri = getattr(input, "uri", None)
    if isinstance(uri, str):  # PyJWKClient
        return uri
    data = getattr(input, "_jwk_data", None)
    if isinstance(data, dict):  # PyJWK
        return data
    keys = getattr(input, "keys", None)
    if isinstance(keys, list) and all(isinstance(getattr(k, "_jwk_data", None), dict) for k in keys):
        return {"keys": [k._jwk_data for k in keys]}  # PyJWKSet
    key = getattr(input, "key", input)
    try:  # a `cryptography` public key, as PyJWT's algorithms serialize it
        from jwt.algorithms import get_default_algorithms  # type: ignore[import-not-found]

        for name in ("RS256", "ES256", "EdDSA"):
            alg = get_default_algorithms().get(name)
            if alg is None:
                continue
            try:
                return json.loads(alg.to_jwk(key))
            except Exception:
                continue
    except ImportError:
        pass
    raise TypeError(
        "create_verify_jwt expects a JWKS URI, a JWK or JWK Set dict, an HMAC secret, or a PyJWT key object."
    )


class JwtVerify:
    """Verifies a JWT and returns its AuthInfo (no issuer, audience or scope policy).

    Calling it blocks until the keys are known (the GIL is released meanwhile); `averify`
    awaits them instead, which the bearer middleware uses.
    """

    def __init__(self, native: Any):
        self._native = native

    def __call__(self, token: str) -> AuthInfo:
        # The native verifier hands back the AuthInfo model itself. Notices come from key
        # fetches, which only the slow path makes: the cached path has nothing to log.
        try:
            info = self._native.verify_now(token)
            if info is None:
                try:
                    info = self._native.verify_blocking(token)
                finally:
                    log_notices()
        except _core.CoreError as e:
            raise from_core(e) from None
        return info

    async def averify(self, token: str) -> AuthInfo:
        try:
            info = self._native.verify_now(token)
            if info is None:
                try:
                    info = await _bridge.run(self._native.verify_spawn, token)
                finally:
                    log_notices()
        except _core.CoreError as e:
            raise from_core(e) from None
        return info


def create_verify_jwt(
    input: Union[str, Dict[str, Any], bytes, Any],
    algorithms: Optional[List[str]] = None,
    leeway: float = 60,
    require_at_jwt: bool = False,
) -> JwtVerify:
    """A verifier for JWTs signed by the keys at a JWKS URI (cached), or by the given key.

    `algorithms` defaults to RS256, PS256, ES256, ES384 and ES512 (HS256, HS384 and HS512 for
    an HMAC secret: bytes or an `oct` JWK); `leeway` (seconds) tolerates clock skew for `exp`,
    `nbf` and `iat`; `require_at_jwt` accepts only RFC 9068 access tokens (header `typ` `at+jwt`
    or `application/at+jwt`). An HMAC secret shorter than its algorithm's hash (32, 48, 64 bytes;
    RFC 7518 §3.2), or bytes that are a public key (PEM, OpenSSH, DER, a JWK), raise
    `MCPAuthConfigException` (`invalid_key`).
    """
    algs = list(DEFAULT_ALGORITHMS if algorithms is None else algorithms)
    source = _key_source(input)
    secret = isinstance(source, bytes) or (isinstance(source, dict) and source.get("kty") == "oct")
    if secret and algorithms is None:
        algs = list(HMAC_ALGORITHMS)
    headers = [("user-agent", "@mcp-auth/python"), ("accept", "*/*")] if isinstance(source, str) else None
    try:
        native = _core.JwtVerifier(source, float(leeway), algs, headers, require_at_jwt=bool(require_at_jwt))
    except _core.CoreError as e:
        raise from_core(e) from None
    return JwtVerify(native)


__all__ = ["create_verify_jwt", "JwtVerify", "DEFAULT_ALGORITHMS"]
