"""`create_verify_jwt`: a verifier for JWTs signed by one key source."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Union

from .. import _bridge, _core
from .._errors import from_core
from ..types import AuthInfo

DEFAULT_ALGORITHMS = ["RS256", "PS256", "ES256", "ES384", "ES512"]


def _key_source(input: Any) -> Any:
    """A JWKS URI, JWK/JWK Set dict or HMAC secret from what the caller gave.

    PyJWT objects (`PyJWKClient`, `PyJWK`, `PyJWKSet`) are understood when PyJWT is
    installed, but PyJWT is never needed.
    """
    if isinstance(input, bytes) and b"-----BEGIN" in input:
        # A PEM key used as an HMAC secret is the classic algorithm-confusion hole.
        raise TypeError("create_verify_jwt: pass a public key as a JWK dict, not PEM bytes (bytes are HMAC secrets).")
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
        # The native verifier hands back the AuthInfo model itself.
        try:
            info = self._native.verify_now(token)
            if info is None:
                info = self._native.verify_blocking(token)
        except _core.CoreError as e:
            raise from_core(e) from None
        return info

    async def averify(self, token: str) -> AuthInfo:
        try:
            info = self._native.verify_now(token)
        except _core.CoreError as e:
            raise from_core(e) from None
        if info is None:
            info = await _bridge.run(self._native.verify_spawn, token)
        return info


def create_verify_jwt(
    input: Union[str, Dict[str, Any], bytes, Any],
    algorithms: Optional[List[str]] = None,
    leeway: float = 60,
    require_at_jwt: bool = False,
) -> JwtVerify:
    """A verifier for JWTs signed by the keys at a JWKS URI (cached), or by the given key.

    `algorithms` defaults to RS256, PS256, ES256, ES384 and ES512; `leeway` (seconds)
    tolerates clock skew for `exp`, `nbf` and `iat`; `require_at_jwt` accepts only RFC 9068
    access tokens (header `typ` `at+jwt` or `application/at+jwt`).
    """
    algs = list(DEFAULT_ALGORITHMS if algorithms is None else algorithms)
    source = _key_source(input)
    if isinstance(source, bytes) and algorithms is None:
        algs = ["HS256", "HS384", "HS512"]
    headers = [("user-agent", "@mcp-auth/python"), ("accept", "*/*")] if isinstance(source, str) else None
    return JwtVerify(_core.JwtVerifier(source, float(leeway), algs, headers, require_at_jwt=bool(require_at_jwt)))


__all__ = ["create_verify_jwt", "JwtVerify", "DEFAULT_ALGORITHMS"]
