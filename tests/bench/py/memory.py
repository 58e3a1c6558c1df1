"""Resident memory of mcpauth (this repository) across 100,000 verifications, as one JSON line.

'jwt' mode verifier (JWKS URI on the loopback server, cached), cycling over 1,000 distinct
RS256 tokens; then 300 JWKS URIs, past the cache's bound. Key rotation runs in the Node variant (node/memory.mjs), whose JWKS cooldown
can be set to zero; the cache behind both is the same core cache.

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


def jwks_fetches():
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/stats") as r:
        return json.loads(r.read())["jwks"]


verify = jwt_mode_verifier(FIX, f"http://127.0.0.1:{PORT}/jwks")
tokens = FIX["distinct"]
before = jwks_fetches()
for t in tokens:  # warm: every token once
    verify(t)
start = rss_mb()
samples = []
for i in range(TOTAL):
    info = verify(tokens[i % len(tokens)])
    if (i + 1) % 10_000 == 0:
        samples.append(round(rss_mb(), 1))
assert info.subject == f"user-{(TOTAL - 1) % len(tokens)}"
end = rss_mb()
fetches = jwks_fetches() - before

# The key-set cache is bounded (256 JWKS URIs): fill it past its bound, then come back to the
# first URI; a bounded cache has evicted it and fetches it again.
token = tokens[0]
first = create_verify_jwt(f"http://127.0.0.1:{PORT}/jwks?set=0", algorithms=["RS256"])
first(token)
for i in range(1, URIS):
    create_verify_jwt(f"http://127.0.0.1:{PORT}/jwks?set={i}", algorithms=["RS256"])(token)
again = jwks_fetches()
first(token)
print(json.dumps({"verifications": TOTAL, "distinct_tokens": len(tokens), "rotations": 0,
                  "rss_start_mb": start, "rss_end_mb": end, "rss_growth_mb": round(end - start, 1),
                  "rss_samples_mb": samples, "jwks_fetches": fetches,
                  "jwks_uris": URIS, "evicted_refetched": jwks_fetches() - again == 1,
                  "rss_after_uris_mb": round(rss_mb(), 1),
                  "note": f"1,000 tokens, one key set; then {URIS} JWKS URIs"}))
