"""One contender's token-verification throughput per algorithm, as one JSON line.

Per algorithm: ops per wall-clock second, and (`<alg>_cpu`) ops per second of process CPU time
(all threads), which a busy machine disturbs less.

Run by run.py in the contender's own virtualenv, interleaved with the others, once per round.
Every contender but `ours_jwt_repeat` cycles through the fixtures' first-sight tokens (more
than a verifier keeps), so every signature is checked, as for a token never seen before.

  ours_jwt       mcpauth (this repository): TokenVerifier 'jwt' mode, JWKS URI cached
  ours_jwt_repeat  the same, one token again and again: answered from the verifier's cache of
                 verified tokens after the first time
  ours_key       mcpauth (this repository): create_verify_jwt(<JWK Set>)
  upstream_jwt   mcpauth 0.2.0b1: TokenVerifier 'jwt' mode (fetches the JWKS for every token)
  upstream_key   mcpauth 0.2.0b1: create_verify_jwt(PyJWK)
  pyjwt          PyJWT jwt.decode with a parsed key (audience and issuer checked)

Usage: verify.py FIXTURES_JSON AS_PORT CONTENDER SECONDS
"""

import json
import sys
import time

from common import jwt_mode_verifier

FIX = json.loads(open(sys.argv[1]).read())
PORT, CONTENDER, SECONDS = int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
JWKS_URI = f"http://127.0.0.1:{PORT}/jwks"
ALGS = ["RS256", "ES256", "EdDSA"]


def jwk_for(alg):
    kid = FIX["private"][alg]["kid"]
    return next(k for k in FIX["jwks"]["keys"] if k["kid"] == kid)


def jwt_mode():
    verify = jwt_mode_verifier(FIX, JWKS_URI)
    return lambda alg: verify


def ours_key():
    from mcpauth.utils import create_verify_jwt

    return lambda alg: create_verify_jwt({"keys": [jwk_for(alg)]}, algorithms=[alg])


def upstream_key():
    from jwt import PyJWK
    from mcpauth.utils import create_verify_jwt

    return lambda alg: create_verify_jwt(PyJWK(jwk_for(alg)), algorithms=[alg])


def pyjwt():
    import jwt

    def make(alg):
        key = jwt.PyJWK(jwk_for(alg)).key

        def verify(token):
            return jwt.decode(token, key, algorithms=[alg], audience=FIX["audience"], issuer=FIX["issuer"])

        return verify

    return make


def subject(result):
    return result["sub"] if isinstance(result, dict) else result.subject


def ops_per_second(verify, tokens):
    """`tokens`: the batch verified between two looks at the clock (one token repeated, or the
    first-sight tokens), so that every contender runs the same loop."""
    deadline = time.perf_counter() + min(0.3, SECONDS / 3)
    while time.perf_counter() < deadline:
        for token in tokens:
            verify(token)
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    end = start + SECONDS
    while True:
        for token in tokens:
            verify(token)
        n += len(tokens)
        now = time.perf_counter()
        if now >= end:
            return n / (now - start), n / max(time.process_time() - cpu, 1e-9)


def main():
    factory = {"ours_jwt": jwt_mode, "ours_jwt_repeat": jwt_mode, "upstream_jwt": jwt_mode, "ours_key": ours_key, "upstream_key": upstream_key,
               "pyjwt": pyjwt}[CONTENDER]()
    out = {}
    for alg in ALGS:
        token = FIX["tokens"][alg]
        try:
            verify = factory(alg)
            if subject(verify(token)) != "user-1":
                raise AssertionError("wrong subject")
        except Exception as e:  # an algorithm the contender does not support
            out[alg] = None
            out[alg + "_error"] = f"{type(e).__name__}: {e}"[:200]
            continue
        tokens = [token] * 50 if CONTENDER.endswith("_repeat") else FIX["first_sight"][alg]
        out[alg], out[alg + "_cpu"] = ops_per_second(verify, tokens)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
