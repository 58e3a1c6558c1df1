"""Fault injection against real local servers, through the 'jwt' mode with its defaults.

The JWKS and metadata servers time out, refuse connections, answer 5xx, redirect in a loop,
truncate, send 50 MB, invalid JSON or an HTML page, and then recover. Requests finish within
the fetch timeout (JWKS 5 s, metadata 10 s) plus a margin with a clear answer; known keys keep
working while the key server fails (stale-if-error); everything recovers without a restart;
and however many unknown `kid`s arrive, the key server is asked at most once per 30 s
cooldown (counted at the server).

The Python API uses the core's defaults (30 s cooldown, max-age clamped to >= 30 s), so all
scenarios run concurrently: one phase of faults, one cooldown, one phase of recovery.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from support import Server

from mcpauth import MCPAuth
from mcpauth.config import (
    AuthorizationServerMetadata,
    AuthServerConfig,
    AuthServerDiscoveryConfig,
    AuthServerType,
    ResourceServerConfig,
    ResourceServerMetadata,
)

RESOURCE = "https://mcp.example.com/mcp"
JWKS_TIMEOUT, METADATA_TIMEOUT, COOLDOWN = 5.0, 10.0, 30.0  # the core's defaults
MARGIN = 3.0  # seconds of slack on a loaded 2-core machine
FAULTS = ["slow", "refused", "503", "loop", "truncated", "huge", "invalid-json", "html"]
MB = 1024 * 1024

TOKEN_VERIFICATION_FAILED = {
    "error": "token_verification_failed",
    "error_description": "The token verification failed due to an error in the verification process.",
}
SERVER_ERROR = {"error": "server_error", "error_description": "An error occurred with the authorization server."}


class Faulty:
    """An HTTP server whose answer is chosen per path; `hits` counts requests per path.

    'refused' closes the listener (same port, reopened by the next other mode), so a
    scenario that refuses connections gets a Faulty of its own.
    """

    def __init__(self) -> None:
        self.modes: Dict[str, Tuple[str, Any]] = {}
        self.hits: Dict[str, int] = {}
        self.bytes_sent = 0
        self.lock = threading.Lock()
        self.httpd: Optional[ThreadingHTTPServer] = None
        self.port = 0
        self._listen()
        self.url = f"http://127.0.0.1:{self.port}"

    def _listen(self) -> None:
        faulty = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                faulty._answer(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def set(self, path: str, mode: str, body: Any = None) -> None:
        previous = self.modes.get(path, ("ok", None))[1]
        self.modes[path] = (mode, previous if body is None else body)
        if mode == "refused" and self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        elif mode != "refused" and self.httpd is None:
            self._listen()

    def count(self, path: str) -> int:
        with self.lock:
            return self.hits.get(path, 0)

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0]
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
        base = path.split("/hop/")[0]
        mode, body = self.modes.get(base, ("ok", None))

        def send(status: int, data: bytes, content_type: str = "application/json", **headers: str) -> None:
            h.send_response(status)
            h.send_header("content-type", content_type)
            h.send_header("content-length", str(len(data)))
            for k, v in headers.items():
                h.send_header(k.replace("_", "-"), v)
            h.end_headers()
            h.wfile.write(data)

        try:
            if mode == "ok":
                value = body() if callable(body) else body
                send(200, json.dumps(value).encode(), cache_control="max-age=30")
            elif mode == "slow":
                time.sleep(METADATA_TIMEOUT + 3)  # longer than either timeout
                send(200, b"{}")
            elif mode == "503":
                send(503, b'{"error":"unavailable"}')
            elif mode == "loop":
                hop = int(path.split("/hop/")[1]) if "/hop/" in path else 0
                h.send_response(302)
                h.send_header("location", f"{base}/hop/{hop + 1}")
                h.send_header("content-length", "0")
                h.end_headers()
            elif mode == "truncated":
                h.send_response(200)
                h.send_header("content-type", "application/json")
                h.send_header("content-length", "4000")
                h.end_headers()
                h.wfile.write(b'{"keys":[{"kty":"RSA","kid":"')
                h.wfile.flush()
                h.connection.shutdown(socket.SHUT_RDWR)
                h.close_connection = True
            elif mode == "huge":
                # 50 MB of one JSON string, delimited by closing the connection.
                h.send_response(200)
                h.send_header("content-type", "application/json")
                h.send_header("connection", "close")
                h.end_headers()
                h.close_connection = True
                chunk = b"a" * (64 * 1024)
                h.wfile.write(b'{"keys":[],"padding":"')
                for _ in range(50 * MB // len(chunk)):
                    h.wfile.write(chunk)
                    with self.lock:
                        self.bytes_sent += len(chunk)
                h.wfile.write(b'"}')
            elif mode == "invalid-json":
                send(200, b'{"keys": [ {"kty": "RSA",')
            elif mode == "html":
                send(200, b"<!doctype html><html><body>Please sign in to the Wi-Fi</body></html>", "text/html")
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client gave up, as it should


class Keys:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwk = dict(RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True), kid=kid, alg="RS256")

    def mint(self, issuer: str, kid: Optional[str] = None) -> str:
        now = int(time.time())
        claims = {"iss": issuer, "sub": "user-1", "aud": RESOURCE, "scope": "read", "iat": now, "exp": now + 3600}
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


def metadata(issuer: str, jwks_uri: str) -> Dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": jwks_uri,
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
    }


def protected(server: Any) -> Mount:
    """A route protected by an MCPAuth of its own (resolved or discovery config)."""
    mcp_auth = MCPAuth(
        protected_resources=ResourceServerConfig(
            metadata=ResourceServerMetadata(resource=RESOURCE, authorization_servers=[server])
        )
    )
    bearer = mcp_auth.bearer_auth_middleware("jwt", resource=RESOURCE, audience=RESOURCE)

    async def whoami(request: Request) -> Response:
        return JSONResponse({"subject": mcp_auth.auth_info.subject})  # type: ignore[union-attr]

    return Mount("/", routes=[Route("/", whoami)], middleware=[Middleware(bearer)])


Answer = Tuple[int, Any, float]


async def get(client: httpx.AsyncClient, route: str, token: str) -> Answer:
    started = time.monotonic()
    r = await client.get(f"/{route}/", headers={"Authorization": f"Bearer {token}"})
    return r.status_code, r.json(), time.monotonic() - started


def test_faults_then_recovery() -> None:
    key, stranger = Keys("key-1"), Keys("stranger")
    shared = Faulty()
    own = {fault: Faulty() for fault in ("refused",)}
    own_md = {fault: Faulty() for fault in ("refused",)}
    own_stale = {fault: Faulty() for fault in ("refused",)}
    at: Callable[[Dict[str, Faulty], str], Faulty] = lambda d, fault: d.get(fault, shared)  # noqa: E731
    issuer = shared.url
    mounts: List[Mount] = []

    # 1. Keys that fail on first use, one scenario per fault.
    first = {f: f"/jwks-first-{f}" for f in FAULTS}
    # 2. Keys fetched fine once (max-age 30 s), then failing: stale-if-error.
    stale = {f: f"/jwks-stale-{f}" for f in FAULTS}
    for f in FAULTS:
        for paths, servers, name in ((first, own, "first"), (stale, own_stale, "stale")):
            srv = at(servers, f)
            config = AuthServerConfig(
                metadata=AuthorizationServerMetadata(**metadata(issuer, f"{srv.url}{paths[f]}")),
                type=AuthServerType.OIDC,
            )
            mounts.append(Mount(f"/{name}-{f}", routes=[protected(config)]))
    # 3. Metadata that fails on first use (discovery configs, fetched lazily).
    md_issuer = {f: f"{at(own_md, f).url}/md-{f}" for f in FAULTS}
    md_path = {f: f"/md-{f}/.well-known/openid-configuration" for f in FAULTS}
    for f in FAULTS:
        mounts.append(
            Mount(
                f"/md-{f}", routes=[protected(AuthServerDiscoveryConfig(issuer=md_issuer[f], type=AuthServerType.OIDC))]
            )
        )
    shared.set("/jwks-md", "ok", {"keys": [key.jwk]})

    for f in FAULTS:
        at(own, f).set(first[f], f, {"keys": [key.jwk]})
        at(own_stale, f).set(stale[f], "ok", {"keys": [key.jwk]})
        at(own_md, f).set(md_path[f], f, metadata(md_issuer[f], f"{shared.url}/jwks-md"))

    token = key.mint(issuer)
    unknown = [stranger.mint(issuer, kid=f"nobody-{uuid.uuid4().hex[:8]}") for _ in range(20)]

    async def scenario(client: httpx.AsyncClient) -> Dict[str, Any]:
        report: Dict[str, Any] = {}
        # Stale scenarios: one good fetch each, then their servers start failing.
        t0 = time.monotonic()
        for f in FAULTS:
            status, body, _ = await get(client, f"stale-{f}", token)
            assert status == 200, (f, body)
            at(own_stale, f).set(stale[f], f)

        async def first_use(f: str) -> List[Answer]:
            return list(
                await asyncio.gather(*(get(client, f"first-{f}", t) for t in (token, token, unknown[0], token)))
            )

        async def metadata_then_heal(f: str) -> Tuple[Answer, Answer]:
            failed = await get(client, f"md-{f}", key.mint(md_issuer[f]))
            at(own_md, f).set(md_path[f], "ok")
            healed = await get(client, f"md-{f}", key.mint(md_issuer[f]))
            return failed, healed

        # Metadata scenarios run alongside (the slow one takes its 10 s timeout).
        md_task = asyncio.ensure_future(asyncio.gather(*(metadata_then_heal(f) for f in FAULTS)))
        report["first"] = await asyncio.gather(*(first_use(f) for f in FAULTS))
        # A flood of unknown kids on top, while every key server is failing.
        flood = await asyncio.gather(*(get(client, f"first-{f}", t) for f in FAULTS for t in unknown))
        report["flood"] = flood
        report["first_hits"] = {f: at(own, f).count(first[f]) for f in FAULTS}
        failed_at = time.monotonic()  # the cooldown counts from the end of a failed refresh
        report["phase1_seconds"] = failed_at - t0

        # Heal the first-use servers; wait out the cooldown (and the stale sets' max-age).
        for f in FAULTS:
            at(own, f).set(first[f], "ok")
        max_age = 30.0  # the stale sets were served with max-age=30
        wake = max(failed_at + COOLDOWN, t0 + max_age) + 1.5
        await asyncio.sleep(max(0.0, wake - time.monotonic()))
        report["metadata"] = await md_task
        stale_hits = {f: at(own_stale, f).count(stale[f]) for f in FAULTS}
        report["recovered"] = await asyncio.gather(*(get(client, f"first-{f}", token) for f in FAULTS))
        report["recovered_hits"] = {f: at(own, f).count(first[f]) for f in FAULTS}
        report["stale"] = await asyncio.gather(*(get(client, f"stale-{f}", token) for f in FAULTS))
        report["stale_refetched"] = {f: at(own_stale, f).count(stale[f]) - stale_hits[f] for f in FAULTS}
        # Failed refreshes start a new cooldown: unknown kids now cost no fetch at all.
        before = {f: at(own_stale, f).count(stale[f]) for f in FAULTS}
        report["stale_flood"] = await asyncio.gather(*(get(client, f"stale-{f}", t) for f in FAULTS for t in unknown))
        report["stale_flood_fetches"] = {f: at(own_stale, f).count(stale[f]) - before[f] for f in FAULTS}
        report["stale_again"] = await asyncio.gather(*(get(client, f"stale-{f}", token) for f in FAULTS))
        return report

    async def run(url: str) -> Dict[str, Any]:
        # A fresh connection per request: this scenario idles longer than uvicorn's keep-alive,
        # and reusing a connection the server is closing would fail the request, not the code.
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
            return await scenario(client)

    try:
        with Server(Starlette(routes=mounts)) as app:
            report = asyncio.run(run(app.url))
    finally:
        for faulty in [shared, *own.values(), *own_md.values(), *own_stale.values()]:
            faulty.set("/", "ok")
            faulty.stop()

    for f, answers in zip(FAULTS, report["first"], strict=True):
        for status, body, seconds in answers:
            assert (status, body) == (401, TOKEN_VERIFICATION_FAILED), (f, status, body)
            assert seconds < JWKS_TIMEOUT + MARGIN, (f, seconds)
    for status, body, seconds in report["flood"]:
        assert status == 401 and body["error"] in ("token_verification_failed", "invalid_token"), body
        assert seconds < JWKS_TIMEOUT + MARGIN
    # One attempt per cooldown, however many requests came (a redirect loop counts its first hop).
    assert report["phase1_seconds"] < COOLDOWN
    for f in FAULTS:
        if f != "refused":
            assert report["first_hits"][f] == 1, (f, report["first_hits"])
    assert shared.count("/jwks-first-loop/hop/5") <= 1 and shared.count("/jwks-first-loop/hop/6") == 0
    assert shared.bytes_sent < 50 * MB  # the 50 MB bodies were cut off early

    for f, (failed, healed) in zip(FAULTS, report["metadata"], strict=True):
        assert (failed[0], failed[1]) == (500, SERVER_ERROR), (f, failed)
        assert failed[2] < METADATA_TIMEOUT + MARGIN, (f, failed[2])
        assert healed[0] == 200, (f, healed)  # a failed discovery is not cached

    for f, (status, body, _) in zip(FAULTS, report["recovered"], strict=True):
        assert status == 200, (f, body)
        assert report["recovered_hits"][f] == 2 or f == "refused", (f, report["recovered_hits"])
    for f, (status, body, seconds) in zip(FAULTS, report["stale"], strict=True):
        assert status == 200, (f, body)  # known keys keep working while the server fails
        assert seconds < JWKS_TIMEOUT + MARGIN, (f, seconds)
        if f != "refused":
            assert report["stale_refetched"][f] == 1, (f, report["stale_refetched"])
    for status, body, _ in report["stale_flood"]:
        assert status == 401 and body["error"] == "invalid_token", body
    assert report["stale_flood_fetches"] == {f: 0 for f in FAULTS}
    for f, (status, body, _) in zip(FAULTS, report["stale_again"], strict=True):
        assert status == 200, (f, body)


def test_json_under_another_content_type_is_read() -> None:
    """Key servers often send a JWKS as text/plain; only the body has to be JSON."""
    key = Keys("key-1")

    async def jwks(request: Request) -> Response:
        return Response(json.dumps({"keys": [key.jwk]}), media_type="text/plain")

    from mcpauth.utils import create_verify_jwt

    with Server(Starlette(routes=[Route("/jwks", jwks)])) as srv:
        assert create_verify_jwt(f"{srv.url}/jwks")(key.mint("https://issuer.example.com")).subject == "user-1"


def test_a_declared_50mb_body_is_refused_without_reading_it() -> None:
    """A Content-Length above the cap fails at once, not after the body or the timeout."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    port = sock.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 52428800\r\n\r\n{")
            stop.wait(6)  # hold the connection open: the client must not wait for the body
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    from mcpauth.exceptions import MCPAuthTokenVerificationException
    from mcpauth.utils import create_verify_jwt

    key = Keys("key-1")
    started = time.monotonic()
    try:
        create_verify_jwt(f"http://127.0.0.1:{port}/jwks")(key.mint("https://issuer.example.com"))
        raise AssertionError("verified against a 50 MB key set")
    except MCPAuthTokenVerificationException as e:
        assert e.code == "token_verification_failed"
    finally:
        stop.set()
        sock.close()
    assert time.monotonic() - started < JWKS_TIMEOUT
