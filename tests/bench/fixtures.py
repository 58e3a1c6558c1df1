#!/usr/bin/env python3
"""Writes target/bench/fixtures.json: the one set of keys and tokens every contender uses.

Keys are the shared test keys of tests/vectors/keys (RS256 `rsa-1`, ES256 `ec-256`, EdDSA
`ed-1`); the rotation keys are generated here (ten RSA-2048 keys, test use only). Tokens are
valid until 2100, so no clock matters. Needs PyJWT and cryptography.

A DPoP client key (P-256, generated here) and an RS256 token bound to it (`cnf.jkt`) serve the
DPoP rows; dpop_proofs.py signs the proofs of each run with that key.

Usage: fixtures.py OUT_DIR
"""

import base64
import hashlib
import json
import pathlib
import sys

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

ROOT = pathlib.Path(__file__).resolve().parents[2]
KEYS = ROOT / "tests" / "vectors" / "keys"

ISSUER = "https://issuer.example.com"
AUDIENCE = "https://mcp.example.com/mcp"
IAT, EXP = 1735689600, 4102444800
ALGS = {"RS256": ("rsa1.pem", "rsa-1", RSAAlgorithm), "ES256": ("ec256.pem", "ec-256", ECAlgorithm),
        "EdDSA": ("ed25519.pem", "ed-1", OKPAlgorithm)}
DISTINCT = 1000
ROTATIONS = 10
# More tokens than a verifier keeps verified (core/src/verified.rs, MAX_ENTRIES = 1024): cycled
# through, every one is seen for the first time and its signature is checked.
FIRST_SIGHT = 1100


def public_jwk(algo, key, kid):
    jwk = json.loads(algo.to_jwk(key.public_key()))
    jwk["kid"] = kid
    return jwk


def claims(i, iss=ISSUER):
    return {"iss": iss, "sub": f"user-{i}", "aud": AUDIENCE, "client_id": "client-1", "scope": "read write",
            "iat": IAT, "exp": EXP, "jti": f"t-{i}"}


def thumbprint(jwk):
    """RFC 7638: the required members in lexicographic order, no whitespace, SHA-256."""
    members = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()


def dpop_fixture(rsa1):
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = {k: v for k, v in json.loads(ECAlgorithm.to_jwk(key.public_key())).items() if k in ("kty", "crv", "x", "y")}
    bound = dict(claims(1), cnf={"jkt": thumbprint(jwk)})
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"jwk": jwk, "pem": pem, "jkt": bound["cnf"]["jkt"],
            "token": jwt.encode(bound, rsa1, algorithm="RS256", headers={"kid": "rsa-1"})}


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    jwks, tokens, private, first_sight = [], {}, {}, {}
    for alg, (pem, kid, algo) in ALGS.items():
        key = serialization.load_pem_private_key((KEYS / pem).read_bytes(), password=None)
        jwks.append(public_jwk(algo, key, kid))
        tokens[alg] = jwt.encode(claims(1), key, algorithm=alg, headers={"kid": kid})
        # Subject user-1 throughout, as the one token's; only the jti tells them apart.
        first_sight[alg] = [jwt.encode(dict(claims(1), jti=f"f-{i}"), key, algorithm=alg, headers={"kid": kid})
                            for i in range(FIRST_SIGHT)]
        private[alg] = {"kid": kid, "pem": (KEYS / pem).read_text()}
    rsa1 = serialization.load_pem_private_key((KEYS / "rsa1.pem").read_bytes(), password=None)
    distinct = [jwt.encode(claims(i), rsa1, algorithm="RS256", headers={"kid": "rsa-1"}) for i in range(DISTINCT)]
    rotation = []
    per_key = DISTINCT // ROTATIONS
    for r in range(ROTATIONS):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = f"rot-{r}"
        rotation.append({
            "jwk": public_jwk(RSAAlgorithm, key, kid),
            "tokens": [jwt.encode(claims(r * per_key + i), key, algorithm="RS256", headers={"kid": kid})
                       for i in range(per_key)],
        })
    doc = {"issuer": ISSUER, "audience": AUDIENCE, "jwks": {"keys": jwks}, "tokens": tokens,
           "private": private, "first_sight": first_sight, "distinct": distinct, "rotation": rotation, "dpop": dpop_fixture(rsa1)}
    (out / "fixtures.json").write_text(json.dumps(doc))


if __name__ == "__main__":
    main()
