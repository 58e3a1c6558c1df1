"""A DPoP client's key (RFC 9449): a P-256 key, its RFC 7638 thumbprint and fresh ES256 proofs,
for the token endpoint (no `ath`) and for the MCP server (`ath` of the access token)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any, Dict, Optional

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DpopKey:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk: Dict[str, Any] = ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        members = {k: self.jwk[k] for k in ("crv", "kty", "x", "y")}
        self.jkt = b64url(hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest())

    def proof(self, method: str, url: str, token: Optional[str] = None) -> str:
        claims: Dict[str, Any] = {"jti": uuid.uuid4().hex, "htm": method, "htu": url, "iat": int(time.time())}
        if token is not None:
            claims["ath"] = b64url(hashlib.sha256(token.encode()).digest())
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": self.jwk})
