"""Hostile tokens and Authorization headers through the public API, against real servers.

Every case gets a 4xx with one of the documented bodies and challenges, never a 5xx; header
fields that try to point the verifier at other keys (`jku`, `x5u`, `jwk`, `x5c`, URL-like `kid`)
are never followed. The shared vectors hold more cases; these are the ones they do not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from typing import Any, Dict, Iterator, List, Optional, Union

import pytest
import uvicorn
from conftest import VECTORS
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from support import Server, bind

from mcpauth import MCPAuth
from mcpauth.config import (
    AuthorizationServerMetadata,
    AuthServerConfig,
    AuthServerType,
    ResourceServerConfig,
    ResourceServerMetadata,
)
from mcpauth.exceptions import MCPAuthBearerAuthException, MCPAuthTokenVerificationException
from mcpauth.utils import create_verify_jwt

V = json.loads((VECTORS / "tokens.json").read_text())
ISSUER, RESOURCE, PRM = V["issuer"], V["resource"], V["resource_metadata"]
KEYS = VECTORS / "keys"
MB = 1024 * 1024

# The documented answers: upstream codes and messages in the body, RFC 6750 codes in the challenge.
DOCUMENTED = {
    "missing_auth_header": "Missing `Authorization` header. Please provide a valid bearer token.",
    "invalid_auth_header_format": 'Invalid `Authorization` header format. Expected "Bearer <token>".',
    "missing_bearer_token": "Missing bearer token in `Authorization` header. Please provide a valid token.",
    "invalid_token": "The provided token is invalid or malformed.",
}


def load_key(name: str) -> Any:
    return serialization.load_pem_private_key((KEYS / name).read_bytes(), None)


RSA_KEY = load_key("rsa1.pem")
EC_KEY = load_key("ec256.pem")
ATTACKER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def part(value: Union[bytes, str, Dict[str, Any]]) -> str:
    if isinstance(value, dict):
        value = json.dumps(value, separators=(",", ":"))
    return b64(value.encode() if isinstance(value, str) else value)


def claims(**extra: Any) -> Dict[str, Any]:
    now = int(time.time())
    body: Dict[str, Any] = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": RESOURCE,
        "client_id": "client-1",
        "scope": "read write",
        "iat": now,
        "exp": now + 3600,
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def sign(signing_input: bytes, alg: str, key: Any) -> bytes:
    """A real signature, so that only the hostile part of a token can make it fail."""
    if alg.startswith("HS"):
        return hmac.new(key, signing_input, getattr(hashlib, f"sha{alg[2:]}")).digest()
    if alg == "RS256":
        return key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    if alg == "ES256":
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    raise ValueError(alg)


def token(
    header: Union[bytes, str, Dict[str, Any], None] = None,
    payload: Union[bytes, str, Dict[str, Any], None] = None,
    alg: str = "RS256",
    key: Any = RSA_KEY,
) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": "rsa-1"} if header is None else header
    signing_input = f"{part(header)}.{part(claims() if payload is None else payload)}"
    return f"{signing_input}.{b64(sign(signing_input.encode(), alg, key))}"


class Trap:
    """A local server that would hand out the attacker's key; it must never be asked."""

    def __init__(self) -> None:
        self.hits: List[str] = []
        jwk = RSAAlgorithm.to_jwk(ATTACKER.public_key(), as_dict=True)

        async def anything(request: Request) -> Response:
            self.hits.append(request.url.path)
            return JSONResponse({"keys": [dict(jwk, kid="rsa-1")]})

        self.server = Server(Starlette(routes=[Route("/{path:path}", anything)])).start()
        self.url = self.server.url


class Protected:
    """An app protected by the 'jwt' mode of the vectors' resource, with a large header limit."""

    def __init__(self) -> None:
        self.jwks_hits = 0

        async def jwks(request: Request) -> Response:
            self.jwks_hits += 1
            return JSONResponse(V["jwks"])

        self.jwks = Server(Starlette(routes=[Route("/jwks", jwks)])).start()
        self.metadata = dict(V["metadata"], jwks_uri=f"{self.jwks.url}/jwks")
        self.mcp_auth = MCPAuth(
            protected_resources=ResourceServerConfig(
                metadata=ResourceServerMetadata(
                    resource=RESOURCE,
                    authorization_servers=[
                        AuthServerConfig(
                            metadata=AuthorizationServerMetadata(**self.metadata), type=AuthServerType.OIDC
                        )
                    ],
                )
            )
        )
        bearer = self.mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, audience=RESOURCE)

        async def whoami(request: Request) -> Response:
            info = self.mcp_auth.auth_info
            assert info is not None
            return JSONResponse({"subject": info.subject})

        app = Starlette(routes=[Mount("/mcp", routes=[Route("/", whoami)], middleware=[Middleware(bearer)])])
        # A 2 MiB limit for incomplete request heads, so that 1 MB headers reach the middleware.
        self.sock = bind()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", h11_max_incomplete_event_size=2 * MB)
        self.server = uvicorn.Server(config)
        import threading

        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
        self.jwks.stop()


@pytest.fixture(scope="module")
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.server.stop()


@pytest.fixture(scope="module")
def app() -> Iterator[Protected]:
    p = Protected()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def client(app: Protected) -> str:
    return app.url


Header = Union[str, bytes, None]


class Answer:
    """An HTTP response read off a raw socket."""

    def __init__(self, raw: bytes):
        head, _, self.content = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status_code = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        self.text = self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


def raw_get(url: str, header: Header) -> Optional[Answer]:
    """GET with the Authorization value sent byte for byte (clients refuse to send many of
    these); None when the HTTP server closed the connection without an answer."""
    host, port = url.removeprefix("http://").split(":")
    request = f"GET /mcp/ HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n".encode()
    if header is not None:
        request += b"Authorization: " + (header if isinstance(header, bytes) else header.encode("latin-1")) + b"\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as s:
        try:
            s.sendall(request + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    raw = b"".join(chunks)
    return Answer(raw) if raw else None


def call(client: Any, header: Header) -> Answer:
    r = raw_get(str(client), header)
    assert r is not None, "the server closed the connection without an answer"
    return r


def assert_documented(r: Answer, code: str) -> None:
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert r.json() == {"error": code, "error_description": DOCUMENTED[code]}
    rfc6750 = "invalid_token" if code == "invalid_token" else "invalid_request"
    description = DOCUMENTED[code].replace('"', "'")
    expected = (
        f'Bearer resource_metadata="{PRM}"'
        if code == "missing_auth_header"
        else f'Bearer error="{rfc6750}", error_description="{description}", resource_metadata="{PRM}"'
    )
    assert r.headers["www-authenticate"] == expected


def test_a_valid_token_passes(client: str) -> None:
    # The control: every hostile case below is a small change of this token.
    r = call(client, f"Bearer {token()}")
    assert r.status_code == 200, r.text
    assert r.json() == {"subject": "user-1"}


ALG_NONE = ["none", "None", "NONE", "nOnE", "noNe", " none", "none "]


@pytest.mark.parametrize("alg", ALG_NONE)
@pytest.mark.parametrize("signature", ["", "c2lnbmF0dXJl"])
def test_alg_none_in_any_casing(client: str, alg: str, signature: str) -> None:
    unsigned = f"{part({'alg': alg, 'typ': 'JWT', 'kid': 'rsa-1'})}.{part(claims())}.{signature}"
    assert_documented(call(client, f"Bearer {unsigned}"), "invalid_token")


def _public_forms(key: Any) -> Dict[str, bytes]:
    pub = key.public_key()
    forms = {
        "spki-pem": pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "spki-der": pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
    }
    if isinstance(pub, rsa.RSAPublicKey):
        forms["pkcs1-pem"] = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        forms["jwk-json"] = RSAAlgorithm.to_jwk(pub).encode()
        forms["modulus"] = pub.public_numbers().n.to_bytes(256, "big")
    else:
        forms["point"] = pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return forms


CONFUSION = [
    (alg, kid, form, secret)
    for kid, key in (("rsa-1", RSA_KEY), ("ec-256", EC_KEY))
    for form, secret in _public_forms(key).items()
    for alg in ("HS256", "HS384", "HS512")
]


@pytest.mark.parametrize("alg,kid,form,secret", CONFUSION, ids=[f"{a}-{k}-{f}" for a, k, f, _ in CONFUSION])
def test_hmac_signed_with_a_public_key(client: str, alg: str, kid: str, form: str, secret: bytes) -> None:
    for header in ({"alg": alg, "typ": "JWT", "kid": kid}, {"alg": alg, "typ": "JWT"}):
        assert_documented(call(client, f"Bearer {token(header, alg=alg, key=secret)}"), "invalid_token")


def test_kid_values_are_only_names(client: str, app: Protected, trap: Trap) -> None:
    before = app.jwks_hits
    kids: List[Any] = [
        "../../../../../../etc/passwd",
        "/dev/zero",
        "file:///etc/passwd",
        f"{trap.url}/kid.json",
        "rsa-1\u0000",
        "rsa-1' OR '1'='1",
        "ключ-🔑-鍵",
        "\ud800",  # a lone surrogate: not representable in UTF-8
        "k" * 20_000,
        "",
        7,
        None,
        ["rsa-1"],
        {"kid": "rsa-1"},
    ]
    for kid in kids:
        header: Dict[str, Any] = {"alg": "RS256", "typ": "JWT", "kid": kid}
        raw = json.dumps(header, separators=(",", ":"))  # ensure_ascii: \uXXXX escapes
        # Signed with the attacker's key (a trusted key under a strange name must not help).
        assert_documented(call(client, f"Bearer {token(raw, key=ATTACKER)}"), "invalid_token")
    # Non-ASCII written as raw UTF-8 and not as escapes, validly signed: only the name differs.
    raw_utf8 = '{"alg":"RS256","typ":"JWT","kid":"ключ-🔑"}'.encode()
    assert_documented(call(client, f"Bearer {token(raw_utf8)}"), "invalid_token")
    # Unknown names may cost at most one refresh (then the cooldown), never a fetch of the name.
    assert app.jwks_hits - before <= 1
    assert trap.hits == []


def _attacker_cert() -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.example.com")])
    now = time.time()
    import datetime

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ATTACKER.public_key())
        .serial_number(1)
        .not_valid_before(datetime.datetime.fromtimestamp(now - 60, datetime.timezone.utc))
        .not_valid_after(datetime.datetime.fromtimestamp(now + 3600, datetime.timezone.utc))
        .sign(ATTACKER, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def test_key_pointers_in_the_header_are_never_followed(client: str, trap: Trap) -> None:
    attacker_jwk = RSAAlgorithm.to_jwk(ATTACKER.public_key(), as_dict=True)
    cert = base64.b64encode(_attacker_cert()).decode()
    headers: List[Dict[str, Any]] = [
        {"alg": "RS256", "jku": f"{trap.url}/jwks.json"},
        {"alg": "RS256", "kid": "rsa-1", "jku": f"{trap.url}/jwks.json"},
        {"alg": "RS256", "kid": "attacker", "jku": f"{trap.url}/jwks.json"},
        {"alg": "RS256", "x5u": f"{trap.url}/cert.pem"},
        {"alg": "RS256", "kid": "rsa-1", "x5u": f"{trap.url}/cert.pem"},
        {"alg": "RS256", "jwk": attacker_jwk},
        {"alg": "RS256", "kid": "rsa-1", "jwk": dict(attacker_jwk, kid="rsa-1")},
        {"alg": "RS256", "x5c": [cert]},
        {"alg": "RS256", "kid": "rsa-1", "x5c": [cert], "x5t#S256": "AAAA"},
    ]
    for header in headers:
        assert_documented(call(client, f"Bearer {token(header, key=ATTACKER)}"), "invalid_token")
    assert trap.hits == []


@pytest.mark.parametrize(
    "crit",
    [
        {"crit": ["x-unknown"], "x-unknown": True},
        {"crit": ["b64"], "b64": False},
        {"crit": ["exp"], "exp": 1},
        {"crit": []},
        {"crit": "x-unknown"},
        {"crit": ["x-missing"]},
    ],
)
def test_unknown_or_malformed_crit(client: str, crit: Dict[str, Any]) -> None:
    header = dict({"alg": "RS256", "typ": "JWT", "kid": "rsa-1"}, **crit)
    assert_documented(call(client, f"Bearer {token(header)}"), "invalid_token")


def test_jwe_and_nested_jwt(client: str) -> None:
    jwe_header = part({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "rsa-1", "cty": "JWT"})
    jwe = f"{jwe_header}.{b64(b'k' * 256)}.{b64(b'iv' * 6)}.{b64(b'ciphertext')}.{b64(b'tag' * 5)}"
    inner = token()
    # A JWS whose payload is itself a valid JWT, validly signed: not a claims set.
    nested = token({"alg": "RS256", "typ": "JWT", "kid": "rsa-1", "cty": "JWT"}, inner)
    for t in (jwe, nested, f"{jwe_header}.{part(claims())}.{b64(b'x')}", "a.b.c.d", "....", "a..b"):
        assert_documented(call(client, f"Bearer {t}"), "invalid_token")


def test_duplicate_json_keys(client: str) -> None:
    good = json.dumps(claims(), separators=(",", ":"))[1:-1]
    cases = [
        ('{"alg":"none","alg":"RS256","kid":"rsa-1"}', "{" + good + "}"),
        ('{"alg":"RS256","kid":"ec-256","kid":"rsa-1"}', "{" + good + "}"),
        (None, '{"iss":"https://evil.example.com",' + good + "}"),
        (None, "{" + good + ',"sub":"admin"}'),
        (None, "{" + good + ',"aud":"https://other.example.com"}'),
        (None, "{" + good + ',"scope":"admin"}'),
    ]
    for header, payload in cases:
        h = header if header is not None else {"alg": "RS256", "typ": "JWT", "kid": "rsa-1"}
        assert_documented(call(client, f"Bearer {token(h, payload)}"), "invalid_token")


OUT_OF_RANGE = ["1e400", "-1e400", "1e19", "18446744073709551616", "-9223372036854775809", "1e308", "-1"]


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_numbers_out_of_range(client: str, claim: str) -> None:
    rest = {k: v for k, v in claims().items() if k != claim}
    body = json.dumps(rest, separators=(",", ":"))[:-1]
    for number in OUT_OF_RANGE:
        if claim != "exp" and number in ("-1",):
            continue  # a time in the past is fine for nbf and iat
        payload = f'{body},"{claim}":{number}}}'
        if claim == "exp" and number == "1e308":
            continue  # a finite far future is a valid expiry
        assert_documented(call(client, f"Bearer {token(payload=payload)}"), "invalid_token")
    for odd in (True, [1], {"t": 1}, "1", float("nan")):
        payload = json.dumps(dict(rest, **{claim: odd}))
        assert_documented(call(client, f"Bearer {token(payload=payload)}"), "invalid_token")


def test_claims_of_the_wrong_type(client: str) -> None:
    odd: List[Dict[str, Any]] = [
        {"aud": {"aud": RESOURCE}},
        {"aud": 42},
        {"aud": [RESOURCE, 42]},
        {"aud": [{"aud": RESOURCE}]},
        {"aud": True},
        {"scope": {"read": True}},
        {"scope": 7},
        {"scope": ["read", {"x": 1}]},
        {"scope": None, "scp": {"read": True}},
        {"iss": {"iss": ISSUER}},
        {"iss": [ISSUER]},
        {"sub": {"id": 1}},
        {"sub": 12},
        {"client_id": {"id": 1}},
    ]
    for extra in odd:
        assert_documented(call(client, f"Bearer {token(payload=claims(**extra))}"), "invalid_token")
    for not_an_object in ("[]", "null", "42", '"claims"', "", "\u0000"):
        assert_documented(call(client, f"Bearer {token(payload=not_an_object)}"), "invalid_token")


def test_bytes_that_are_not_utf8(client: str) -> None:
    t = token()
    for header in (
        b"Bearer \xff\xfe\xfd",
        b"Bearer " + t.encode() + b"\xff",
        b"Bearer \xc3\x28" + t.encode(),
        b"\xff\xfeBearer " + t.encode(),
        "Bearer\xa0".encode("latin-1") + t.encode(),
    ):
        r = call(client, header)
        assert r.status_code == 401, header
        assert r.json()["error"] in ("invalid_token", "invalid_auth_header_format")
        assert_documented(r, r.json()["error"])
    # Inside the token: a JOSE header and a claims set that are not UTF-8, validly signed.
    bad_header = b'{"alg":"RS256","kid":"rsa-1","x":"\xff\xfe"}'
    bad_claims = json.dumps(claims()).encode()[:-1] + b',"name":"\xc3\x28"}'
    for t in (token(bad_header), token(payload=bad_claims)):
        assert_documented(call(client, f"Bearer {t}"), "invalid_token")


def test_scheme_spelling_and_whitespace(client: str) -> None:
    t = token()
    # RFC 9110 §11.1: the scheme is case-insensitive; one or more spaces separate it.
    # A tab separates like a space (lenient, as most servers are).
    for ok in (
        f"Bearer {t}",
        f"bearer {t}",
        f"BEARER {t}",
        f"BeArEr {t}",
        f"Bearer   {t}",
        f"  Bearer {t}  ",
        f"Bearer\t{t}",
    ):
        r = call(client, ok)
        assert r.status_code == 200, (ok[:12], r.text)
    cases = [
        (f"Bearer{t}", "invalid_auth_header_format"),
        (f"Bearer: {t}", "invalid_auth_header_format"),
        (f"Bearer={t}", "invalid_auth_header_format"),
        (f"Bearer,{t}", "invalid_auth_header_format"),
        (f"Bearer {t} {t}", "invalid_auth_header_format"),
        (f"Bearer {t}, Bearer {t}", "invalid_auth_header_format"),
        (f"Token {t}", "invalid_auth_header_format"),
        (f"DPoP {t}", "invalid_auth_header_format"),
        (f"Basic {t}", "invalid_auth_header_format"),
        (t, "invalid_auth_header_format"),
        ("Bearer", "missing_bearer_token"),
        ("Bearer   ", "missing_bearer_token"),
        ("bearer", "missing_bearer_token"),
    ]
    for header, code in cases:
        r = call(client, header)
        assert r.status_code == 401, (header[:20], r.text)
        # A tab or a comma may be read as part of the credentials (then the token is invalid).
        got = r.json()["error"]
        assert got == code or (got == "invalid_token" and code == "invalid_auth_header_format"), (header[:20], got)
        assert_documented(r, got)
    for empty in ("", "   "):
        r = call(client, empty)
        assert r.status_code == 401
        assert r.json()["error"] in ("missing_auth_header", "invalid_auth_header_format", "missing_bearer_token")
        assert_documented(r, r.json()["error"])


def test_oversized_tokens_and_headers(client: str, app: Protected) -> None:
    t = token()
    big_claims = token(payload=claims(pad="x" * (40 * 1024)))  # validly signed, over the 32 KiB cap
    assert_documented(call(client, f"Bearer {big_claims}"), "invalid_token")
    huge = "A" * MB
    for header in (
        f"Bearer {huge}",
        f"Bearer {t}{huge}",
        f"Bearer {huge}.{huge}.{huge}",
        f"Bearer {t} {huge}",
        f"{huge} {t}",
        f"Bearer {t}" + " " * MB + "x",
    ):
        r = call(client, header)
        # Header fields above 64 KiB are refused before any parsing of the token, unless the
        # HTTP server already refused the request head (a 4xx of its own).
        if r.status_code == 401:
            assert_documented(r, "invalid_auth_header_format")
        else:
            assert 400 <= r.status_code < 500 and "www-authenticate" not in r.headers, (header[:10], r.status_code)
    # A default uvicorn (16 KiB limit for an incomplete request head) refuses a 1 MB header
    # itself: a 4xx, or the connection closed without an answer, never a 5xx.
    with Server(Starlette(routes=[Route("/mcp/", lambda r: Response("ok"))])) as plain:
        r = raw_get(plain.url, f"Bearer {huge}")
        assert r is None or 400 <= r.status_code < 500, r.status_code
    assert call(client, f"Bearer {t}").status_code == 200


def test_verify_functions_called_directly_with_a_1mb_token(app: Protected) -> None:
    huge = "A" * MB
    ok = token()
    signed_huge = token(payload=claims(pad="x" * MB))
    verifiers = [
        create_verify_jwt(V["jwks"]),
        create_verify_jwt(f"{app.jwks.url}/jwks"),
        app.mcp_auth._handler.get_token_verifier(resource=RESOURCE).create_verify_jwt_function(),
    ]
    for verify in verifiers:
        assert verify(ok).subject == "user-1"
        for t in (huge, f"{huge}.{huge}.{huge}", signed_huge):
            with pytest.raises(MCPAuthTokenVerificationException) as e:
                verify(t)
            assert e.value.code == "invalid_token"


def test_bearer_parsing_helper_rejects_hostile_headers() -> None:
    from mcpauth.middleware.create_bearer_auth import get_bearer_token_from_headers

    for header, code in (
        ("Basic x", "invalid_auth_header_format"),
        ("Bearer", "missing_bearer_token"),
        (f"Bearer {'A' * MB}", "invalid_auth_header_format"),
    ):
        with pytest.raises(MCPAuthBearerAuthException) as e:
            get_bearer_token_from_headers({"authorization": header})
        assert e.value.code == code


def test_still_serving(client: str, app: Protected, trap: Trap) -> None:
    # Nothing above broke the process: a valid token still passes, and the trap stayed cold.
    assert call(client, f"Bearer {token()}").status_code == 200
    assert trap.hits == []


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_null_time_claims_are_refused(client: str, claim: str) -> None:
    # `"exp": null` is not an absent `exp`: jose and PyJWT both refuse a non-number here, and
    # reading null as "no expiry" would turn a broken token into one that never expires.
    payload = json.dumps(dict(claims(), **{claim: None}))
    assert_documented(call(client, f"Bearer {token(payload=payload)}"), "invalid_token")
