#!/usr/bin/env python3
"""A loopback authorization server for the benchmarks: metadata, JWKS, counters, rotation.

It serves two issuers. The fixtures' issuer (`https://issuer.example.com`) is configured
inline by the contenders, with `jwks_uri` pointing here. The discovery issuer is this server's
own origin (`http://127.0.0.1:<port>`), whose metadata is fetched on demand; `/mint` issues
tokens for it with the fixtures' private keys.

  GET /jwks                               the current key set (counted)
  GET /.well-known/openid-configuration   metadata of the discovery issuer (counted)
  GET /stats                              {"jwks": n, "metadata": n}
  GET /reset                              counters to zero, the fixtures' key set
  GET /rotate?k=N                         publish rotation keys N-1 and N only
  GET /mint?alg=RS256&sub=...             a token of the discovery issuer
  POST /introspect                        RFC 7662: any token is active for the fixtures' issuer
                                          (client `bench` / `bench-secret`, Basic or form; counted)

Usage: as_server.py FIXTURES_JSON   (prints the port, then serves until killed)
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from base64 import b64decode
from urllib.parse import parse_qs, unquote_plus, urlparse

import jwt

FIX = json.loads(open(sys.argv[1]).read())
LOCK = threading.Lock()
COUNTS = {"jwks": 0, "metadata": 0, "introspection": 0}
STATE = {"jwks": FIX["jwks"], "counts": dict(COUNTS)}
CLIENT = ("bench", "bench-secret")


def metadata(origin):
    return {
        "issuer": origin,
        "authorization_endpoint": origin + "/authorize",
        "token_endpoint": origin + "/token",
        "jwks_uri": origin + "/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "registration_endpoint": origin + "/register",
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a client reusing the connection
    # waits for a delayed ACK (~40 ms) before it sees the body.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def reply(self, doc, status=200, content_type="application/json"):
        body = (doc if isinstance(doc, str) else json.dumps(doc)).encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        origin = f"http://127.0.0.1:{self.server.server_port}"
        with LOCK:
            if url.path == "/jwks":
                STATE["counts"]["jwks"] += 1
                return self.reply(STATE["jwks"])
            if url.path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
                STATE["counts"]["metadata"] += 1
                return self.reply(metadata(origin))
            if url.path == "/stats":
                return self.reply(STATE["counts"])
            if url.path == "/reset":
                STATE["jwks"] = FIX["jwks"]
                STATE["counts"] = dict(COUNTS)
                return self.reply({})
            if url.path == "/rotate":
                k = int(q["k"])
                keys = [FIX["rotation"][i]["jwk"] for i in (k - 1, k) if i >= 0]
                STATE["jwks"] = {"keys": keys}
                return self.reply({"kids": [key["kid"] for key in keys]})
        if url.path == "/mint":
            alg = q.get("alg", "RS256")
            key = FIX["private"][alg]
            claims = {"iss": origin, "sub": q.get("sub", "user-1"), "aud": FIX["audience"], "client_id": "client-1",
                      "scope": "read write", "iat": 1735689600, "exp": 4102444800}
            return self.reply(jwt.encode(claims, key["pem"], algorithm=alg, headers={"kid": key["kid"]}),
                              content_type="text/plain")
        self.reply({"error": "not_found"}, status=404)

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if urlparse(self.path).path != "/introspect":
            return self.reply({"error": "not_found"}, status=404)
        basic = self.headers.get("authorization", "")
        client = (form.get("client_id"), form.get("client_secret"))
        if basic.startswith("Basic "):
            client = tuple(unquote_plus(p) for p in b64decode(basic[6:]).decode().split(":", 1))
        if client != CLIENT or "token" not in form:
            return self.reply({"error": "invalid_client"}, status=401)
        with LOCK:
            STATE["counts"]["introspection"] += 1
        return self.reply({"active": True, "iss": FIX["issuer"], "sub": "user-1", "client_id": "client-1",
                           "scope": "read write", "aud": FIX["audience"], "exp": 4102444800,
                           "token_type": "Bearer"})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
