"""Types shared by the API: AuthInfo, verifier protocol, JWT payload, resource configs."""

from __future__ import annotations

from typing import Annotated, Any, Awaitable, Dict, List, Optional, Protocol, Union

from pydantic import BaseModel, StringConstraints

from .config import ResourceServerConfig, ResourceServerMetadata

Record = Dict[str, Any]

NonEmptyString = Annotated[str, StringConstraints(min_length=1)]


class AuthInfo(BaseModel):
    """Who made the request and with what rights, from a verified access token."""

    token: str
    issuer: str
    client_id: Optional[str] = None
    scopes: List[str] = []
    subject: str
    audience: Optional[Union[str, List[str]]] = None
    claims: Dict[str, Any]
    expires_at: Optional[int] = None

    @property
    def jkt(self) -> Optional[str]:
        """The thumbprint of the key the token is bound to (`cnf.jkt`, RFC 9449 §6), or None.

        The 'jwt' and 'introspection' modes accept a token that carries one only with a valid
        DPoP proof signed by that key, so a value here means a sender-constrained call. (A
        custom verifier's AuthInfo has whatever `cnf` its claims hold.)"""
        # Read from the claims, not stored: the model keeps upstream's fields, and the hot path
        # builds it without a field more.
        cnf = self.claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        return jkt if isinstance(jkt, str) else None


class VerifyAccessTokenFunction(Protocol):
    """Verifies a token and returns its AuthInfo; may also be `async def`.

    The middleware checks issuer, audience and scopes afterwards, so a verifier need not.
    """

    def __call__(self, token: str) -> Union[AuthInfo, Awaitable[AuthInfo]]: ...


class JwtPayload(BaseModel):
    aud: Optional[Union[NonEmptyString, List[NonEmptyString]]] = None
    iss: NonEmptyString
    client_id: Optional[str] = None
    azp: Optional[str] = None
    sub: NonEmptyString
    scope: Optional[Union[str, List[str]]] = None
    scopes: Optional[Union[str, List[str]]] = None
    exp: Optional[int] = None


__all__ = [
    "ResourceServerMetadata",
    "ResourceServerConfig",
    "Record",
    "AuthInfo",
    "VerifyAccessTokenFunction",
    "NonEmptyString",
    "JwtPayload",
]


def _auth_info_from_core(data: Dict[str, Any]) -> AuthInfo:
    # The core already validated every field; skip a second validation on the hot path.
    return AuthInfo.model_construct(**data)
