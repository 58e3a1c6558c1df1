#!/usr/bin/env python3
"""Writes COUNT fresh DPoP proofs (RFC 9449, ES256), one per line, for the fixtures' bound token:
each with its own `jti`, `iat` now, `htm` GET and `htu` the resource, `ath` the token's hash. A
proof is accepted once (the server records its `jti`), so every load run gets a new file.

Usage: dpop_proofs.py FIXTURES_JSON OUT_FILE COUNT
"""

import base64
import hashlib
import json
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    fix = json.loads(open(sys.argv[1]).read())
    out, count = sys.argv[2], int(sys.argv[3])
    d = fix["dpop"]
    key = serialization.load_pem_private_key(d["pem"].encode(), password=None)
    header = b64(json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": d["jwk"]}, separators=(",", ":")).encode())
    ath = b64(hashlib.sha256(d["token"].encode()).digest())
    now = int(time.time())
    prefix = f"bench-{now}-"
    with open(out, "w") as f:
        for i in range(count):
            claims = {"jti": f"{prefix}{i}", "htm": "GET", "htu": fix["audience"], "iat": now, "ath": ath}
            payload = b64(json.dumps(claims, separators=(",", ":")).encode())
            signing_input = f"{header}.{payload}".encode()
            r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            f.write(f"{header}.{payload}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}\n")


if __name__ == "__main__":
    main()
