#!/usr/bin/env python3
"""Writes the shared test vectors from the fixed keys in keys/.

Expected values are written out by hand here, independently of any implementation. Run it
again only to change the vectors: `python3 tests/vectors/gen.py` (needs `cryptography`).
Every token is valid until 2100 unless a case says otherwise, so no clock needs faking.
"""

import base64
import hashlib
import hmac
import json
import pathlib
import re
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

HERE = pathlib.Path(__file__).parent
KEYS = HERE / "keys"

ISS = "https://issuer.example.com"
OTHER_ISS = "https://evil.example.com"
SECOND_ISS = "https://second-issuer.example.com"
RESOURCE = "https://mcp.example.com/mcp"
PRM_URL = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
EXP = 4102444800  # 2100-01-01
IAT = 1735689600  # 2025-01-01
PAST = 1609459200  # 2021-01-01


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load(name):
    return serialization.load_pem_private_key((KEYS / name).read_bytes(), password=None)


rsa1, rsa2 = load("rsa1.pem"), load("rsa2.pem")
ec256, ec384, ec521 = load("ec256.pem"), load("ec384.pem"), load("ec521.pem")
ed = load("ed25519.pem")
rsa1024 = load("rsa1024.pem")


def int_b64(n: int, size: int | None = None) -> str:
    size = size or (n.bit_length() + 7) // 8
    return b64(n.to_bytes(size, "big"))


def rsa_jwk(key, kid, **extra):
    pub = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "n": int_b64(pub.n), "e": int_b64(pub.e), **extra}


def ec_jwk(key, kid, crv, size):
    pub = key.public_key().public_numbers()
    return {"kty": "EC", "kid": kid, "crv": crv, "x": int_b64(pub.x, size), "y": int_b64(pub.y, size)}


def ed_jwk(key, kid):
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(raw)}


JWKS = {
    "keys": [
        rsa_jwk(rsa1, "rsa-1"),
        ec_jwk(ec256, "ec-256", "P-256", 32),
        ec_jwk(ec384, "ec-384", "P-384", 48),
        ec_jwk(ec521, "ec-521", "P-521", 66),
        ed_jwk(ed, "ed-1"),
        # Keys a verifier must skip without failing: unknown type, a symmetric key, a weak RSA key.
        {"kty": "XYZ", "kid": "unknown-kty"},
        {"kty": "oct", "kid": "hmac", "k": b64(b"a shared secret that must never be used")},
        rsa_jwk(rsa1024, "rsa-weak"),
        # An encryption key must not verify signatures.
        {**rsa_jwk(rsa2, "rsa-enc"), "use": "enc"},
        # RFC 9864's fully-specified name for EdDSA with Ed25519.
        {**ed_jwk(ed, "ed-fully-specified"), "alg": "Ed25519"},
        # Published with a private member: the key must not be used (and the mistake is logged).
        {**rsa_jwk(rsa2, "rsa-private"), "d": b64(b"published by mistake")},
    ]
}

HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}


def _written_signatures():
    """Signatures of the tokens already in the vector files, by signing input.

    ECDSA and RSA-PSS signatures are randomised: signing again would rewrite every such token of
    a file for nothing. A signature found here is reused once it verifies, so regenerating a file
    changes only the tokens whose content changed.
    """
    found = {}
    for f in HERE.glob("*.json"):
        for m in re.finditer(r"([A-Za-z0-9_-]{8,})\.([A-Za-z0-9_-]{8,})\.([A-Za-z0-9_-]{40,})", f.read_text()):
            found.setdefault(f"{m.group(1)}.{m.group(2)}", []).append(m.group(3))
    return found


WRITTEN = _written_signatures()


def _reuse(alg, key, msg):
    # One signing input may appear signed by several keys (a key set's own and an outsider's).
    for sig in WRITTEN.get(msg.decode(), []):
        raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
        h = HASHES[alg[2:]]
        try:
            if alg.startswith("ES"):
                half = len(raw) // 2
                r, s_ = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
                key.public_key().verify(utils.encode_dss_signature(r, s_), msg, ec.ECDSA(h))
            else:
                key.public_key().verify(raw, msg, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
        except Exception:
            continue
        return raw
    return None


def sign(alg: str, key, msg: bytes) -> bytes:
    fam, bits = alg[:2], alg[2:]
    if fam in ("ES", "PS"):
        reused = _reuse(alg, key, msg)
        if reused is not None:
            return reused
    if alg in ("EdDSA", "Ed25519"):
        return key.sign(msg)
    if fam == "RS":
        return key.sign(msg, padding.PKCS1v15(), HASHES[bits])
    if fam == "PS":
        h = HASHES[bits]
        return key.sign(msg, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    if fam == "ES":
        der = key.sign(msg, ec.ECDSA(HASHES[bits]))
        r, s = utils.decode_dss_signature(der)
        size = {"256": 32, "384": 48, "512": 66}[bits]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if fam == "HS":
        return hmac.new(key, msg, getattr(hashlib, "sha" + bits)).digest()
    raise ValueError(alg)


def claims(**over):
    c = {
        "iss": ISS,
        "sub": "user-1",
        "aud": RESOURCE,
        "client_id": "client-1",
        "scope": "read write",
        "iat": IAT,
        "exp": EXP,
    }
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def token(alg="RS256", key=rsa1, kid="rsa-1", payload=None, header_extra=None, raw_payload=None, raw_header=None):
    header = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    header.update(header_extra or {})
    h = b64(raw_header.encode() if raw_header else json.dumps(header, separators=(",", ":")).encode())
    body = raw_payload.encode() if raw_payload else json.dumps(payload or claims(), separators=(",", ":")).encode()
    p = b64(body)
    msg = f"{h}.{p}".encode()
    sig = b"" if alg.lower() == "none" else sign(alg, key, msg)
    return f"{h}.{p}.{b64(sig)}"


def challenge(error=None, description=None, scope=None, prm=PRM_URL):
    parts = []
    if error:
        parts.append(f'error="{error}"')
        parts.append(f'error_description="{description}"')
    if scope:
        parts.append(f'scope="{scope}"')
    if prm:
        parts.append(f'resource_metadata="{prm}"')
    return "Bearer " + ", ".join(parts) if parts else "Bearer"


D_INVALID = "The provided token is invalid or malformed."
D = {
    "missing_auth_header": "Missing `Authorization` header. Please provide a valid bearer token.",
    "invalid_auth_header_format": 'Invalid `Authorization` header format. Expected "Bearer <token>".',
    "missing_bearer_token": "Missing bearer token in `Authorization` header. Please provide a valid token.",
    "invalid_issuer": "The token issuer does not match the expected issuer.",
    "invalid_audience": "The token audience does not match the expected audience.",
    "missing_required_scopes": "The token does not contain the necessary scopes for this request.",
    "invalid_token": "The provided token is not valid or has expired.",
}
# In a challenge, error_description may not contain `"` (RFC 6750 §3): it becomes `'`.
D_CHALLENGE_FORMAT = D["invalid_auth_header_format"].replace('"', "'")


def ok(info):
    return {"status": 200, "auth_info": info}


def info(**over):
    i = {
        "issuer": ISS,
        "subject": "user-1",
        "client_id": "client-1",
        "scopes": ["read", "write"],
        "audience": RESOURCE,
    }
    i.update(over)
    return i


def fail_token(cause_ok=True, scope=None):
    return {
        "status": 401,
        "body": {"error": "invalid_token", "error_description": D_INVALID},
        "www_authenticate": challenge("invalid_token", D_INVALID, scope),
    }


def case(name, header, expect, audience=RESOURCE, required_scopes=None, leeway=60, show_error_details=False,
         require_at_jwt=False, accept_any_audience=False, expect_node=None):
    c = {
        "name": name,
        "header": header,
        "audience": audience,
        "required_scopes": required_scopes,
        "leeway": leeway,
        "show_error_details": show_error_details,
        "expect": expect,
    }
    if require_at_jwt:
        c["require_at_jwt"] = True
    if accept_any_audience:
        c["accept_any_audience"] = True
    if expect_node:
        c["expect_node"] = expect_node
    return c


def bearer(t):
    return "Bearer " + t


rsa_pub_pem = rsa1.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
rsa_pub_der = rsa1.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

good = token()
tampered = good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB")

token_cases = [
    case("RS256 with kid", bearer(good), ok(info())),
    case("PS256", bearer(token("PS256")), ok(info())),
    case("RS384", bearer(token("RS384")), ok(info())),
    case("RS512", bearer(token("RS512")), ok(info())),
    case("PS512", bearer(token("PS512")), ok(info())),
    case("ES256", bearer(token("ES256", ec256, "ec-256")), ok(info())),
    case("ES384", bearer(token("ES384", ec384, "ec-384")), ok(info())),
    case("ES512 (P-521)", bearer(token("ES512", ec521, "ec-521")), ok(info())),
    case("EdDSA (Ed25519)", bearer(token("EdDSA", ed, "ed-1")), ok(info())),
    case("no kid, one key fits", bearer(token(kid=None)), ok(info())),
    case("scheme in lower case, several spaces", "bearer    " + good, ok(info())),
    case("audience list containing the resource", bearer(token(payload=claims(aud=["https://other.example.com", RESOURCE]))),
         ok(info(audience=["https://other.example.com", RESOURCE]))),
    case("scopes as a list", bearer(token(payload=claims(scope=["read", "write"]))), ok(info())),
    case("scopes from scp", bearer(token(payload=claims(scope=None, scp="read write"))), ok(info())),
    case("empty scope falls back to scopes", bearer(token(payload=claims(scope="", scopes=["read"]))), ok(info(scopes=["read"]))),
    case("scope string with extra spaces", bearer(token(payload=claims(scope="  read   write "))), ok(info())),
    case("client id from azp", bearer(token(payload=claims(client_id=None, azp="client-azp"))), ok(info(client_id="client-azp"))),
    case("no client id", bearer(token(payload=claims(client_id=None))), ok(info(client_id=None))),
    case("required scopes present", bearer(good), ok(info()), required_scopes=["read"]),
    case("audience check turned off", bearer(token(payload=claims(aud=None))), ok(info(audience=None)), audience=None,
         accept_any_audience=True),
    case("expired within leeway", bearer(token(payload=claims(exp=PAST, iat=PAST - 60))), ok(info()), leeway=500_000_000),
    case("missing header", None, {
        "status": 401,
        "body": {"error": "missing_auth_header", "error_description": D["missing_auth_header"]},
        "www_authenticate": challenge(),
    }),
    case("missing header, scopes known", None, {
        "status": 401,
        "body": {"error": "missing_auth_header", "error_description": D["missing_auth_header"]},
        "www_authenticate": challenge(scope="read write"),
    }, required_scopes=["read", "write"]),
    case("Basic scheme", "Basic dXNlcjpwYXNz", {
        "status": 401,
        "body": {"error": "invalid_auth_header_format", "error_description": D["invalid_auth_header_format"]},
        "www_authenticate": challenge("invalid_request", D_CHALLENGE_FORMAT),
    }),
    case("scheme only", "Bearer", {
        "status": 401,
        "body": {"error": "missing_bearer_token", "error_description": D["missing_bearer_token"]},
        "www_authenticate": challenge("invalid_request", D["missing_bearer_token"]),
    }),
    case("two tokens", "Bearer abc def", {
        "status": 401,
        "body": {"error": "invalid_auth_header_format", "error_description": D["invalid_auth_header_format"]},
        "www_authenticate": challenge("invalid_request", D_CHALLENGE_FORMAT),
    }),
    # The token68 alphabet (RFC 9110 §11.2), checked byte by byte: bytes outside it, and a
    # value that is padding only.
    *[case(f"token68: {what}", header, {
        "status": 401,
        "body": {"error": "invalid_auth_header_format", "error_description": D["invalid_auth_header_format"]},
        "www_authenticate": challenge("invalid_request", D_CHALLENGE_FORMAT),
    }) for what, header in (("a quote", 'Bearer abc"def'), ("a comma", "Bearer abc,def"),
                            ("a semicolon at the end", "Bearer " + "a" * 70 + ";"), ("padding only", "Bearer ==="))],
    case("scheme and token separated by a tab", "Bearer\t" + good, ok(info())),
    case("expired", bearer(token(payload=claims(exp=PAST, iat=PAST - 60))), fail_token()),
    case("not yet valid (nbf)", bearer(token(payload=claims(nbf=EXP - 100))), fail_token()),
    case("issued in the future (iat)", bearer(token(payload=claims(iat=EXP - 100))), fail_token()),
    case("alg none", bearer(token("none", kid=None)), fail_token()),
    case("alg NONE", bearer(token("NONE", kid=None)), fail_token()),
    case("alg nOnE with a kid", bearer(token("nOnE")), fail_token()),
    case("HS256 signed with the RSA public key (PEM)", bearer(token("HS256", rsa_pub_pem)), fail_token()),
    case("HS256 signed with the RSA public key (DER)", bearer(token("HS256", rsa_pub_der)), fail_token()),
    case("HS256 with the kid of a symmetric JWK", bearer(token("HS256", b"a shared secret that must never be used", "hmac")), fail_token()),
    case("unknown kid", bearer(token(key=rsa2, kid="rsa-2")), fail_token()),
    case("weak RSA key (1024 bits)", bearer(token(key=rsa1024, kid="rsa-weak")), fail_token()),
    case("encryption key used for a signature", bearer(token(key=rsa2, kid="rsa-enc")), fail_token()),
    case("tampered signature", bearer(tampered), fail_token()),
    case("tampered payload", bearer(good.split(".")[0] + "." + b64(json.dumps(claims(sub="admin")).encode()) + "." + good.split(".")[2]), fail_token()),
    case("EC key with an RSA algorithm", bearer(token("RS256", rsa1, "ec-256")), fail_token()),
    case("ES256 header with a P-384 key", bearer(token("ES256", ec256, "ec-384")), fail_token()),
    case("path-like kid", bearer(token(kid="../../etc/passwd")), fail_token()),
    case("URL in jku is ignored", bearer(token(key=rsa2, kid="rsa-2", header_extra={"jku": "http://127.0.0.1:1/jwks"})), fail_token()),
    case("embedded jwk is not trusted", bearer(token(key=rsa2, kid=None, header_extra={"jwk": rsa_jwk(rsa2, "x")})), fail_token()),
    case("unknown crit header", bearer(token(header_extra={"crit": ["exp2"], "exp2": 1})), fail_token()),
    case("duplicate claim", bearer(token(raw_payload='{"iss":"%s","sub":"user-1","sub":"admin","aud":"%s","exp":%d}' % (ISS, RESOURCE, EXP))), fail_token()),
    case("malformed token", "Bearer abc.def", fail_token()),
    case("not base64", "Bearer a.b.c", fail_token()),
    case("JWE (five parts)", "Bearer a.b.c.d.e", fail_token()),
    case("missing sub", bearer(token(payload=claims(sub=None))), fail_token()),
    case("missing iss", bearer(token(payload=claims(iss=None))), fail_token()),
    case("exp is a string", bearer(token(payload=claims(exp="4102444800"))), fail_token()),
    case("exp out of range", bearer(token(raw_payload='{"iss":"%s","sub":"u","aud":"%s","exp":1e400}' % (ISS, RESOURCE))), fail_token()),
    case("exp is null", bearer(token(raw_payload='{"iss":"%s","sub":"user-1","aud":"%s","exp":null}' % (ISS, RESOURCE))), fail_token()),
    case("nbf is null", bearer(token(raw_payload='{"iss":"%s","sub":"user-1","aud":"%s","exp":%d,"nbf":null}' % (ISS, RESOURCE, EXP))), fail_token()),
    case("aud is a number", bearer(token(payload=claims(aud=42))), fail_token()),
    case("aud is an object", bearer(token(payload=claims(aud={"x": RESOURCE}))), fail_token()),
    case("scope is an object", bearer(token(payload=claims(scope={"read": True}))), fail_token()),
    case("wrong issuer", bearer(token(payload=claims(iss=OTHER_ISS))), {
        "status": 401,
        "body": {"error": "invalid_issuer", "error_description": D["invalid_issuer"]},
        "www_authenticate": challenge("invalid_token", D["invalid_issuer"]),
    }),
    case("wrong issuer, details shown", bearer(token(payload=claims(iss=OTHER_ISS))), {
        "status": 401,
        "body": {"error": "invalid_issuer", "error_description": D["invalid_issuer"],
                 "cause": {"expected": ISS + ", " + SECOND_ISS, "actual": OTHER_ISS}},
        "www_authenticate": challenge("invalid_token", D["invalid_issuer"]),
    }, show_error_details=True),
    case("wrong audience", bearer(token(payload=claims(aud="https://other.example.com"))), {
        "status": 401,
        "body": {"error": "invalid_audience", "error_description": D["invalid_audience"]},
        "www_authenticate": challenge("invalid_token", D["invalid_audience"]),
    }),
    case("wrong audience, details shown", bearer(token(payload=claims(aud=["https://a.example.com"]))), {
        "status": 401,
        "body": {"error": "invalid_audience", "error_description": D["invalid_audience"],
                 "cause": {"expected": RESOURCE, "actual": ["https://a.example.com"]}},
        "www_authenticate": challenge("invalid_token", D["invalid_audience"]),
    }, show_error_details=True),
    case("no aud but audience required", bearer(token(payload=claims(aud=None))), {
        "status": 401,
        "body": {"error": "invalid_audience", "error_description": D["invalid_audience"]},
        "www_authenticate": challenge("invalid_token", D["invalid_audience"]),
    }),
    case("missing scopes", bearer(token(payload=claims(scope="read"))), {
        "status": 403,
        "body": {"error": "missing_required_scopes", "error_description": D["missing_required_scopes"],
                 "missing_scopes": ["write", "admin"]},
        "www_authenticate": challenge("insufficient_scope", D["missing_required_scopes"], "read write admin"),
    }, required_scopes=["read", "write", "admin"]),
    case("missing scopes, details shown", bearer(token(payload=claims(scope=None))), {
        "status": 403,
        "body": {"error": "missing_required_scopes", "error_description": D["missing_required_scopes"],
                 "cause": {"missing_scopes": ["read"]}, "missing_scopes": ["read"]},
        "www_authenticate": challenge("insufficient_scope", D["missing_required_scopes"], "read"),
    }, required_scopes=["read"], show_error_details=True),
    case("expired, scopes known", bearer(token(payload=claims(exp=PAST, iat=PAST - 60))), fail_token(scope="read"),
         required_scopes=["read"]),
    # Claims variety: Entra-style `scp` lists and `roles`, a second trusted issuer, RFC 9068 `typ`.
    case("scp as a list", bearer(token(payload=claims(scope=None, scp=["read", "write"]))), ok(info())),
    case("roles stay in the claims", bearer(token(payload=claims(roles=["Tasks.Read", "Tasks.Admin"]))),
         ok({**info(), "claims": {"roles": ["Tasks.Read", "Tasks.Admin"], "client_id": "client-1"}})),
    case("second trusted issuer", bearer(token(payload=claims(iss=SECOND_ISS))), ok(info(issuer=SECOND_ISS))),
    case("at+jwt not required, typ at+jwt", bearer(token(header_extra={"typ": "at+jwt"})), ok(info())),
    case("at+jwt required, typ at+jwt", bearer(token(header_extra={"typ": "at+jwt"})), ok(info()), require_at_jwt=True),
    case("at+jwt required, typ application/at+jwt", bearer(token(header_extra={"typ": "application/at+jwt"})), ok(info()),
         require_at_jwt=True),
    case("at+jwt required, typ JWT", bearer(good), fail_token(), require_at_jwt=True),
    case("at+jwt required, no typ", bearer(token(raw_header='{"alg":"RS256","kid":"rsa-1"}')), fail_token(),
         require_at_jwt=True),
]



def audience_refused(expected_audience=None, cause=None):
    body = {"error": "invalid_audience", "error_description": D["invalid_audience"]}
    if cause is not None:
        body["cause"] = cause
    if expected_audience is not None:
        body["expected_audience"] = expected_audience
    return {"status": 401, "body": body, "www_authenticate": challenge("invalid_token", D["invalid_audience"])}


def shown(text):
    """What a failure reason may quote of attacker text: no control characters, 64 at most."""
    kept = "".join(c for c in text if not (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F))
    return kept[:64] + ("…" if len(kept) > 64 else "")


def token_failed(cause, scope=None):
    """invalid_token with its cause shown, in the Python wording and the Node JSON shape."""
    base = fail_token(scope=scope)
    py = {**base, "body": {**base["body"], "cause": cause}}
    node = {**base, "body": {**base["body"], "cause": {"cause": cause}}}
    return py, node


LONG_ALG = "\u001b[31m\n" + "A" * 2000
LONG_KID = "\r\nforged: log line " + "k" * 500
_alg_py, _alg_node = token_failed("The algorithm `%s` is not supported." % shown(LONG_ALG))
_kid_py, _kid_node = token_failed("No key in the key set matches the token (kid `%s`, alg `RS256`)." % shown(LONG_KID))

token_cases += [
    # RFC 8707 audience in resource-server mode: the resource identifier when none is configured.
    case("audience defaults to the resource", bearer(good), ok(info()), audience=None),
    case("default audience, token for another resource", bearer(token(payload=claims(aud="https://other.example.com/mcp"))),
         audience_refused(RESOURCE), audience=None),
    case("default audience, token without aud", bearer(token(payload=claims(aud=None))), audience_refused(RESOURCE),
         audience=None),
    case("default audience, an ID token of the same issuer", bearer(token(payload=claims(aud="client-1", azp="client-1"))),
         audience_refused(RESOURCE), audience=None),
    case("default audience, details shown", bearer(token(payload=claims(aud=None))),
         audience_refused(RESOURCE, cause={"expected": RESOURCE, "actual": None}), audience=None, show_error_details=True),
    case("default audience, canonical form (scheme and host case, trailing slash)",
         bearer(token(payload=claims(aud="HTTPS://MCP.Example.COM/mcp/"))), ok(info(audience="HTTPS://MCP.Example.COM/mcp/")),
         audience=None),
    case("explicit audience, canonical form", bearer(token(payload=claims(aud=["https://mcp.example.com/mcp/"]))),
         ok(info(audience=["https://mcp.example.com/mcp/"]))),
    case("canonical form keeps the path's case", bearer(token(payload=claims(aud="https://mcp.example.com/MCP"))),
         audience_refused(RESOURCE), audience=None),
    case("explicit audience: a refusal does not name it", bearer(token(payload=claims(aud=None))), audience_refused()),
    # RFC 6749 §3.3: scopes are separated by SP only.
    case("a no-break space does not separate scopes", bearer(token(payload=claims(scope="read\u00a0write"))),
         ok(info(scopes=["read\u00a0write"]))),
    case("a tab does not separate scopes", bearer(token(payload=claims(scope="read\twrite admin"))),
         ok(info(scopes=["read\twrite", "admin"]))),
    case("a no-break space cannot smuggle a scope", bearer(token(payload=claims(scope="read\u00a0admin"))), {
        "status": 403,
        "body": {"error": "missing_required_scopes", "error_description": D["missing_required_scopes"],
                 "missing_scopes": ["admin"]},
        "www_authenticate": challenge("insufficient_scope", D["missing_required_scopes"], "admin"),
    }, required_scopes=["admin"]),
    # RFC 9068 §2.2: an access token has `exp`.
    case("at+jwt required, no exp", bearer(token(payload=claims(exp=None), header_extra={"typ": "at+jwt"})), fail_token(),
         require_at_jwt=True),
    case("at+jwt not required, no exp", bearer(token(payload=claims(exp=None))), ok(info())),
    # RFC 9864: `Ed25519` is EdDSA with Ed25519 keys, in a JWK's `alg` and in a header.
    case("JWK alg Ed25519, header alg EdDSA", bearer(token("EdDSA", ed, "ed-fully-specified")), ok(info())),
    case("JWK alg Ed25519, header alg Ed25519", bearer(token("Ed25519", ed, "ed-fully-specified")), ok(info())),
    # A published key with private members is not used.
    case("a published key with a private member", bearer(token(key=rsa2, kid="rsa-private")), fail_token()),
    # Attacker text in failure reasons: control characters dropped, 64 characters at most.
    case("long alg with control characters, details shown", bearer(token("RS256", raw_header=json.dumps({"alg": LONG_ALG}))),
         _alg_py, show_error_details=True, expect_node=_alg_node),
    case("long kid with a line break, details shown", bearer(token(kid=LONG_KID)), _kid_py, show_error_details=True,
         expect_node=_kid_node),
]

tokens_doc = {
    "description": "Bearer tokens through the 'jwt' mode of a protected route. See README.md.",
    "second_issuer": SECOND_ISS,
    "issuer": ISS,
    "resource": RESOURCE,
    "resource_metadata": PRM_URL,
    "metadata": {
        "issuer": ISS,
        "authorization_endpoint": ISS + "/authorize",
        "token_endpoint": ISS + "/token",
        "jwks_uri": "{jwks_uri}",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "registration_endpoint": ISS + "/register",
    },
    "jwks": JWKS,
    "cases": token_cases,
}

# --- errors raised or results returned by custom verifiers -------------------------------------

def resp(status, code, desc, chal_error, scope=None, extra=None, prm=PRM_URL):
    body = {"error": code, "error_description": desc, **(extra or {})}
    return {"status": status, "body": body,
            "www_authenticate": challenge(chal_error, desc.replace('"', "'"), scope, prm) if status != 500 else None}


SERVER_ERROR = {"error": "server_error", "error_description": "An error occurred with the authorization server."}
custom_cases = [
    {"name": "token verification: invalid_token", "raise": {"kind": "token_verification", "code": "invalid_token"},
     "expect": resp(401, "invalid_token", D_INVALID, "invalid_token")},
    {"name": "token verification: token_verification_failed", "raise": {"kind": "token_verification", "code": "token_verification_failed"},
     "expect": resp(401, "token_verification_failed",
                    "The token verification failed due to an error in the verification process.", "invalid_token"),
     "expect_node": resp(401, "token_verification_failed", "Token verification failed due to an error.", "invalid_token")},
    {"name": "bearer: invalid_token", "raise": {"kind": "bearer_auth", "code": "invalid_token"},
     "expect": resp(401, "invalid_token", D["invalid_token"], "invalid_token")},
    {"name": "bearer: missing_required_scopes with details", "required_scopes": ["a", "b"],
     "raise": {"kind": "bearer_auth", "code": "missing_required_scopes", "missing_scopes": ["b"]},
     "expect": resp(403, "missing_required_scopes", D["missing_required_scopes"], "insufficient_scope", "a b",
                    {"missing_scopes": ["b"]})},
    {"name": "bearer: invalid_issuer, details shown", "show_error_details": True,
     "raise": {"kind": "bearer_auth", "code": "invalid_issuer", "expected": "https://a.example.com", "actual": "https://b.example.com"},
     "expect": resp(401, "invalid_issuer", D["invalid_issuer"], "invalid_token",
                    extra={"cause": {"expected": "https://a.example.com", "actual": "https://b.example.com"}})},
    {"name": "auth server error is a 500", "raise": {"kind": "auth_server", "code": "missing_jwks_uri"},
     "expect": {"status": 500, "body": SERVER_ERROR, "www_authenticate": None}},
    {"name": "auth server error with details", "show_error_details": True, "raise": {"kind": "auth_server", "code": "invalid_server_metadata"},
     "expect": {"status": 500, "body": {**SERVER_ERROR, "cause": {"error": "invalid_server_metadata",
                "error_description": "The server metadata is invalid or malformed."}}, "www_authenticate": None}},
    {"name": "returned info from an untrusted issuer",
     "return": {"issuer": OTHER_ISS, "subject": "u", "scopes": [], "audience": RESOURCE},
     "expect": resp(401, "invalid_issuer", D["invalid_issuer"], "invalid_token")},
    {"name": "returned info for another audience",
     "return": {"issuer": ISS, "subject": "u", "scopes": [], "audience": "https://x.example.com"},
     "expect": resp(401, "invalid_audience", D["invalid_audience"], "invalid_token")},
    {"name": "returned info without the scopes", "required_scopes": ["read"],
     "return": {"issuer": ISS, "subject": "u", "scopes": ["write"], "audience": RESOURCE},
     "expect": resp(403, "missing_required_scopes", D["missing_required_scopes"], "insufficient_scope", "read",
                    {"missing_scopes": ["read"]})},
    {"name": "returned info that passes", "required_scopes": ["read"],
     "return": {"issuer": ISS, "subject": "u", "scopes": ["read"], "audience": [RESOURCE]},
     "expect": {"status": 200}},
    # No audience configured: in resource-server mode the resource identifier is expected.
    {"name": "default audience, returned info without audience", "audience": None,
     "return": {"issuer": ISS, "subject": "u", "scopes": []},
     "expect": resp(401, "invalid_audience", D["invalid_audience"], "invalid_token", extra={"expected_audience": RESOURCE})},
    {"name": "default audience, returned info naming the resource in canonical form", "audience": None,
     "return": {"issuer": ISS, "subject": "u", "scopes": [], "audience": "https://MCP.example.com/mcp/"},
     "expect": {"status": 200}},
    {"name": "audience check turned off", "audience": None, "accept_any_audience": True,
     "return": {"issuer": ISS, "subject": "u", "scopes": []},
     "expect": {"status": 200}},
]

custom_doc = {
    "description": "Custom verify functions: what they raise or return, and the answer. See README.md.",
    "issuer": ISS,
    "resource": RESOURCE,
    "resource_metadata": PRM_URL,
    "audience": RESOURCE,
    "cases": custom_cases,
}

# --- the 'introspection' mode (RFC 7662) ---------------------------------------------------------

D_FAILED_PY = "The token verification failed due to an error in the verification process."
D_FAILED_NODE = "Token verification failed due to an error."


def active(**over):
    a = {"active": True, "iss": ISS, "sub": "user-1", "client_id": "client-1", "scope": "read write",
         "aud": RESOURCE, "exp": EXP, "iat": IAT, "token_type": "Bearer"}
    for k, v in over.items():
        if v is None:
            a.pop(k, None)
        else:
            a[k] = v
    return a


def icase(name, answer, expect, expect_node=None, token=None, header=None, auth_method="client_secret_basic",
          audience=RESOURCE, required_scopes=None, leeway=60, show_error_details=False, client_secret=None,
          accept_any_audience=False):
    tok = token or "opaque-" + hashlib.sha256(name.encode()).hexdigest()[:24]
    c = {"name": name, "token": tok, "header": header if header is not None else "Bearer " + tok,
         "answer": answer if "status" in answer else {"status": 200, "json": answer},
         "auth_method": auth_method, "audience": audience, "required_scopes": required_scopes, "leeway": leeway,
         "show_error_details": show_error_details, "expect": expect}
    if header is False:
        c["header"] = None
    if expect_node:
        c["expect_node"] = expect_node
    if client_secret is not None:
        c["client_secret"] = client_secret
    if accept_any_audience:
        c["accept_any_audience"] = True
    return c


def failed():
    return resp(401, "token_verification_failed", D_FAILED_PY, "invalid_token")


def failed_node():
    return resp(401, "token_verification_failed", D_FAILED_NODE, "invalid_token")


INVALID = resp(401, "invalid_token", D_INVALID, "invalid_token")
introspection_cases = [
    icase("active, client_secret_basic", active(), ok(info())),
    icase("active, client_secret_post", active(), ok(info()), auth_method="client_secret_post"),
    icase("scope as a list", active(scope=["read", "write"]), ok(info())),
    icase("scopes from scp", active(scope=None, scp="read write"), ok(info())),
    icase("no iss: the one trusted server", active(iss=None), ok(info())),
    icase("no sub (client credentials)", active(sub=None), ok(info(subject=None))),
    icase("audience list", active(aud=[RESOURCE, "https://other.example.com"]),
          ok(info(audience=[RESOURCE, "https://other.example.com"]))),
    icase("no token_type", active(token_type=None), ok(info())),
    icase("roles and extra fields stay in the claims", active(roles=["Tasks.Read"], username="ada"),
          ok({**info(), "claims": {"roles": ["Tasks.Read"], "username": "ada", "active": True}})),
    icase("expired within leeway", active(exp=PAST), ok(info()), leeway=500_000_000),
    icase("audience check turned off, none given", active(aud=None), ok(info(audience=None)), audience=None,
          accept_any_audience=True),
    icase("default audience, none given", active(aud=None), resp(401, "invalid_audience", D["invalid_audience"],
          "invalid_token", extra={"expected_audience": RESOURCE}), audience=None),
    icase("default audience, the resource", active(), ok(info()), audience=None),
    icase("typ Bearer (Keycloak's access tokens)", active(typ="Bearer"), ok(info())),
    icase("token_use access_token (Ory Hydra)", active(token_use="access_token"), ok(info())),
    icase("typ Refresh with token_type Bearer", active(typ="Refresh"), INVALID),
    icase("typ Offline with token_type Bearer", active(typ="Offline"), INVALID),
    icase("typ ID with token_type Bearer", active(typ="ID"), INVALID),
    icase("token_use refresh_token (Ory Hydra)", active(token_use="refresh_token", token_type=None), INVALID),
    icase("token_use id", active(token_use="id"), INVALID),
    icase("typ of a refresh token, details shown", active(typ="Refresh"),
          resp(401, "invalid_token", D_INVALID, "invalid_token",
               extra={"cause": "The introspection answer's `typ` is `Refresh`: the token is not an access token."}),
          show_error_details=True,
          expect_node=resp(401, "invalid_token", D_INVALID, "invalid_token",
               extra={"cause": {"cause": "The introspection answer's `typ` is `Refresh`: the token is not an access token."}})),
    icase("required scopes present", active(), ok(info()), required_scopes=["read"]),
    icase("missing header", active(), {
        "status": 401,
        "body": {"error": "missing_auth_header", "error_description": D["missing_auth_header"]},
        "www_authenticate": challenge(),
    }, header=False),
    icase("inactive", {"active": False}, INVALID),
    icase("inactive, details shown", {"active": False},
          resp(401, "invalid_token", D_INVALID, "invalid_token", extra={"cause": "The token is not active."}),
          show_error_details=True,
          expect_node=resp(401, "invalid_token", D_INVALID, "invalid_token", extra={"cause": {"cause": "The token is not active."}})),
    icase("expired although active", active(exp=PAST), INVALID),
    icase("not yet valid (nbf)", active(nbf=EXP - 100), INVALID),
    icase("exp is a string", active(exp="4102444800"), INVALID),
    icase("a refresh token", active(token_type="refresh_token"), INVALID),
    icase("untrusted issuer", active(iss=OTHER_ISS), resp(401, "invalid_issuer", D["invalid_issuer"], "invalid_token")),
    icase("wrong audience", active(aud="https://other.example.com"),
          resp(401, "invalid_audience", D["invalid_audience"], "invalid_token")),
    icase("no aud but audience required", active(aud=None),
          resp(401, "invalid_audience", D["invalid_audience"], "invalid_token")),
    icase("missing scopes", active(scope="read"),
          resp(403, "missing_required_scopes", D["missing_required_scopes"], "insufficient_scope", "read admin",
               {"missing_scopes": ["admin"]}), required_scopes=["read", "admin"]),
    icase("active is a string", {"active": "true", "iss": ISS, "sub": "user-1"}, failed(), failed_node()),
    icase("answer is not an object", {"status": 200, "json": [True]}, failed(), failed_node()),
    icase("endpoint answers 500", {"status": 500, "json": {"error": "server_error"}}, failed(), failed_node()),
    icase("endpoint answers HTML", {"status": 200, "text": "<html>active</html>"}, failed(), failed_node()),
    icase("wrong client secret", active(), failed(), failed_node(), client_secret="not-the-secret"),
    icase("wrong client secret, client_secret_post", active(), failed(), failed_node(),
          auth_method="client_secret_post", client_secret="not-the-secret"),
    # Answers shaped like the live servers' (tests/interop): Ory Hydra answers a refresh token
    # as active with `token_type: Bearer` and only `token_use` tells it apart; Keycloak names the
    # kind in `token_type` (and `typ`).
    icase("Hydra: access token", active(scope="openid notes:read", aud=[RESOURCE], nbf=IAT,
                                        token_use="access_token", ext={"tenant": "acme"}),
          ok({**info(scopes=["openid", "notes:read"], audience=[RESOURCE]),
              "claims": {"ext": {"tenant": "acme"}, "token_use": "access_token"}})),
    icase("Hydra: refresh token (token_type Bearer, token_use refresh_token)",
          active(scope="openid notes:read", aud=[RESOURCE], token_use="refresh_token"), INVALID),
    icase("Keycloak: access token", active(typ="Bearer", azp="client-1", username="ada", aud=[RESOURCE, "account"],
                                           realm_access={"roles": ["default-roles-mcp"]}),
          ok({**info(audience=[RESOURCE, "account"]), "claims": {"realm_access": {"roles": ["default-roles-mcp"]},
                                                                  "typ": "Bearer"}})),
    icase("Keycloak: refresh token (token_type Refresh)", active(token_type="Refresh", typ="Refresh"), INVALID),
    icase("Keycloak: ID token (token_type ID)", active(token_type="ID", typ="ID"), INVALID),
]

introspection_doc = {
    "description": "Opaque tokens through the 'introspection' mode (RFC 7662). See README.md.",
    "issuer": ISS,
    "resource": RESOURCE,
    "resource_metadata": PRM_URL,
    "client_id": "mcp-server",
    # Characters that RFC 6749 §2.3.1 form-encodes before the Basic header's base64.
    "client_secret": "s3cret:with/special+chars é",
    "metadata": {
        "issuer": ISS,
        "authorization_endpoint": ISS + "/authorize",
        "token_endpoint": ISS + "/token",
        "introspection_endpoint": "{introspection_endpoint}",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
    },
    "cases": introspection_cases,
}

# --- pure functions ------------------------------------------------------------------------------

OA, OI = "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"
well_known = [
    ("https://example.com", "https://example.com" + OA, "https://example.com" + OI),
    ("https://example.com/", "https://example.com" + OA, "https://example.com" + OI),
    ("https://example.com/path", "https://example.com" + OA + "/path", "https://example.com/path" + OI),
    ("https://example.com/path/", "https://example.com" + OA + "/path", "https://example.com/path" + OI),
    ("https://auth.logto.io/oidc", "https://auth.logto.io" + OA + "/oidc", "https://auth.logto.io/oidc" + OI),
    ("https://a.com/t/x/", "https://a.com" + OA + "/t/x", "https://a.com/t/x" + OI),
    ("https://a.com//double//slash", "https://a.com" + OA + "/double/slash", "https://a.com/double/slash" + OI),
    ("http://localhost:3000/realms/r", "http://localhost:3000" + OA + "/realms/r", "http://localhost:3000/realms/r" + OI),
    ("https://a.com/p?x=1", "https://a.com" + OA + "/p?x=1", "https://a.com/p" + OI + "?x=1"),
    ("HTTPS://Example.COM/Tenant", "https://example.com" + OA + "/Tenant", "https://example.com/Tenant" + OI),
]
well_known_doc = {
    "description": "Well-known metadata URLs of an issuer; `discovery` is the order tried without a type.",
    "cases": [
        {"issuer": i, "oauth": o, "oidc": d,
         "discovery": [[o, "oauth"]] + ([["https://" + i.split("://")[1].split("/")[0].lower() + OI + "/" + "/".join(s for s in i.split("://")[1].split("?")[0].split("/")[1:] if s), "oidc"]]
                                         if any(i.split("://")[1].split("?")[0].split("/")[1:]) else []) + [[d, "oidc"]]}
        for i, o, d in well_known
    ],
    "errors": [
        {"issuer": "not a url"},
        {"issuer": "ftp://example.com"},
        {"issuer": "/relative/path"},
    ],
}
# The query case is not "https" only in the discovery list computed above; fix it by hand.
for c in well_known_doc["cases"]:
    if c["issuer"] == "https://a.com/p?x=1":
        c["discovery"] = [[c["oauth"], "oauth"], ["https://a.com" + OI + "/p?x=1", "oidc"], [c["oidc"], "oidc"]]
    if c["issuer"].startswith("http://localhost"):
        c["discovery"][1][0] = "http://localhost:3000" + OI + "/realms/r"
    if c["issuer"] == "HTTPS://Example.COM/Tenant":
        c["discovery"][1][0] = "https://example.com" + OI + "/Tenant"

P = "/.well-known/oauth-protected-resource"
resource_doc = {
    "description": "Protected Resource Metadata: URL and route path from a resource identifier, and the document.",
    "urls": [
        {"resource": "https://example.com", "url": "https://example.com" + P, "path": P},
        {"resource": "https://example.com/", "url": "https://example.com" + P, "path": P},
        {"resource": "https://example.com/api/v1", "url": "https://example.com" + P + "/api/v1", "path": P + "/api/v1"},
        {"resource": "https://example.com/api/v1/", "url": "https://example.com" + P + "/api/v1/", "path": P + "/api/v1/"},
        {"resource": "http://localhost:3000/foo", "url": "http://localhost:3000" + P + "/foo", "path": P + "/foo"},
        {"resource": "https://example.com/api/v1?foo=bar", "url": "https://example.com" + P + "/api/v1", "path": P + "/api/v1"},
        {"resource": "HTTPS://EXAMPLE.com/MCP", "url": "https://example.com" + P + "/MCP", "path": P + "/MCP"},
        {"resource": "https://user:pw@a.com/x", "url": "https://a.com" + P + "/x", "path": P + "/x"},
    ],
    "url_errors": [
        {"resource": "https://example.com/mcp#frag"},
        {"resource": "example.com/mcp"},
        {"resource": "my-api-2"},
        {"resource": "urn:example:resource"},
    ],
    "config_errors": [
        {"resources": [{"resource": RESOURCE, "issuers": [ISS]}, {"resource": RESOURCE, "issuers": []}],
         "python": "The resource metadata ('%s') is duplicated." % RESOURCE,
         "node": "The resource metadata (`%s`) is duplicated." % RESOURCE},
        {"resources": [{"resource": RESOURCE, "issuers": [ISS, OTHER_ISS, ISS]}],
         "python": "The authorization server ('%s') for resource '%s' is duplicated." % (ISS, RESOURCE),
         "node": "The authorization server (`%s`) for resource `%s` is duplicated." % (ISS, RESOURCE)},
    ],
    "documents": [
        {"metadata": {"resource": RESOURCE, "scopes_supported": ["read", "write"]},
         "issuers": [ISS, OTHER_ISS],
         "expected": {"resource": RESOURCE, "scopes_supported": ["read", "write"], "authorization_servers": [ISS, OTHER_ISS]}},
        {"metadata": {"resource": RESOURCE, "resource_name": "Todo", "bearer_methods_supported": ["header"], "scopes_supported": []},
         "issuers": [],
         "expected": {"resource": RESOURCE, "resource_name": "Todo", "bearer_methods_supported": ["header"], "scopes_supported": []}},
    ],
}

BASE = {"issuer": ISS, "authorization_endpoint": ISS + "/a", "token_endpoint": ISS + "/t",
        "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
        "registration_endpoint": ISS + "/r"}


def md(**over):
    m = dict(BASE)
    for k, v in over.items():
        if v is None:
            m.pop(k, None)
        else:
            m[k] = v
    return m


ALL_OK = ["server_metadata_valid", "code_response_type_supported", "authorization_code_grant_supported",
          "pkce_supported", "s256_code_challenge_method_supported", "dynamic_registration_supported"]
validation_doc = {
    "description": "validate_server_config / validateServerConfig on snake_case metadata. `successes` is what the Node package reports with verbose=true.",
    "cases": [
        {"name": "compatible", "metadata": md(), "is_valid": True, "errors": [], "warnings": [], "successes": ALL_OK},
        {"name": "no registration endpoint", "metadata": md(registration_endpoint=None), "is_valid": True, "errors": [],
         "warnings": ["dynamic_registration_not_supported"], "successes": ALL_OK[:-1]},
        {"name": "code inside a combined response type", "metadata": md(response_types_supported=["id_token", "code id_token"]),
         "is_valid": True, "errors": [], "warnings": [], "successes": ALL_OK},
        {"name": "no code response type", "metadata": md(response_types_supported=["token"]), "is_valid": False,
         "errors": ["code_response_type_not_supported"], "warnings": [],
         "successes": [s for s in ALL_OK if s != "code_response_type_supported"]},
        {"name": "explicit empty grant types", "metadata": md(grant_types_supported=[]), "is_valid": False,
         "errors": ["authorization_code_grant_not_supported"], "warnings": [],
         "successes": [s for s in ALL_OK if s != "authorization_code_grant_supported"]},
        {"name": "no PKCE", "metadata": md(code_challenge_methods_supported=None), "is_valid": False,
         "errors": ["pkce_not_supported"], "warnings": [],
         "successes": ["server_metadata_valid", "code_response_type_supported", "authorization_code_grant_supported", "dynamic_registration_supported"]},
        {"name": "plain PKCE only", "metadata": md(code_challenge_methods_supported=["plain"]), "is_valid": False,
         "errors": ["s256_code_challenge_method_not_supported"], "warnings": [],
         "successes": ["server_metadata_valid", "code_response_type_supported", "authorization_code_grant_supported", "pkce_supported", "dynamic_registration_supported"]},
        {"name": "empty PKCE list (packages differ)", "metadata": md(code_challenge_methods_supported=[]), "is_valid": False,
         "errors": ["pkce_not_supported"], "errors_node": ["s256_code_challenge_method_not_supported"], "warnings": [],
         "successes": ["server_metadata_valid", "code_response_type_supported", "authorization_code_grant_supported", "dynamic_registration_supported"],
         "successes_node": ["server_metadata_valid", "code_response_type_supported", "authorization_code_grant_supported", "pkce_supported", "dynamic_registration_supported"]},
        {"name": "everything wrong", "metadata": md(response_types_supported=["token"], grant_types_supported=["implicit"],
                                                   code_challenge_methods_supported=None, registration_endpoint=None),
         "is_valid": False, "errors": ["code_response_type_not_supported", "authorization_code_grant_not_supported", "pkce_not_supported"],
         "warnings": ["dynamic_registration_not_supported"], "successes": ["server_metadata_valid"]},
        {"name": "missing required field", "metadata": md(token_endpoint=None), "is_valid": False,
         "errors": ["invalid_server_metadata"], "warnings": [], "successes": [], "schema_error": True},
    ],
}


# --- the provider checker (`python -m mcpauth check`, `npx mcp-auth check`) -------------------

def served(issuer, **over):
    fields = {"issuer": issuer, "authorization_endpoint": issuer + "/a", "token_endpoint": issuer + "/t",
              "registration_endpoint": issuer + "/r", **over}
    return md(**fields)


D_OK = {c: d for c, d in [
    ("server_metadata_valid", "The server metadata is valid and conforms to the expected schema."),
    ("code_response_type_supported", 'The "code" response type is supported by the server.'),
    ("authorization_code_grant_supported", 'The "authorization_code" grant type is supported by the server.'),
    ("pkce_supported", "Proof Key for Code Exchange (PKCE) is supported by the server."),
    ("s256_code_challenge_method_supported",
     'The "S256" code challenge method for Proof Key for Code Exchange (PKCE) is supported by the server.'),
    ("dynamic_registration_supported", "Dynamic Client Registration (RFC 7591) is supported by the server."),
]}
GOOD_FINDINGS = [
    "",
    "Successes (6)",
    "  ✓ Server metadata valid: " + D_OK["server_metadata_valid"],
    "  ✓ Code response type supported: " + D_OK["code_response_type_supported"],
    "  ✓ Authorization code grant supported: " + D_OK["authorization_code_grant_supported"],
    "  ✓ PKCE supported: " + D_OK["pkce_supported"],
    "  ✓ S256 code challenge method supported: " + D_OK["s256_code_challenge_method_supported"],
    "  ✓ Dynamic registration supported: " + D_OK["dynamic_registration_supported"],
]
OA_GOOD = "{base}" + OA + "/good"
checker_doc = {
    "description": "The provider checker of both packages against metadata served locally. See README.md.",
    "documents": {
        OA + "/good": served("{base}/good"),
        "/appended" + OI: served("{base}/appended", code_challenge_methods_supported=None, registration_endpoint=None),
        OA + "/other": served("https://elsewhere.example.com"),
        OA + "/broken": served("{base}/broken", token_endpoint=None),
        OA + "/painted": served("{base}/painted\u001b[2J\nCompatible with MCP"),
    },
    "cases": [
        {"name": "compatible, found at the first URL", "target": "{base}/good", "type": None, "exit_code": 0,
         "text": ["{base}/good (oauth): Compatible with MCP", "Metadata: " + OA_GOOD, *GOOD_FINDINGS]},
        {"name": "a metadata URL is fetched as is", "target": OA_GOOD, "type": None, "exit_code": 0,
         "text": ["{base}/good (oauth): Compatible with MCP", "Metadata: " + OA_GOOD, *GOOD_FINDINGS]},
        {"name": "found at the third URL, not compatible", "target": "{base}/appended", "type": None, "exit_code": 1,
         "text": ["{base}/appended (oidc): Not compatible with MCP", "Metadata: {base}/appended" + OI,
                  "", "Successes (3)",
                  "  ✓ Server metadata valid: " + D_OK["server_metadata_valid"],
                  "  ✓ Code response type supported: " + D_OK["code_response_type_supported"],
                  "  ✓ Authorization code grant supported: " + D_OK["authorization_code_grant_supported"],
                  "", "Warnings (1)",
                  "  ! Dynamic registration not supported: Dynamic Client Registration (RFC 7591) is not supported by the server.",
                  "", "Errors (1)",
                  "  ✗ PKCE not supported: The server does not support Proof Key for Code Exchange (PKCE)."]},
        {"name": "the metadata names another issuer", "target": "{base}/other", "type": "oauth", "exit_code": 1,
         "text": ["{base}/other (oauth): Not compatible with MCP", "Metadata: {base}" + OA + "/other",
                  *GOOD_FINDINGS,
                  "", "Errors (1)",
                  "  ✗ Issuer mismatch: The metadata names another issuer than the one it was fetched for"
                  " (RFC 8414 §3.3), so clients will refuse it.",
                  '      expected "{base}/other", found "https://elsewhere.example.com"']},
        {"name": "the metadata misses a required field", "target": "{base}/broken", "type": None, "exit_code": 1,
         "text": ["{base}/broken (oauth): Not compatible with MCP", "Metadata: {base}" + OA + "/broken",
                  "", "Errors (1)",
                  "  ✗ Invalid server metadata: The server metadata is not a valid object or does not conform"
                  " to the expected schema.",
                  "      missing field `token_endpoint`"]},
        {"name": "control characters of remote text are shown escaped", "target": "{base}" + OA + "/painted", "type": None,
         "exit_code": 0,
         "text": ["{base}/painted\\u{1b}[2J\\u{a}Compatible with MCP (oauth): Compatible with MCP",
                  "Metadata: {base}" + OA + "/painted", *GOOD_FINDINGS]},
        {"name": "no metadata anywhere", "target": "{base}/missing", "type": None, "exit_code": 2,
         "text": ["Fetch server config error: Failed to fetch server config from {base}/missing" + OI
                  + ": 404 Not Found (also tried {base}" + OA + "/missing (404 Not Found), {base}" + OI
                  + "/missing (404 Not Found))"]},
    ],
}



# --- operations.json: per-operation rules (tools, resources, prompts, methods, scope hierarchy) ---

OP_TOKENS = {
    "read": token(payload=claims(scope="read")),
    "todos": token(payload=claims(scope="read create:todos")),
    "todos_all": token(payload=claims(scope="read create:todos delete:todos")),
    "admin": token(payload=claims(scope="read notes:admin")),
    "none": token(payload=claims(scope=None)),
}
OP_RULES = {
    "tool_scopes": {"add-todo": ["create:todos"], "delete-todo": ["delete:todos"], "notiz-löschen": ["delete:todos"]},
    "resource_scopes": {"notes://{id}": ["notes:read"], "config://app": ["config:read"]},
    "prompt_scopes": {"summarize": ["prompts:use"]},
    "method_scopes": {"resources/list": ["notes:read"]},
}
OP_HIERARCHY = {"notes:admin": ["notes:write"], "notes:write": ["notes:read"]}
JSON_CT = "application/json"


def rpc(method, params=None, id=1):
    m = {"jsonrpc": "2.0", "id": id, "method": method}
    if id is None:
        del m["id"]
    if params is not None:
        m["params"] = params
    return m


def call(tool, **args):
    return rpc("tools/call", {"name": tool, "arguments": args})


def req(body, method="POST", content_type=JSON_CT, headers=None, raw=False):
    h = {} if content_type is None else {"content-type": content_type}
    h.update(headers or {})
    r = {"method": method, "headers": h}
    if isinstance(body, bytes):
        r["body_base64"] = base64.b64encode(body).decode()
    elif body is not None:
        r["body"] = body if raw else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return r


def allowed(*ops):
    return {"status": 200, "operations": [{"method": m, **({"name": n} if n is not None else {})} for m, n in ops]}


def insufficient(scope, missing):
    return {
        "status": 403,
        "body": {"error": "missing_required_scopes", "error_description": D["missing_required_scopes"], "missing_scopes": missing},
        "www_authenticate": challenge("insufficient_scope", D["missing_required_scopes"], scope),
    }


def refused(status, code):
    return {"status": status, "jsonrpc_code": code}


def op(name, tok, request, expect, rules=OP_RULES, required_scopes=("read",), hierarchy=None):
    c = {"name": name, "token": tok, "required_scopes": list(required_scopes), "rules": dict(rules), "request": request, "expect": expect}
    if hierarchy:
        c["rules"]["scope_hierarchy"] = hierarchy
    return c


B64_NAME = lambda s: "=?base64?" + base64.b64encode(s.encode()).decode() + "?="
PARSE, INVALID, MISMATCH = -32700, -32600, -32020

operation_cases = [
    # Tools
    op("tool without a rule: the endpoint rule", "read", req(call("whoami")), allowed(("tools/call", "whoami"))),
    op("tool with a rule, scope missing: one challenge with every scope", "read", req(call("add-todo", title="x")),
       insufficient("read create:todos", ["create:todos"])),
    op("tool with a rule, scope held", "todos", req(call("add-todo", title="x")), allowed(("tools/call", "add-todo"))),
    op("endpoint and tool scopes both missing", "none", req(call("add-todo", title="x")),
       insufficient("read create:todos", ["read", "create:todos"])),
    op("tool names are case-sensitive, as the SDKs route them", "read", req(call("Add-Todo")), allowed(("tools/call", "Add-Todo"))),
    op("no credentials: 401 before the body is looked at", None, req(b"\xff not json"),
       {"status": 401, "body": {"error": "missing_auth_header", "error_description": D["missing_auth_header"]},
        "www_authenticate": challenge(scope="read")}),
    # Batches
    op("batch: the second message needs a scope", "read", req([call("whoami"), call("add-todo", title="x")]),
       insufficient("read create:todos", ["create:todos"])),
    op("batch: the union of every message's scopes", "todos", req([call("add-todo"), call("delete-todo", id=1)]),
       insufficient("read create:todos delete:todos", ["delete:todos"])),
    op("batch: all held", "todos_all", req([call("add-todo"), call("delete-todo", id=1)]),
       allowed(("tools/call", "add-todo"), ("tools/call", "delete-todo"))),
    op("batch with a notification", "todos", req([rpc("notifications/initialized", id=None), call("add-todo")]),
       allowed(("notifications/initialized", None), ("tools/call", "add-todo"))),
    op("a notification needs only the endpoint rule", "read", req(rpc("notifications/initialized", id=None)),
       allowed(("notifications/initialized", None))),
    op("a response needs only the endpoint rule", "read", req({"jsonrpc": "2.0", "id": 7, "result": {}}), allowed()),
    op("an empty batch", "read", req([]), refused(400, INVALID)),
    op("a batch of non-objects", "read", req([1]), refused(400, INVALID)),
    # Resources
    op("resource template matches", "read", req(rpc("resources/read", {"uri": "notes://42"})),
       insufficient("read notes:read", ["notes:read"])),
    op("resource template does not match deeper paths", "read", req(rpc("resources/read", {"uri": "notes://42/x"})),
       allowed(("resources/read", "notes://42/x"))),
    op("resource by exact URI", "read", req(rpc("resources/read", {"uri": "config://app"})),
       insufficient("read config:read", ["config:read"])),
    op("resource exact URI is exact", "read", req(rpc("resources/read", {"uri": "config://app2"})),
       allowed(("resources/read", "config://app2"))),
    # Prompts and methods
    op("prompt with a rule", "read", req(rpc("prompts/get", {"name": "summarize"})), insufficient("read prompts:use", ["prompts:use"])),
    op("prompt without a rule", "read", req(rpc("prompts/get", {"name": "other"})), allowed(("prompts/get", "other"))),
    op("method rule", "read", req(rpc("resources/list")), insufficient("read notes:read", ["notes:read"])),
    op("method without a rule", "read", req(rpc("tools/list")), allowed(("tools/list", None))),
    # Scope hierarchy
    op("hierarchy: notes:admin implies notes:read through notes:write", "admin", req(rpc("resources/read", {"uri": "notes://42"})),
       allowed(("resources/read", "notes://42")), hierarchy=OP_HIERARCHY),
    op("hierarchy: without it, notes:admin is just another scope", "admin", req(rpc("resources/read", {"uri": "notes://42"})),
       insufficient("read notes:read", ["notes:read"])),
    op("hierarchy applies to the endpoint's scopes too", "admin", req(call("whoami")), allowed(("tools/call", "whoami")),
       required_scopes=("notes:write",), hierarchy=OP_HIERARCHY),
    op("hierarchy alone: the body is not inspected", "admin", req(b"\xff not json"), allowed(), rules={},
       required_scopes=("notes:read",), hierarchy=OP_HIERARCHY),
    op("hierarchy alone: endpoint shortfall", "read", req(call("whoami")),
       insufficient("notes:read", ["notes:read"]), rules={}, required_scopes=("notes:read",), hierarchy=OP_HIERARCHY),
    # Other HTTP methods
    op("GET (SSE) needs only the endpoint rule", "read", req(None, method="GET", content_type=None), allowed()),
    op("GET below the endpoint rule", "none", req(None, method="GET", content_type=None), insufficient("read", ["read"])),
    op("DELETE needs only the endpoint rule", "read", req(None, method="DELETE", content_type=None), allowed()),
    # Bodies two parsers could read differently
    op("duplicate params.name", "read",
       req('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"add-todo"}}', raw=True),
       refused(400, PARSE)),
    op("duplicate method", "read",
       req('{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"add-todo"}}', raw=True),
       refused(400, PARSE)),
    op("duplicate key spelled with an escape", "read",
       req('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","n\\u0061me":"add-todo"}}', raw=True),
       refused(400, PARSE)),
    op("duplicate key deep inside arguments", "read",
       req('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"a":{"b":1,"b":2}}}}', raw=True),
       refused(400, PARSE)),
    op("unquoted key (lenient JSON)", "read",
       req('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{name:"add-todo"}}', raw=True), refused(400, PARSE)),
    op("single-quoted string (lenient JSON)", "read",
       req("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":'add-todo'}}", raw=True), refused(400, PARSE)),
    op("trailing comma (lenient JSON)", "read",
       req('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add-todo",}}', raw=True), refused(400, PARSE)),
    op("comment (lenient JSON)", "read",
       req('{"jsonrpc":"2.0","id":1,/* x */"method":"tools/call","params":{"name":"add-todo"}}', raw=True), refused(400, PARSE)),
    op("trailing data after the message", "read", req(json.dumps(call("whoami")) + " " + json.dumps(call("add-todo")), raw=True),
       refused(400, PARSE)),
    op("UTF-8 labelled charset=UTF-16", "read", req(call("add-todo"), content_type="application/json; charset=UTF-16"),
       refused(400, PARSE)),
    op("UTF-8 labelled charset=utf-8 is fine", "todos", req(call("add-todo"), content_type='application/json; charset="UTF-8"'),
       allowed(("tools/call", "add-todo"))),
    op("UTF-16 bytes", "read", req(json.dumps(call("add-todo")).encode("utf-16-le")), refused(400, PARSE)),
    op("invalid UTF-8", "read", req(b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add-todo\xff"}}'),
       refused(400, PARSE)),
    op("byte-order mark", "read", req(b"\xef\xbb\xbf" + json.dumps(call("add-todo")).encode()), refused(400, PARSE)),
    op("lone surrogate escape", "read", req('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add-todo\\ud800"}}', raw=True),
       refused(400, PARSE)),
    op("number out of range", "read", req('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"n":1e400}}}', raw=True),
       refused(400, PARSE)),
    op("NaN", "read", req('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"n":NaN}}}', raw=True),
       refused(400, PARSE)),
    op("nesting too deep", "read", req('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"a":'
                                        + "[" * 70 + "]" * 70 + "}}}", raw=True), refused(400, PARSE)),
    op("empty body", "read", req("", raw=True), refused(400, PARSE)),
    # JSON that is not a classifiable JSON-RPC message
    op("a string", "read", req("hello"), refused(400, INVALID)),
    op("tools/call without params.name", "read", req(rpc("tools/call", {"arguments": {}})), refused(400, INVALID)),
    op("tools/call without params", "read", req(rpc("tools/call")), refused(400, INVALID)),
    op("tools/call with a numeric name", "read", req(rpc("tools/call", {"name": 5})), refused(400, INVALID)),
    op("resources/read without a string uri", "read", req(rpc("resources/read", {"uri": ["notes://42"]})), refused(400, INVALID)),
    op("method is not a string", "read", req({"jsonrpc": "2.0", "id": 1, "method": ["tools/call"]}), refused(400, INVALID)),
    op("jsonrpc missing", "read", req({"id": 1, "method": "tools/call", "params": {"name": "add-todo"}}), refused(400, INVALID)),
    op("id null", "read", req({"jsonrpc": "2.0", "id": None, "method": "tools/call", "params": {"name": "add-todo"}}), refused(400, INVALID)),
    op("id fractional", "read", req({"jsonrpc": "2.0", "id": 1.5, "method": "tools/call", "params": {"name": "add-todo"}}), refused(400, INVALID)),
    op("params is an array", "read", req({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": ["add-todo"]}), refused(400, INVALID)),
    op("neither request nor response", "read", req({"jsonrpc": "2.0", "id": 1}), refused(400, INVALID)),
    # Media type and size
    op("text/plain", "read", req(call("add-todo"), content_type="text/plain"), refused(415, INVALID)),
    op("no Content-Type", "read", req(call("add-todo"), content_type=None), refused(415, INVALID)),
    op("larger than the inspection limit", "read", req(call("whoami", text="x" * 100)), refused(413, INVALID),
       rules={**OP_RULES, "max_body_bytes": 100}),
    op("within the inspection limit", "read", req(call("whoami")), allowed(("tools/call", "whoami")),
       rules={**OP_RULES, "max_body_bytes": 100}),
    # Mcp-Method / Mcp-Name (SEP-2243)
    op("Mcp-Method and Mcp-Name agree", "todos", req(call("add-todo"), headers={"mcp-method": "tools/call", "mcp-name": "add-todo"}),
       allowed(("tools/call", "add-todo"))),
    op("Mcp-Name agrees, scope missing", "read", req(call("add-todo"), headers={"mcp-method": "tools/call", "mcp-name": "add-todo"}),
       insufficient("read create:todos", ["create:todos"])),
    op("Mcp-Method differs from the body", "read", req(call("add-todo"), headers={"mcp-method": "tools/list"}), refused(400, MISMATCH)),
    op("Mcp-Name differs from the body: the body decides, the mismatch is refused", "todos",
       req(call("add-todo"), headers={"mcp-method": "tools/call", "mcp-name": "whoami"}), refused(400, MISMATCH)),
    op("Mcp-Name base64 form agrees", "read",
       req(call("notiz-löschen"), headers={"mcp-method": "tools/call", "mcp-name": B64_NAME("notiz-löschen")}),
       insufficient("read delete:todos", ["delete:todos"])),
    op("Mcp-Name base64 form differs", "read",
       req(call("add-todo"), headers={"mcp-name": B64_NAME("whoami")}), refused(400, MISMATCH)),
    op("Mcp-Name base64 form is not base64", "read",
       req(call("add-todo"), headers={"mcp-name": "=?base64?%%%?="}), refused(400, MISMATCH)),
    op("Mcp-Name for a resource URI", "read",
       req(rpc("resources/read", {"uri": "notes://42"}), headers={"mcp-method": "resources/read", "mcp-name": "notes://42"}),
       insufficient("read notes:read", ["notes:read"])),
    op("Mcp-Name on a method that names nothing", "read", req(rpc("tools/list"), headers={"mcp-name": "add-todo"}), refused(400, MISMATCH)),
    op("Mcp-Method on a batch with another method in it", "todos",
       req([call("whoami"), rpc("tools/list", id=2)], headers={"mcp-method": "tools/call"}), refused(400, MISMATCH)),
    op("Mcp-Method on a response", "read", req({"jsonrpc": "2.0", "id": 7, "result": {}}, headers={"mcp-method": "tools/call"}),
       refused(400, MISMATCH)),
    op("older protocol version: the body still decides", "read",
       req(call("add-todo"), headers={"mcp-protocol-version": "2025-06-18"}), insufficient("read create:todos", ["create:todos"])),
]

operation_config_errors = [
    {"name": "a cycle in the scope hierarchy", "rules": {"scope_hierarchy": {"a": ["b"], "b": ["a"]}}, "code": "invalid_scope_config"},
    {"name": "a scope that implies itself", "rules": {"scope_hierarchy": {"a": ["a"]}}, "code": "invalid_scope_config"},
    {"name": "a template operator", "rules": {"resource_scopes": {"file:///{+path}": ["files:read"]}}, "code": "invalid_operation_rules"},
    {"name": "an unclosed template expression", "rules": {"resource_scopes": {"notes://{id": ["notes:read"]}}, "code": "invalid_operation_rules"},
    {"name": "an empty tool name", "rules": {"tool_scopes": {"": ["x"]}}, "code": "invalid_operation_rules"},
    {"name": "a scope with a space", "rules": {"tool_scopes": {"add-todo": ["create todos"]}}, "code": "invalid_operation_rules"},
    {"name": "an empty scope", "rules": {"prompt_scopes": {"summarize": [""]}}, "code": "invalid_operation_rules"},
    {"name": "a zero inspection limit", "rules": {"tool_scopes": {"add-todo": ["x"]}, "max_body_bytes": 0}, "code": "invalid_operation_rules"},
]

operations_doc = {
    "description": "Per-operation rules on a protected MCP endpoint ('jwt' mode). See README.md.",
    "issuer": ISS,
    "resource": RESOURCE,
    "resource_metadata": PRM_URL,
    "metadata": tokens_doc["metadata"],
    "jwks": JWKS,
    "tokens": OP_TOKENS,
    "cases": operation_cases,
    "config_errors": operation_config_errors,
}


# --- hosted providers' token shapes (providers.json) -------------------------------------------
#
# Each shape follows the provider's public token reference (the page is named above each group);
# identifiers are made up, keys are the vector keys. Every case carries the configuration a user
# of that provider needs (`audience`, `required_scopes`, `require_at_jwt`).

ENTRA_TENANT = "aaaabbbb-0000-cccc-1111-dddd2222eeee"
ENTRA_OTHER_TENANT = "ffffeeee-9999-dddd-8888-cccc7777bbbb"
ENTRA_V2 = f"https://login.microsoftonline.com/{ENTRA_TENANT}/v2.0"
ENTRA_V1 = f"https://sts.windows.net/{ENTRA_TENANT}/"
ENTRA_API = "00001111-aaaa-2222-bbbb-3333cccc4444"  # the MCP server's app registration (client id)
ENTRA_CLIENT = "11112222-bbbb-3333-cccc-4444dddd5555"  # the MCP client's app registration
ENTRA_DAEMON = "22223333-cccc-4444-dddd-5555eeee6666"  # a client-credentials app
AUTH0 = "https://example-tenant.us.auth0.com/"
AUTH0_CLIENT = "K1AUPhZq8mRi0Q0pjhkfu1D7y6KjDQja"
OKTA = "https://example.okta.com/oauth2/default"
COGNITO = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example1"
COGNITO_CLIENT = "1example23456789abcdefghij"
GOOGLE = "https://accounts.google.com"
GOOGLE_CLIENT = "1234987819200-example.apps.googleusercontent.com"


def rs256(payload, typ="JWT", **header):
    return bearer(token(payload=payload, header_extra={"typ": typ, **header}))


def timed(**c):
    return {**c, "iat": IAT, "exp": EXP}


def pinfo(issuer, subject, client_id, scopes, audience, **claims_subset):
    i = {"issuer": issuer, "subject": subject, "client_id": client_id, "scopes": scopes, "audience": audience}
    if claims_subset:
        i["claims"] = claims_subset
    return ok(i)


def denied(code, status=401, chal="invalid_token", scope=None, missing=None):
    extra = {"missing_scopes": missing} if missing else None
    return resp(status, code, D_INVALID if code == "invalid_token" else D[code], chal, scope, extra)


# Microsoft identity platform, "Access token claims reference": v2.0 tokens have `aud` = the API's
# client id, `azp`, `ver: "2.0"` and the issuer login.microsoftonline.com/{tid}/v2.0; v1.0 tokens
# (the default while the API's manifest leaves accessTokenAcceptedVersion null) have `aud` = the
# client id or the resource URI of the request (the App ID URI), `appid`, `ver: "1.0"` and the
# issuer sts.windows.net/{tid}/, with `x5t` beside `kid`. `scp` is a space-separated string of
# delegated scopes (user tokens only); app-only tokens carry `roles` instead.
entra_v2_user = timed(aud=ENTRA_API, iss=ENTRA_V2, nbf=IAT, aio="opaque-aio", azp=ENTRA_CLIENT, azpacr="0",
                      name="Ada Lovelace", oid="33334444-dddd-5555-eeee-6666ffff7777",
                      preferred_username="ada@contoso.example", rh="opaque-rh", scp="Notes.Read Notes.Write",
                      sid="44445555-eeee-6666-ffff-7777aaaa8888", sub="pairwise-subject-of-ada",
                      tid=ENTRA_TENANT, uti="token-identifier", ver="2.0")
entra_v2_app = timed(aud=ENTRA_API, iss=ENTRA_V2, nbf=IAT, azp=ENTRA_DAEMON, azpacr="1", idtyp="app",
                     oid="55556666-ffff-7777-aaaa-8888bbbb9999", sub="55556666-ffff-7777-aaaa-8888bbbb9999",
                     roles=["Notes.Read.All"], tid=ENTRA_TENANT, uti="token-identifier-2", ver="2.0")
entra_v1_user = timed(aud=RESOURCE, iss=ENTRA_V1, nbf=IAT, acr="1", amr=["pwd"], appid=ENTRA_CLIENT,
                      appidacr="0", name="Ada Lovelace", oid="33334444-dddd-5555-eeee-6666ffff7777",
                      scp="Notes.Read", sub="pairwise-subject-of-ada-v1", tid=ENTRA_TENANT,
                      unique_name="ada@contoso.example", upn="ada@contoso.example", ver="1.0")
entra_other_tenant = {**entra_v2_user, "iss": f"https://login.microsoftonline.com/{ENTRA_OTHER_TENANT}/v2.0",
                      "tid": ENTRA_OTHER_TENANT}

# Auth0, "Access Token Profiles": the default profile has `aud` = [API identifier, the tenant's
# /userinfo] when `openid` is asked for, `azp`, a `scope` string and, with RBAC's "Add
# Permissions in the Access Token", a `permissions` list; machine-to-machine tokens have `sub` =
# "<client id>@clients" and `gty: "client-credentials"`. The RFC 9068 profile has header
# `typ: at+jwt`, `client_id` and `jti`. The issuer ends with "/". ID tokens have `aud` = client id.
auth0_user = timed(iss=AUTH0, sub="auth0|6553da60a54af58e29493993", aud=[RESOURCE, AUTH0 + "userinfo"],
                   azp=AUTH0_CLIENT, scope="openid profile notes:read", permissions=["notes:read", "notes:write"])
auth0_m2m = timed(iss=AUTH0, sub=AUTH0_CLIENT + "@clients", aud=RESOURCE, azp=AUTH0_CLIENT, scope="notes:read",
                  gty="client-credentials")
auth0_rfc9068 = timed(iss=AUTH0, sub="auth0|6553da60a54af58e29493993", aud=[RESOURCE, AUTH0 + "userinfo"],
                      client_id=AUTH0_CLIENT, jti="73WakrfVbNJBaAmhQtEeDv", scope="openid profile notes:read")
auth0_id = timed(iss=AUTH0, sub="auth0|6553da60a54af58e29493993", aud=AUTH0_CLIENT, name="Ada Lovelace",
                 nickname="ada", email="ada@example.com", email_verified=True, nonce="n-0S6_WzA2Mj", sid="sid-1")

# Okta, "Access token" of a custom authorization server (the org authorization server's tokens
# are for Okta's own APIs): `ver: 1`, `jti: "AT...."`, `aud` = the authorization server's
# audience setting (api://default for the default server), `cid` (client id), `uid` (user id), `scp`
# as a list, `sub` = the user's login or, for client credentials, the client id.
okta_user = timed(ver=1, jti="AT.MNAoEQ_jbKqoinrQo1D0XKjMX28U5d7ZszBceot7-Ts", iss=OKTA, aud=RESOURCE,
                  cid="0oa1example", uid="00u1example", scp=["openid", "notes:read"], auth_time=IAT,
                  sub="ada@example.com")
okta_default_audience = {**okta_user, "aud": "api://default"}
okta_service = timed(ver=1, jti="AT.a7Gj7QVcNvr8pLq5sXk2bYq9RkE8oAa3o4TBfu1dZXM", iss=OKTA, aud=RESOURCE,
                     cid="0oa2service", scp=["notes:read"], sub="0oa2service")

# Amazon Cognito, "Understanding the access token" / "the ID token": access tokens have no `aud`,
# `client_id`, `token_use: "access"`, `scope` (custom scopes are "<resource server id>/<name>"),
# `cognito:groups`, `username`, `version: 2`; ID tokens have `aud` = client id and `token_use: "id"`,
# and both are signed by keys of the same user pool JWKS.
COGNITO_SCOPE = RESOURCE + "/notes.read"
cognito_access = timed(sub="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", **{"cognito:groups": ["admins"]}, iss=COGNITO,
                       version=2, client_id=COGNITO_CLIENT, origin_jti="bbbbbbbb-cccc-dddd-eeee-ffffffffffff",
                       event_id="cccccccc-dddd-eeee-ffff-aaaaaaaaaaaa", token_use="access",
                       scope="openid " + COGNITO_SCOPE, auth_time=IAT, jti="dddddddd-eeee-ffff-aaaa-bbbbbbbbbbbb",
                       username="ada")
cognito_other_app = {**cognito_access, "client_id": "9otherclient87654321zyxwvu",
                     "scope": "https://reports.example.com/api/reports.read",
                     "jti": "eeeeeeee-ffff-aaaa-bbbb-cccccccccccc"}
cognito_id = timed(sub="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", **{"cognito:groups": ["admins"],
                   "cognito:username": "ada"}, email_verified=True, iss=COGNITO, aud=COGNITO_CLIENT,
                   origin_jti="bbbbbbbb-cccc-dddd-eeee-ffffffffffff", event_id="cccccccc-dddd-eeee-ffff-aaaaaaaaaaaa",
                   token_use="id", auth_time=IAT, jti="ffffffff-aaaa-bbbb-cccc-dddddddddddd", email="ada@example.com")

# Google, "Authenticate with a backend server" / OpenID Connect: Google issues ID tokens
# (`aud` = `azp` = the OAuth client id) and opaque access tokens for Google's own APIs, no JWT
# access tokens for other resources; an ID token is not an access token.
google_id = timed(iss=GOOGLE, azp=GOOGLE_CLIENT, aud=GOOGLE_CLIENT, sub="110169484474386276334",
                  at_hash="HK6E_P6Dh8Y93mRNtsDB1Q", hd="example.com", email="ada@example.com",
                  email_verified=True, nonce="0394852-3190485-2490358")

provider_cases = [
    case("Entra ID v2: delegated token, audience = the API's client id", rs256(entra_v2_user),
         pinfo(ENTRA_V2, "pairwise-subject-of-ada", ENTRA_CLIENT, ["Notes.Read", "Notes.Write"], ENTRA_API,
               tid=ENTRA_TENANT, ver="2.0", oid="33334444-dddd-5555-eeee-6666ffff7777"),
         audience=ENTRA_API, required_scopes=["Notes.Read"]),
    case("Entra ID v2: aud is the client id, not the resource URL", rs256(entra_v2_user),
         denied("invalid_audience"), audience=RESOURCE),
    case("Entra ID v2: app-only token, roles and no scp", rs256(entra_v2_app),
         pinfo(ENTRA_V2, "55556666-ffff-7777-aaaa-8888bbbb9999", ENTRA_DAEMON, [], ENTRA_API,
               roles=["Notes.Read.All"], idtyp="app"), audience=ENTRA_API),
    case("Entra ID v2: app roles are not scopes", rs256(entra_v2_app),
         denied("missing_required_scopes", 403, "insufficient_scope", "Notes.Read", ["Notes.Read"]),
         audience=ENTRA_API, required_scopes=["Notes.Read"]),
    case("Entra ID v1: sts.windows.net issuer, aud = App ID URI, appid", rs256(entra_v1_user, x5t="rsa-1"),
         pinfo(ENTRA_V1, "pairwise-subject-of-ada-v1", None, ["Notes.Read"], RESOURCE,
               appid=ENTRA_CLIENT, ver="1.0"), required_scopes=["Notes.Read"]),
    case("Entra ID: a token of another tenant", rs256(entra_other_tenant), denied("invalid_issuer"),
         audience=ENTRA_API),
    case("Auth0: default profile, aud list with /userinfo, azp, permissions", rs256(auth0_user),
         pinfo(AUTH0, "auth0|6553da60a54af58e29493993", AUTH0_CLIENT, ["openid", "profile", "notes:read"],
               [RESOURCE, AUTH0 + "userinfo"], permissions=["notes:read", "notes:write"]),
         required_scopes=["notes:read"]),
    case("Auth0: RBAC permissions are not scopes", rs256(auth0_user),
         denied("missing_required_scopes", 403, "insufficient_scope", "notes:write", ["notes:write"]),
         required_scopes=["notes:write"]),
    case("Auth0: machine-to-machine token", rs256(auth0_m2m),
         pinfo(AUTH0, AUTH0_CLIENT + "@clients", AUTH0_CLIENT, ["notes:read"], RESOURCE, gty="client-credentials"),
         required_scopes=["notes:read"]),
    case("Auth0: RFC 9068 profile (typ at+jwt, client_id)", rs256(auth0_rfc9068, typ="at+jwt"),
         pinfo(AUTH0, "auth0|6553da60a54af58e29493993", AUTH0_CLIENT, ["openid", "profile", "notes:read"],
               [RESOURCE, AUTH0 + "userinfo"]), require_at_jwt=True),
    case("Auth0: an ID token is refused", rs256(auth0_id), denied("invalid_audience")),
    case("Okta: custom authorization server, audience set to the resource", rs256(okta_user),
         pinfo(OKTA, "ada@example.com", None, ["openid", "notes:read"], RESOURCE,
               cid="0oa1example", uid="00u1example", ver=1), required_scopes=["notes:read"]),
    case("Okta: the default audience api://default is not the resource", rs256(okta_default_audience),
         denied("invalid_audience")),
    case("Okta: client-credentials token", rs256(okta_service),
         pinfo(OKTA, "0oa2service", None, ["notes:read"], RESOURCE, cid="0oa2service"),
         required_scopes=["notes:read"]),
    case("Cognito: access token, audience check off, resource-server scope required", rs256(cognito_access),
         pinfo(COGNITO, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", COGNITO_CLIENT, ["openid", COGNITO_SCOPE], None,
               **{"cognito:groups": ["admins"], "token_use": "access", "username": "ada"}),
         audience=None, accept_any_audience=True, required_scopes=[COGNITO_SCOPE]),
    case("Cognito: access tokens have no aud", rs256(cognito_access), denied("invalid_audience")),
    case("Cognito: an ID token is refused by token_use", rs256(cognito_id), fail_token(), audience=None, accept_any_audience=True),
    case("Cognito: another app client's token lacks the resource-server scope", rs256(cognito_other_app),
         denied("missing_required_scopes", 403, "insufficient_scope", COGNITO_SCOPE, [COGNITO_SCOPE]),
         audience=None, accept_any_audience=True, required_scopes=[COGNITO_SCOPE]),
    # What the audience opt-out costs: without a scope that only this resource server grants,
    # any app client's access token of the pool is accepted.
    case("Cognito: audience off and no scope required accepts any app client", rs256(cognito_other_app),
         pinfo(COGNITO, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "9otherclient87654321zyxwvu",
               ["https://reports.example.com/api/reports.read"], None), audience=None, accept_any_audience=True),
    case("Google: an ID token is refused by audience", rs256(google_id), denied("invalid_audience")),
    case("Google: an ID token is refused when at+jwt is required", rs256(google_id), fail_token(), audience=None, accept_any_audience=True,
         require_at_jwt=True),
]

providers_doc = {
    "description": "Token shapes of hosted authorization servers through the 'jwt' mode. See README.md.",
    "issuer": ENTRA_V2,
    "more_issuers": [ENTRA_V1, AUTH0, OKTA, COGNITO, GOOGLE],
    "resource": RESOURCE,
    "resource_metadata": PRM_URL,
    "metadata": {**tokens_doc["metadata"], "issuer": ENTRA_V2},
    "jwks": JWKS,
    "cases": provider_cases,
}


# --- dpop.json: DPoP (RFC 9449) at the resource server ----------------------------------------

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: E402

DPOP_NOW = 1767225600  # 2026-01-01T00:00:00Z: every case pins "now" for the DPoP checks
HTU = RESOURCE
DPOP_ALGS = "ES256 ES384 ES512 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"
NONCE_SECRET = "vector nonce secret: at least 32 bytes, test only"
client_a, client_b = load("dpop-ec256.pem"), load("dpop-ec256-other.pem")
client_384, client_ed, client_rsa = load("dpop-ec384.pem"), load("dpop-ed25519.pem"), load("dpop-rsa2048.pem")


def public_jwk(key):
    """The client's public key as a proof header carries it (no kid)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        crv, size = {256: ("P-256", 32), 384: ("P-384", 48), 521: ("P-521", 66)}[key.curve.key_size]
        j = ec_jwk(key, None, crv, size)
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        j = ed_jwk(key, None)
    else:
        j = rsa_jwk(key, None)
    del j["kid"]
    return j


def thumbprint(jwk):
    """RFC 7638 §3: SHA-256 over the required members, sorted, no whitespace."""
    required = {"EC": ["crv", "kty", "x", "y"], "RSA": ["e", "kty", "n"], "OKP": ["crv", "kty", "x"]}[jwk["kty"]]
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return b64(hashlib.sha256(canonical.encode()).digest())


def jkt(key):
    return thumbprint(public_jwk(key))


def bound_token(key=client_a, bind=True, **over):
    c = claims(**over)
    if bind is True:
        c["cnf"] = {"jkt": jkt(key)}
    elif bind is not False:
        c["cnf"] = bind
    return token(payload=c)


def ath(t):
    return b64(hashlib.sha256(t.encode()).digest())


_jti = [0]


def proof(tok, key=client_a, alg="ES256", sign_alg=None, sign_key=None, htm="POST", htu=HTU, iat=DPOP_NOW,
          header=None, payload=None, raw_header=None, raw_payload=None):
    """A DPoP proof for `tok`; `header`/`payload` entries override (None removes)."""
    _jti[0] += 1
    h = {"typ": "dpop+jwt", "alg": alg, "jwk": public_jwk(key)}
    for k, v in (header or {}).items():
        h.pop(k, None) if v is None else h.__setitem__(k, v)
    c = {"jti": "proof-%03d" % _jti[0], "htm": htm, "htu": htu, "iat": iat, "ath": ath(tok)}
    for k, v in (payload or {}).items():
        c.pop(k, None) if v is None else c.__setitem__(k, v)
    hb = b64((raw_header or json.dumps(h, separators=(",", ":"))).encode())
    pb = b64((raw_payload or json.dumps(c, separators=(",", ":"))).encode())
    msg = f"{hb}.{pb}".encode()
    sig = b"" if alg == "none" else sign(sign_alg or alg, sign_key or key, msg)
    return f"{hb}.{pb}.{b64(sig)}"


def nonce_for(ts, secret=NONCE_SECRET, iv=b"\x07" * 12):
    """The nonce format of README.md (`dpop.json`), written here from that description."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"mcp-auth dpop nonce", info=b"aes-256-gcm").derive(secret.encode())
    sealed = AESGCM(key).encrypt(iv, ts.to_bytes(8, "big"), b"mcp-auth dpop nonce\x01")
    return b64(b"\x01" + iv + sealed)


def dpop_challenge(error=None, description=None, scope=None, algs=DPOP_ALGS, prm=PRM_URL):
    parts = [f'algs="{algs}"']
    if error:
        parts += [f'error="{error}"', f'error_description="{description}"']
    if scope:
        parts.append(f'scope="{scope}"')
    if prm:
        parts.append(f'resource_metadata="{prm}"')
    return "DPoP " + ", ".join(parts)


D_PROOF = "The DPoP proof is missing or invalid."
D_NONCE = "The DPoP proof must carry the nonce the server provided in the `DPoP-Nonce` header."
D_REQUIRED = "This resource requires a DPoP-bound access token sent with the `DPoP` scheme and a DPoP proof."
D_NOT_BOUND = "The access token is not DPoP-bound; send it with the `Bearer` scheme."
D_BINDING = "Invalid DPoP key binding: the proof is signed with another key than the token is bound to."
D_BOUND_AS_BEARER = "The access token is DPoP-bound; send it with the `DPoP` scheme and a DPoP proof."


def accepted(key=client_a, nonce=False, **over):
    i = info(**over)
    i["jkt"] = jkt(key) if key is not None else None
    return {"status": 200, "auth_info": i, "dpop_nonce": nonce}


def refused_with(code, description, challenges, status=401, nonce=False, cause=None, missing=None):
    body = {"error": code, "error_description": description}
    if cause is not None:
        body["cause"] = cause
    if missing is not None:
        body["missing_scopes"] = missing
    return {"status": status, "body": body, "www_authenticate": challenges, "dpop_nonce": nonce}


def bad_proof(cause=None, algs=DPOP_ALGS, nonce=False):
    """401 invalid_dpop_proof for a DPoP request on an `allowed` route."""
    return refused_with("invalid_dpop_proof", D_PROOF,
                        [dpop_challenge("invalid_dpop_proof", D_PROOF, algs=algs), challenge()],
                        nonce=nonce, cause=None if cause is None else {"cause": cause})


def bad_token_dpop(description, cause=None):
    return refused_with("invalid_token", description,
                        [dpop_challenge("invalid_token", description), challenge()],
                        cause=None if cause is None else {"cause": cause})


def use_nonce():
    return refused_with("use_dpop_nonce", D_NONCE, [dpop_challenge("use_dpop_nonce", D_NONCE), challenge()], nonce=True)


def dpop(t):
    return "DPoP " + t


def dcase(name, authorization, proofs, expect, mode="allowed", options=None, method="POST", path="/mcp",
          now=DPOP_NOW, leeway=0, required_scopes=None, show_error_details=False, send_twice=False,
          introspection=None):
    settings = None if mode is None else {"mode": mode, **(options or {})}
    c = {"name": name, "now": now, "leeway": leeway, "dpop": settings, "required_scopes": required_scopes,
         "show_error_details": show_error_details,
         "request": {"method": method, "path": path, "authorization": authorization, "dpop": list(proofs)},
         "expect": expect}
    if send_twice:
        c["send_twice"] = True
    if introspection is not None:
        c["introspection"] = introspection
    return c


T = bound_token()
T_B = bound_token(client_b)
T_ED, T_384, T_RSA = bound_token(client_ed), bound_token(client_384), bound_token(client_rsa)
T_UNBOUND = token()
T_EXPIRED = bound_token(exp=PAST, iat=PAST - 60)
T_READ = bound_token(scope="read")
OPAQUE_BOUND, OPAQUE_BOUND_2 = "opaque-dpop-bound-token-1", "opaque-dpop-bound-token-2"
OPAQUE_BOUND_TYP = "opaque-dpop-bound-token-typ"
INTROSPECTED = {"active": True, "iss": ISS, "sub": "user-1", "aud": RESOURCE, "client_id": "client-1",
                "scope": "read write", "exp": EXP, "cnf": {"jkt": jkt(client_a)}}
DUP_HEADER = '{"typ":"dpop+jwt","alg":"ES256","typ":"dpop+jwt","jwk":%s}' % json.dumps(public_jwk(client_a), separators=(",", ":"))
_ja = public_jwk(client_a)
DUP_JWK = ('{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"%s","x":"%s","y":"%s"}}'
           % (_ja["x"], _ja["x"], _ja["y"]))
DUP_PAYLOAD = ('{"jti":"dup-1","htm":"POST","htm":"POST","htu":"%s","iat":%d,"ath":"%s"}' % (HTU, DPOP_NOW, ath(T)))
_private_a = client_a.private_numbers().private_value
BIG = "x" * (9 * 1024)
ONLY_ES256 = {"algorithms": ["ES256"]}
NONCES = {"nonce_secret": NONCE_SECRET, "nonce_window": 300}

dpop_cases = [
    # Accepted
    dcase("ES256 proof with a bound token", dpop(T), [proof(T)], accepted()),
    dcase("scheme in lower case, several spaces", "dpop   " + T, [proof(T)], accepted()),
    dcase("EdDSA proof", dpop(T_ED), [proof(T_ED, client_ed, "EdDSA")], accepted(client_ed)),
    dcase("ES384 proof", dpop(T_384), [proof(T_384, client_384, "ES384")], accepted(client_384)),
    dcase("RS256 proof (RSA 2048)", dpop(T_RSA), [proof(T_RSA, client_rsa, "RS256")], accepted(client_rsa)),
    dcase("PS256 proof", dpop(T_RSA), [proof(T_RSA, client_rsa, "PS256")], accepted(client_rsa)),
    dcase("typ with the application/ prefix", dpop(T), [proof(T, header={"typ": "application/dpop+jwt"})], accepted()),
    dcase("htu with upper-case scheme and host and the default port", dpop(T),
          [proof(T, htu="HTTPS://MCP.Example.COM:443/mcp")], accepted()),
    dcase("htu with a query and a fragment", dpop(T), [proof(T, htu=HTU + "?x=1#top")], accepted()),
    dcase("request path with a query", dpop(T), [proof(T)], accepted(), path="/mcp?session=1"),
    dcase("htu with a percent-encoded unreserved character", dpop(T), [proof(T, htu="https://mcp.example.com/%6dcp")], accepted()),
    dcase("iat 299 s ago", dpop(T), [proof(T, iat=DPOP_NOW - 299)], accepted()),
    dcase("iat 299 s ahead", dpop(T), [proof(T, iat=DPOP_NOW + 299)], accepted()),
    dcase("iat 350 s ago, within the verifier's 60 s leeway", dpop(T), [proof(T, iat=DPOP_NOW - 350)], accepted(), leeway=60),
    dcase("configured window of 60 s, iat 59 s ago", dpop(T), [proof(T, iat=DPOP_NOW - 59)], accepted(), options={"iat_window": 60}),
    dcase("unbound bearer token on an allowed route", bearer(T_UNBOUND), [], accepted(None)),
    dcase("unbound bearer token with a DPoP header: the proof is not looked at", bearer(T_UNBOUND), ["not a proof"], accepted(None)),
    dcase("unbound bearer token on an off route", bearer(T_UNBOUND), [], accepted(None), mode="off"),
    dcase("unbound bearer token without DPoP settings", bearer(T_UNBOUND), [], accepted(None), mode=None),
    dcase("DPoP on a required route", dpop(T), [proof(T)], accepted(), mode="required"),
    dcase("GET with htm GET", dpop(T), [proof(T, htm="GET")], accepted(), method="GET"),
    dcase("introspection answer with cnf.jkt, DPoP", dpop(OPAQUE_BOUND), [proof(OPAQUE_BOUND)], accepted(),
          introspection=INTROSPECTED),
    # Keycloak answers for a DPoP-bound token with `typ: DPoP` (where a bearer token has `typ: Bearer`).
    dcase("introspection answer with cnf.jkt and typ DPoP", dpop(OPAQUE_BOUND_TYP), [proof(OPAQUE_BOUND_TYP)],
          accepted(), introspection=dict(INTROSPECTED, typ="DPoP", token_type="DPoP")),
    dcase("nonces on: a valid nonce", dpop(T), [proof(T, payload={"nonce": nonce_for(DPOP_NOW - 10)})],
          accepted(nonce=True), options=NONCES),
    dcase("nonces on: a bearer request gets a nonce too", bearer(T_UNBOUND), [], accepted(None, nonce=True), options=NONCES),

    # RFC 9449 §4.3 step 1: exactly one DPoP header
    dcase("DPoP scheme without a DPoP header", dpop(T), [], bad_proof("The request has no `DPoP` header."),
          show_error_details=True),
    dcase("two DPoP headers", dpop(T), [proof(T), proof(T)], bad_proof("The request has more than one `DPoP` header."),
          show_error_details=True),
    dcase("two proofs joined into one value", dpop(T), [proof(T) + ", " + proof(T)],
          bad_proof("The request has more than one `DPoP` header."), show_error_details=True),
    dcase("a proof joined with an empty second header", dpop(T), [proof(T) + ", "],
          bad_proof("The request has more than one `DPoP` header."), show_error_details=True),
    dcase("proof larger than 8 KiB", dpop(T), [proof(T, payload={"pad": BIG})],
          bad_proof("The DPoP proof is larger than 8192 bytes."), show_error_details=True),
    # step 2: a well-formed JWS
    dcase("proof is not a JWS", dpop(T), ["abc"], bad_proof()),
    dcase("proof with two parts", dpop(T), [".".join(proof(T).split(".")[:2])], bad_proof()),
    dcase("proof header is not base64url", dpop(T), ["***." + proof(T).split(".", 1)[1]], bad_proof()),
    dcase("proof header is not an object", dpop(T), [proof(T, raw_header="[1]")], bad_proof()),
    dcase("duplicate key in the proof header", dpop(T), [proof(T, raw_header=DUP_HEADER)], bad_proof()),
    dcase("duplicate key in the proof's jwk", dpop(T), [proof(T, raw_header=DUP_JWK)], bad_proof()),
    dcase("duplicate key in the proof payload", dpop(T), [proof(T, raw_payload=DUP_PAYLOAD)], bad_proof()),
    dcase("unknown crit header", dpop(T), [proof(T, header={"crit": ["exp2"], "exp2": 1})], bad_proof()),
    # step 4: typ
    dcase("typ missing", dpop(T), [proof(T, header={"typ": None})],
          bad_proof("The DPoP proof's `typ` is not `dpop+jwt`."), show_error_details=True),
    dcase("typ JWT", dpop(T), [proof(T, header={"typ": "JWT"})], bad_proof()),
    dcase("typ at+jwt", dpop(T), [proof(T, header={"typ": "at+jwt"})], bad_proof()),
    # step 5: alg
    dcase("alg none", dpop(T), [proof(T, alg="none")],
          bad_proof("The DPoP proof's algorithm `none` is not allowed (allowed: %s)." % DPOP_ALGS),
          show_error_details=True),
    dcase("alg HS256 with a symmetric jwk", dpop(T),
          [proof(T, alg="HS256", sign_key=b"secret", header={"jwk": {"kty": "oct", "k": b64(b"secret")}})], bad_proof()),
    dcase("alg HS256 with the proof key's public jwk", dpop(T), [proof(T, alg="HS256", sign_key=b"secret")],
          bad_proof("The DPoP proof's algorithm `HS256` is not allowed (allowed: %s)." % DPOP_ALGS),
          show_error_details=True),
    dcase("ES384 proof on an ES256-only route", dpop(T_384), [proof(T_384, client_384, "ES384")],
          bad_proof("The DPoP proof's algorithm `ES384` is not allowed (allowed: ES256).", algs="ES256"),
          options=ONLY_ES256, show_error_details=True),
    # steps 6, 7: the jwk and the signature
    dcase("no jwk", dpop(T), [proof(T, header={"jwk": None})], bad_proof()),
    dcase("jwk is a string", dpop(T), [proof(T, header={"jwk": "key"})], bad_proof()),
    dcase("jwk holding the private key", dpop(T), [proof(T, header={"jwk": {**public_jwk(client_a), "d": int_b64(_private_a, 32)}})],
          bad_proof("The DPoP proof's `jwk` holds private key material (`d`)."), show_error_details=True),
    dcase("ES384 header, P-256 jwk, signed as ES256", dpop(T), [proof(T, alg="ES384", sign_alg="ES256")],
          bad_proof("The DPoP proof's `jwk` does not fit the algorithm `ES384`."), show_error_details=True),
    dcase("RS256 header with an EC jwk", dpop(T), [proof(T, alg="RS256", sign_key=client_rsa)], bad_proof()),
    dcase("signed by another key than the jwk", dpop(T), [proof(T, sign_key=client_b)],
          bad_proof("The DPoP proof's signature does not verify with its `jwk`."), show_error_details=True),
    dcase("tampered payload", dpop(T), [proof(T).split(".")[0] + "." + proof(T, htm="GET").split(".")[1] + "." + proof(T).split(".")[2]],
          bad_proof()),
    # step 3 (claims present) and the claims themselves
    dcase("jti missing", dpop(T), [proof(T, payload={"jti": None})], bad_proof("The DPoP proof has no `jti` claim."),
          show_error_details=True),
    dcase("jti empty", dpop(T), [proof(T, payload={"jti": ""})], bad_proof()),
    dcase("jti a number", dpop(T), [proof(T, payload={"jti": 7})], bad_proof()),
    dcase("jti longer than 256 bytes", dpop(T), [proof(T, payload={"jti": "j" * 257})],
          bad_proof("The DPoP proof's `jti` is longer than 256 bytes."), show_error_details=True),
    # step 8: htm
    dcase("htm missing", dpop(T), [proof(T, payload={"htm": None})], bad_proof()),
    dcase("htm GET on a POST", dpop(T), [proof(T, htm="GET")],
          bad_proof("The DPoP proof's `htm` is not the request's method `POST`."), show_error_details=True),
    dcase("htm in lower case", dpop(T), [proof(T, htm="post")], bad_proof()),
    # step 9: htu
    dcase("htu missing", dpop(T), [proof(T, payload={"htu": None})], bad_proof()),
    dcase("htu names another path", dpop(T), [proof(T, htu="https://mcp.example.com/other")],
          bad_proof("The DPoP proof does not fit the request: the proof's `htu` is not the request's URL (https://mcp.example.com/mcp)."),
          show_error_details=True),
    dcase("htu with a trailing slash", dpop(T), [proof(T, htu=HTU + "/")], bad_proof()),
    dcase("htu over http", dpop(T), [proof(T, htu="http://mcp.example.com/mcp")], bad_proof()),
    dcase("htu on another port", dpop(T), [proof(T, htu="https://mcp.example.com:8443/mcp")], bad_proof()),
    dcase("htu naming the proxy's upstream (Host) instead of the resource", dpop(T),
          [proof(T, htu="http://127.0.0.1:8000/mcp")], bad_proof()),
    dcase("htu for another request path", dpop(T), [proof(T)], bad_proof(), path="/mcp/other"),
    dcase("htu not a URL", dpop(T), [proof(T, htu="/mcp")], bad_proof()),
    # step 11: iat
    dcase("iat missing", dpop(T), [proof(T, payload={"iat": None})], bad_proof()),
    dcase("iat a string", dpop(T), [proof(T, payload={"iat": str(DPOP_NOW)})], bad_proof()),
    dcase("iat 301 s ago", dpop(T), [proof(T, iat=DPOP_NOW - 301)],
          bad_proof("The DPoP proof is too old (`iat` more than 300 s ago)."), show_error_details=True),
    dcase("iat 301 s ahead", dpop(T), [proof(T, iat=DPOP_NOW + 301)], bad_proof()),
    dcase("iat 420 s ago, beyond window and leeway", dpop(T), [proof(T, iat=DPOP_NOW - 420)], bad_proof(), leeway=60),
    dcase("configured window of 60 s, iat 61 s ago", dpop(T), [proof(T, iat=DPOP_NOW - 61)], bad_proof(), options={"iat_window": 60}),
    # step 12: ath and the token's key binding
    dcase("ath missing", dpop(T), [proof(T, payload={"ath": None})], bad_proof()),
    dcase("ath of another token", dpop(T), [proof(T, payload={"ath": ath(T_B)})],
          bad_proof("The DPoP proof's `ath` is not the hash of the access token sent with it."), show_error_details=True),
    dcase("token bound to another key", dpop(T_B), [proof(T_B)],
          bad_token_dpop(D_BINDING, "The token's `cnf.jkt` is not the thumbprint of the proof's `jwk`."), show_error_details=True),
    dcase("token not bound, DPoP scheme", dpop(T_UNBOUND), [proof(T_UNBOUND)], bad_token_dpop(D_NOT_BOUND)),
    dcase("cnf is not an object", dpop(bound_token(bind="jkt")), [proof(bound_token(bind="jkt"))],
          bad_token_dpop(D["invalid_token"])),
    dcase("expired bound token", dpop(T_EXPIRED), [proof(T_EXPIRED)], bad_token_dpop(D_INVALID)),
    # RFC 9449 §7.2: a bound token is never a bearer token
    dcase("bound token as Bearer on an allowed route", bearer(T), [proof(T)],
          refused_with("invalid_token", D_BOUND_AS_BEARER, [challenge("invalid_token", D_BOUND_AS_BEARER), dpop_challenge()])),
    dcase("bound token as Bearer on an off route", bearer(T), [],
          refused_with("invalid_token", D_BOUND_AS_BEARER, [challenge("invalid_token", D_BOUND_AS_BEARER)]), mode="off"),
    dcase("bound token as Bearer without DPoP settings", bearer(T), [],
          refused_with("invalid_token", D_BOUND_AS_BEARER, [challenge("invalid_token", D_BOUND_AS_BEARER)]), mode=None),
    dcase("bound token as Bearer on a required route", bearer(T), [],
          refused_with("dpop_required", D_REQUIRED, [dpop_challenge()]), mode="required"),
    dcase("introspection answer with cnf.jkt, as Bearer", bearer(OPAQUE_BOUND_2), [],
          refused_with("invalid_token", D_BOUND_AS_BEARER, [challenge("invalid_token", D_BOUND_AS_BEARER), dpop_challenge()]),
          introspection=INTROSPECTED),
    # §11.1: replay
    dcase("the same proof twice", dpop(T), [proof(T)],
          bad_proof("The DPoP proof was used before (its `jti` was seen within its window)."), send_twice=True,
          show_error_details=True),
    # §8, §9: nonces
    dcase("nonces on: a proof without a nonce", dpop(T), [proof(T)], use_nonce(), options=NONCES),
    dcase("nonces on: a nonce older than its window", dpop(T), [proof(T, payload={"nonce": nonce_for(DPOP_NOW - 301)})],
          use_nonce(), options=NONCES),
    dcase("nonces on: a nonce from the future", dpop(T), [proof(T, payload={"nonce": nonce_for(DPOP_NOW + 30)})],
          use_nonce(), options=NONCES),
    dcase("nonces on: a nonce sealed under another secret", dpop(T),
          [proof(T, payload={"nonce": nonce_for(DPOP_NOW, secret="another secret of at least thirty-two bytes")})],
          use_nonce(), options=NONCES),
    dcase("nonces on: a nonce that is not one", dpop(T), [proof(T, payload={"nonce": "abc"})], use_nonce(), options=NONCES),
    dcase("nonces on: a valid nonce in a proof with a bad signature", dpop(T),
          [proof(T, sign_key=client_b, payload={"nonce": nonce_for(DPOP_NOW)})], bad_proof(nonce=True), options=NONCES),
    # Modes and challenges
    dcase("no credentials on an allowed route", None, [],
          refused_with("missing_auth_header", D["missing_auth_header"], [challenge(), dpop_challenge()])),
    dcase("no credentials on an allowed route, scopes known", None, [],
          refused_with("missing_auth_header", D["missing_auth_header"],
                       [challenge(scope="read"), dpop_challenge(scope="read")]), required_scopes=["read"]),
    dcase("no credentials on a required route", None, [],
          refused_with("missing_auth_header", D["missing_auth_header"], [dpop_challenge()]), mode="required"),
    dcase("no credentials on an off route", None, [],
          refused_with("missing_auth_header", D["missing_auth_header"], [challenge()]), mode="off"),
    dcase("unbound bearer token on a required route", bearer(T_UNBOUND), [],
          refused_with("dpop_required", D_REQUIRED, [dpop_challenge()]), mode="required"),
    dcase("DPoP scheme on an off route", dpop(T), [proof(T)],
          refused_with("invalid_auth_header_format", D["invalid_auth_header_format"],
                       [challenge("invalid_request", D_CHALLENGE_FORMAT)]), mode="off"),
    dcase("DPoP scheme with two tokens", "DPoP abc def", [proof(T)],
          refused_with("invalid_auth_header_format", D["invalid_auth_header_format"],
                       [dpop_challenge("invalid_request", D_CHALLENGE_FORMAT), challenge()])),
    dcase("Basic scheme on a required route", "Basic dXNlcjpwYXNz", [],
          refused_with("invalid_auth_header_format", D["invalid_auth_header_format"],
                       [dpop_challenge("invalid_request", D_CHALLENGE_FORMAT)]), mode="required"),
    dcase("insufficient scope with DPoP: one DPoP challenge", dpop(T_READ), [proof(T_READ)],
          refused_with("missing_required_scopes", D["missing_required_scopes"],
                       [dpop_challenge("insufficient_scope", D["missing_required_scopes"], "read write admin")], status=403,
                       missing=["write", "admin"]),
          required_scopes=["read", "write", "admin"]),
    dcase("insufficient scope with Bearer: one Bearer challenge", bearer(token(payload=claims(scope="read"))), [],
          refused_with("missing_required_scopes", D["missing_required_scopes"],
                       [challenge("insufficient_scope", D["missing_required_scopes"], "read write admin")], status=403,
                       missing=["write", "admin"]),
          required_scopes=["read", "write", "admin"]),
    dcase("an ES256-only route advertises ES256", None, [],
          refused_with("missing_auth_header", D["missing_auth_header"], [challenge(), dpop_challenge(algs="ES256")]),
          options=ONLY_ES256),
]

dpop_metadata_cases = [
    {"name": "allowed", "dpop": {"mode": "allowed"},
     "expected": {"resource": RESOURCE, "scopes_supported": ["read"],
                  "dpop_signing_alg_values_supported": DPOP_ALGS.split(), "dpop_bound_access_tokens_required": False,
                  "authorization_servers": [ISS]}},
    {"name": "required, ES256 and EdDSA", "dpop": {"mode": "required", "algorithms": ["ES256", "EdDSA"]},
     "expected": {"resource": RESOURCE, "scopes_supported": ["read"],
                  "dpop_signing_alg_values_supported": ["ES256", "EdDSA"], "dpop_bound_access_tokens_required": True,
                  "authorization_servers": [ISS]}},
    {"name": "off", "dpop": {"mode": "off"},
     "expected": {"resource": RESOURCE, "scopes_supported": ["read"], "authorization_servers": [ISS]}},
]

dpop_config_errors = [
    {"name": "an unknown algorithm", "dpop": {"algorithms": ["XS256"]}},
    {"name": "alg none", "dpop": {"algorithms": ["none"]}},
    {"name": "an HMAC algorithm", "dpop": {"algorithms": ["HS256"]}},
    {"name": "an algorithm in the wrong case", "dpop": {"algorithms": ["es256"]}},
    {"name": "no algorithm", "dpop": {"algorithms": []}},
    {"name": "a zero window", "dpop": {"iat_window": 0}},
    {"name": "a negative window", "dpop": {"iat_window": -300}},
    {"name": "a window over an hour", "dpop": {"iat_window": 86400}},
    {"name": "a negative leeway", "dpop": {"leeway": -1}},
    {"name": "a nonce secret under 32 bytes", "dpop": {"nonce_secret": "too short"}},
    {"name": "a zero nonce window", "dpop": {"nonce_secret": NONCE_SECRET, "nonce_window": 0}},
    {"name": "a replay store URL that is not Redis", "dpop": {"replay_store": "http://127.0.0.1:6379"}},
    {"name": "a replay store that is neither memory nor a URL", "dpop": {"replay_store": "disk"}},
    {"name": "a zero replay store size", "dpop": {"replay_max_entries": 0}},
    {"name": "a zero replay timeout", "dpop": {"replay_timeout_ms": 0}},
    {"name": "an unknown mode", "dpop": {"mode": "sometimes"}},
    {"name": "an unknown option", "dpop": {"window": 300}},
    {"name": "a resource that is not a URL", "dpop": {"resource": "mcp.example.com/mcp"}},
]

dpop_doc = {
    "description": "DPoP (RFC 9449) on a protected route ('jwt' and 'introspection' modes). See README.md.",
    "issuer": ISS,
    "resource": RESOURCE,
    "resource_metadata": PRM_URL,
    "metadata": tokens_doc["metadata"],
    "jwks": JWKS,
    "nonce_secret": NONCE_SECRET,
    "introspection": {"client_id": "rs", "client_secret": "rs-secret"},
    "cases": dpop_cases,
    "metadata_cases": dpop_metadata_cases,
    "config_errors": dpop_config_errors,
}


# --- audience.json: which audience a route demands, by server mode -------------------------------

AUD_TOKENS = {
    "for_resource": token(payload=claims()),
    "no_aud": token(payload=claims(aud=None)),
    "other_resource": token(payload=claims(aud="https://other.example.com/mcp")),
    "id_token": token(payload=claims(aud="client-1", azp="client-1")),
}


def acase(name, mode, tok, expect, audience=None, accept_any_audience=False, warning=False):
    return {"name": name, "mode": mode, "token": tok, "audience": audience,
            "accept_any_audience": accept_any_audience, "warning": warning, "expect": expect}


def refused_in(mode, expected_audience=None):
    r = audience_refused(expected_audience)
    if mode == "legacy":
        r["www_authenticate"] = challenge("invalid_token", D["invalid_audience"], prm=None)
    return r


OK200 = {"status": 200}
audience_doc = {
    "description": "The audience a route demands in resource-server and legacy mode (RFC 8707). See README.md.",
    "issuer": ISS,
    "resource": RESOURCE,
    "resource_metadata": PRM_URL,
    "metadata": tokens_doc["metadata"],
    "jwks": JWKS,
    "tokens": AUD_TOKENS,
    "cases": [
        acase("resource mode: a token for the resource", "resource", "for_resource", OK200),
        acase("resource mode: a token for another resource", "resource", "other_resource", refused_in("resource", RESOURCE)),
        acase("resource mode: a token without aud", "resource", "no_aud", refused_in("resource", RESOURCE)),
        acase("resource mode: an ID token of the same issuer", "resource", "id_token", refused_in("resource", RESOURCE)),
        acase("resource mode, check turned off: a token without aud", "resource", "no_aud", OK200,
              accept_any_audience=True, warning=True),
        acase("resource mode, check turned off: a token for another resource", "resource", "other_resource", OK200,
              accept_any_audience=True, warning=True),
        acase("resource mode, another audience configured: its tokens", "resource", "other_resource", OK200,
              audience="https://other.example.com/mcp"),
        acase("resource mode, another audience configured: the resource's tokens", "resource", "for_resource",
              refused_in("resource"), audience="https://other.example.com/mcp"),
        acase("legacy mode, no audience: a token for another resource", "legacy", "other_resource", OK200, warning=True),
        acase("legacy mode, no audience: a token without aud", "legacy", "no_aud", OK200, warning=True),
        acase("legacy mode, audience configured: a token for another resource", "legacy", "other_resource",
              refused_in("legacy"), audience=RESOURCE),
        acase("legacy mode, check turned off", "legacy", "other_resource", OK200, accept_any_audience=True, warning=True),
    ],
    "config_errors": [
        {"name": "resource mode: an audience and the check turned off", "mode": "resource", "audience": RESOURCE,
         "accept_any_audience": True, "code": "invalid_server_config"},
        {"name": "legacy mode: an audience and the check turned off", "mode": "legacy", "audience": RESOURCE,
         "accept_any_audience": True, "code": "invalid_server_config"},
    ],
}


# --- keys.json: key material configured or published ---------------------------------------------

SECRET32 = hashlib.sha256(b"mcp-auth vectors: 32-byte secret").digest()
SECRET64 = hashlib.sha512(b"mcp-auth vectors: 64-byte secret").digest()
OTHER32 = hashlib.sha256(b"mcp-auth vectors: another secret").digest()
ec256_pub_pem = ec256.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
rsa_pub_pkcs1 = rsa1.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
ed_pub_ssh = ed.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
DECOYS = [ec.derive_private_key(int.from_bytes(hashlib.sha256(b"decoy %d" % i).digest(), "big"), ec.SECP256R1())
          for i in range(8)]
OUTSIDER = ec.derive_private_key(int.from_bytes(hashlib.sha256(b"outsider").digest(), "big"), ec.SECP256R1())


def kt(t, valid):
    return {"token": t, "valid": valid}


def secret_case(name, secret, algorithms, error=None, tokens=()):
    return {"name": name, "secret_base64": base64.b64encode(secret).decode(), "algorithms": algorithms,
            "error": error, "tokens": list(tokens)}


def no_kid(d):
    return {k: v for k, v in d.items() if k != "kid"}


keys_doc = {
    "description": "HMAC secrets and JWKs given to create_verify_jwt / createVerifyJwt, and published key sets. "
                   "See README.md.",
    "secrets": [
        secret_case("a 32-byte secret for HS256", SECRET32, ["HS256"],
                    tokens=[kt(token("HS256", SECRET32, None), True), kt(token("HS256", OTHER32, None), False)]),
        secret_case("a 32-byte secret is too short for HS384 and HS512", SECRET32, None,
                    tokens=[kt(token("HS256", SECRET32, None), True), kt(token("HS384", SECRET32, None), False),
                            kt(token("HS512", SECRET32, None), False)]),
        secret_case("a 64-byte secret serves every HMAC algorithm", SECRET64, None,
                    tokens=[kt(token("HS256", SECRET64, None), True), kt(token("HS384", SECRET64, None), True),
                            kt(token("HS512", SECRET64, None), True)]),
        secret_case("31 bytes is too short for HS256", SECRET32[:31], ["HS256"], error="invalid_key"),
        secret_case("upstream's test secret (28 bytes) is too short", b"super-secret-key-for-testing", None,
                    error="invalid_key"),
        secret_case("40 bytes is too short for HS384", SECRET64[:40], ["HS384"], error="invalid_key"),
        secret_case("an empty secret", b"", None, error="invalid_key"),
        secret_case("an RSA public key (PEM)", rsa_pub_pem, None, error="invalid_key"),
        secret_case("an EC public key (PEM)", ec256_pub_pem, None, error="invalid_key"),
        secret_case("an RSA public key (DER SubjectPublicKeyInfo)", rsa_pub_der, None, error="invalid_key"),
        secret_case("an RSA public key (DER PKCS#1)", rsa_pub_pkcs1, None, error="invalid_key"),
        secret_case("an Ed25519 public key (OpenSSH)", ed_pub_ssh, None, error="invalid_key"),
        secret_case("a JWK as JSON bytes", json.dumps(rsa_jwk(rsa1, "rsa-1")).encode(), None, error="invalid_key"),
    ],
    "jwks": [
        {"name": "an oct JWK of 32 bytes", "keys": {"kty": "oct", "k": b64(SECRET32)}, "algorithms": ["HS256"],
         "error": None, "tokens": [kt(token("HS256", SECRET32, "any"), True), kt(token("HS256", OTHER32, None), False)]},
        {"name": "an oct JWK of 16 bytes", "keys": {"kty": "oct", "k": b64(SECRET32[:16])}, "algorithms": ["HS256"],
         "error": "invalid_key", "tokens": []},
        {"name": "an RSA JWK with its private exponent", "keys": {**rsa_jwk(rsa1, "rsa-1"), "d": b64(b"private")},
         "algorithms": ["RS256"], "error": "invalid_key", "tokens": []},
        {"name": "a public RSA JWK", "keys": rsa_jwk(rsa1, "rsa-1"), "algorithms": ["RS256"], "error": None,
         "tokens": [kt(token(), True), kt(token(key=rsa2), False)]},
    ],
    "published": [
        {"name": "a published key with a private member is not used, the others are",
         "jwks": {"keys": [rsa_jwk(rsa1, "rsa-1"), {**ec_jwk(ec256, "ec-private", "P-256", 32), "d": b64(b"oops")}]},
         "algorithms": ["RS256", "ES256"], "notice": "ec-private",
         "tokens": [kt(token(), True), kt(token("ES256", ec256, "ec-private"), False)]},
        {"name": "nine keys without kid: every one is tried",
         "jwks": {"keys": [no_kid(ec_jwk(k, "x", "P-256", 32)) for k in DECOYS] + [no_kid(ec_jwk(ec256, "x", "P-256", 32))]},
         "algorithms": ["ES256"], "notice": None,
         "tokens": [kt(token("ES256", ec256, None), True), kt(token("ES256", OUTSIDER, None), False)]},
        {"name": "a JWK with alg Ed25519 verifies EdDSA",
         "jwks": {"keys": [{**ed_jwk(ed, "ed"), "alg": "Ed25519"}]},
         "algorithms": ["EdDSA", "Ed25519"], "notice": None,
         "tokens": [kt(token("EdDSA", ed, "ed"), True), kt(token("Ed25519", ed, "ed"), True)]},
        {"name": "an oct key in a published set is never used",
         "jwks": {"keys": [{"kty": "oct", "kid": "hmac", "k": b64(SECRET32)}]},
         "algorithms": ["HS256"], "notice": None,
         "tokens": [kt(token("HS256", SECRET32, "hmac"), False)]},
    ],
}


# --- options.json: durations a configuration may hold ---------------------------------------------

options_doc = {
    "description": "Durations from configuration: usable ones are accepted, others refused at configuration "
                   "time (never a panic later). See README.md.",
    "durations": [
        {"seconds": 0, "ok": True},
        {"seconds": 30, "ok": True},
        {"seconds": 315360000, "ok": True},
        {"seconds": 315360001, "ok": False},
        {"seconds": 1e19, "ok": False},
        {"seconds": 1e300, "ok": False},
        {"seconds": -1, "ok": False},
    ],
    "code": "invalid_duration",
}


# -- key_rotation.json: a key set that changes under tokens already verified ---------------------
# A verifier keeps the tokens it has verified (core/src/verified.rs); an answer kept for a key set
# that has since changed must never be given again, even where the token's kid is still in the
# new set (here it names another key). RSA PKCS#1 v1.5 and EdDSA signatures are deterministic,
# so rewriting this file changes nothing.

def rotation_step(name, header, expect, serve=None, expect_node=None):
    step = {"name": name, "serve": serve, "header": header, "expect": expect}
    if expect_node:
        step["expect_node"] = expect_node
    return step


_old = token(key=rsa1, kid="old")
_new = token(alg="EdDSA", key=ed, kid="new")
_replaced_py, _replaced_node = token_failed("The token signature is invalid.")
rotation_doc = {
    "description": "A key set that changes under tokens already verified: a cached answer never outlives "
                   "the key set that verified it. Steps run in order against one route. See README.md.",
    "issuer": ISS,
    "resource": RESOURCE,
    "resource_metadata": PRM_URL,
    "metadata": tokens_doc["metadata"],
    "show_error_details": True,
    "key_sets": {
        "before": {"keys": [rsa_jwk(rsa1, "old")]},
        # The kid `old` now names another key, beside a new one.
        "after": {"keys": [rsa_jwk(rsa2, "old"), ed_jwk(ed, "new")]},
    },
    "steps": [
        rotation_step("a token of the first key", bearer(_old), ok(info()), serve="before"),
        rotation_step("the same token again", bearer(_old), ok(info())),
        rotation_step("the server replaces the key: a token of the new kid refreshes the set", bearer(_new),
                      ok(info()), serve="after"),
        rotation_step("the first token, verified before, is checked against the new set and refused", bearer(_old),
                      _replaced_py, expect_node=_replaced_node),
        rotation_step("the new kid's token again", bearer(_new), ok(info())),
    ],
}

def write(name, doc):
    (HERE / name).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


DOCS = {
    "tokens.json": tokens_doc,
    "custom_verifiers.json": custom_doc,
    "introspection.json": introspection_doc,
    "well_known_urls.json": well_known_doc,
    "resource_metadata.json": resource_doc,
    "server_metadata_validation.json": validation_doc,
    "checker.json": checker_doc,
    "operations.json": operations_doc,
    "providers.json": providers_doc,
    "dpop.json": dpop_doc,
    "audience.json": audience_doc,
    "keys.json": keys_doc,
    "options.json": options_doc,
    "key_rotation.json": rotation_doc,
}
# `gen.py operations.json` writes only that file: EC signatures are randomised, so rewriting
# the others would change their tokens for nothing.
for name in sys.argv[1:] or DOCS:
    write(name, DOCS[name])
print("wrote", len(token_cases), "token cases,", len(custom_cases), "custom-verifier cases")
