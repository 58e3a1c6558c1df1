"""Resident memory of mcpauth (this repository) across 100,000 verifications, as one JSON line.

'jwt' mode verifier (JWKS URI on the loopback server, cached, default options): 10 key
rotations, 10,000 verifications per rotation over the 100 tokens of the new key (1,000 distinct
tokens in all); each new kid makes the verifier refetch the key set once. Then 300 JWKS URIs,
past the cache's bound of 256: the first one must have been evicted and is fetched again.

Usage: memory.py FIXTURES_JSON AS_PORT
"""

import json
import sys
import urllib.request

from common import jwt_mode_verifier
from mcpauth.utils import create_verify_jwt

FIX = json.loads(open(sys.argv[1]).read())
PORT = int(sys.argv[2])
TOTAL = 100_000
URIS = 300


def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def get(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}") as r:
        return json.loads(r.read())


def jwks_fetches():
    return get("/stats")["jwks"]


verify = jwt_mode_verifier(FIX, f"http://127.0.0.1:{PORT}/jwks")
before = jwks_fetches()
samples, n = [], 0
for k, rotation in enumerate(FIX["rotation"]):
    get(f"/rotate?k={k}")  # publish the new key (and the previous one); tokens use the new kid
    tokens = rotation["tokens"]
    for i in range(TOTAL // len(FIX["rotation"])):
        info = verify(tokens[i % len(tokens)])
        n += 1
    samples.append(round(rss_mb(), 1))
assert info.subject == f"user-{len(FIX['rotation']) * len(tokens) - 1}", info.subject
start, end = samples[0], rss_mb()  # from the end of the first rotation (caches warm) to the end
fetches = jwks_fetches() - before

# The key-set cache is bounded (256 JWKS URIs): fill it past its bound, then come back to the
# first URI; a bounded cache has evicted it and fetches it again.
get("/reset")
token = FIX["tokens"]["RS256"]
first = create_verify_jwt(f"http://127.0.0.1:{PORT}/jwks?set=0", algorithms=["RS256"])
first(token)
for i in range(1, URIS):
    create_verify_jwt(f"http://127.0.0.1:{PORT}/jwks?set={i}", algorithms=["RS256"])(token)
again = jwks_fetches()
first(token)
print(json.dumps({"verifications": n, "distinct_tokens": sum(len(r["tokens"]) for r in FIX["rotation"]),
                  "rotations": len(FIX["rotation"]),
                  "rss_start_mb": start, "rss_end_mb": end, "rss_growth_mb": round(end - start, 1),
                  "rss_samples_mb": samples, "jwks_fetches": fetches,
                  "jwks_uris": URIS, "evicted_refetched": jwks_fetches() - again == 1,
                  "rss_after_uris_mb": round(rss_mb(), 1),
                  "note": f"1,000 tokens over 10 rotating keys; then {URIS} JWKS URIs"}))
