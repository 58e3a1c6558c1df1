"""Real servers for the tests: uvicorn on 127.0.0.1 in a thread, and a local token issuer."""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time
import uuid
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qs, unquote_plus

import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def bind() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class Server:
    """A uvicorn server on a random port, running its own loop in a thread."""

    def __init__(self, app: Any = None, sock: Optional[socket.socket] = None):
        self.sock = sock or bind()
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = app
        self._server: Optional[uvicorn.Server] = None
        self._thread: Optional[threading.Thread] = None

    def start(self, app: Any = None) -> "Server":
        if app is not None:
            self.app = app
        config = uvicorn.Config(self.app, log_level="warning", lifespan="auto", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.sock.close()

    def __enter__(self) -> "Server":
        return self.start() if self._server is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class Issuer:
    """A local authorization server: discovery documents, a JWKS, and token minting."""

    def __init__(self, registration: bool = True) -> None:
        self.server = Server()
        self.url = self.server.url
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"key-{uuid.uuid4().hex[:8]}"
        self.jwks_uri = f"{self.url}/jwks"
        self.jwks_fetches = 0
        self.metadata_fetches = 0
        self.metadata: Dict[str, Any] = {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": self.jwks_uri,
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["read", "write"],
            "end_session_endpoint": f"{self.url}/logout",
        }
        if registration:
            self.metadata["registration_endpoint"] = f"{self.url}/register"
        self.server.start(self._app())

    def _app(self) -> Starlette:
        async def metadata(request: Request) -> Response:
            self.metadata_fetches += 1
            return JSONResponse(self.metadata)

        async def jwks(request: Request) -> Response:
            self.jwks_fetches += 1
            jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
            return JSONResponse({"keys": [jwk]})

        async def broken(request: Request) -> Response:
            return Response("boom", status_code=500)

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", metadata),
                Route("/.well-known/oauth-authorization-server", metadata),
                Route("/jwks", jwks),
                Route("/broken/.well-known/openid-configuration", broken),
            ]
        )

    def token(
        self,
        sub: str = "user-1",
        scope: Optional[str] = "read write",
        aud: Any = None,
        lifetime: int = 3600,
        typ: Optional[str] = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload: Dict[str, Any] = {"iss": self.url, "sub": sub, "iat": now, "exp": now + lifetime}
        if scope is not None:
            payload["scope"] = scope
        if aud is not None:
            payload["aud"] = aud
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        headers: Dict[str, Any] = {"kid": self.kid}
        if typ is not None:
            headers["typ"] = typ
        return jwt.encode(payload, self.key, algorithm="RS256", headers=headers)

    def stop(self) -> None:
        self.server.stop()


class MetadataHost:
    """Serves metadata documents at chosen paths (404 elsewhere) and records every path asked."""

    def __init__(self) -> None:
        self.documents: Dict[str, Any] = {}
        self.statuses: Dict[str, int] = {}
        self.requested: List[str] = []
        self.server = Server()
        self.url = self.server.url

        async def any_path(request: Request) -> Response:
            path = request.url.path
            self.requested.append(path)
            if path in self.statuses:
                return Response("unavailable", status_code=self.statuses[path])
            if path in self.documents:
                return JSONResponse(self.documents[path])
            return Response("not found", status_code=404)

        self.server.start(Starlette(routes=[Route("/{path:path}", any_path)]))

    def metadata(self, issuer: str, **fields: Any) -> Dict[str, Any]:
        """Valid MCP-ready metadata for `issuer`, with `fields` changed (None removes one)."""
        doc: Dict[str, Any] = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "registration_endpoint": f"{issuer}/register",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
        }
        doc.update(fields)
        return {k: v for k, v in doc.items() if v is not None}

    def stop(self) -> None:
        self.server.stop()


class IntrospectionEndpoint:
    """A real RFC 7662 endpoint: authenticates the client (Basic or form, exactly one) and
    answers per token; unknown tokens are inactive. Records who asked about what."""

    def __init__(self, client_id: str, client_secret: str, path: str = "/introspect") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        # token -> (status, JSON body) or (status, raw text)
        self.answers: Dict[str, Any] = {}
        self.requests: List[Dict[str, Any]] = []
        self.delay = 0.0
        self.status: Optional[int] = None  # forces every answer to this status
        self.server = Server()
        self.url = f"{self.server.url}{path}"
        self.server.start(Starlette(routes=[Route(path, self._introspect, methods=["GET", "POST"])]))

    def _client(self, request: Request, form: Dict[str, str]) -> Optional[str]:
        """The authentication method the client used, or None if it failed."""
        header = request.headers.get("authorization")
        in_form = "client_id" in form or "client_secret" in form
        if header is not None and not in_form:
            scheme, _, value = header.partition(" ")
            try:
                user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            creds = (unquote_plus(user), unquote_plus(password))
            ok = scheme.lower() == "basic" and creds == (self.client_id, self.client_secret)
            return "client_secret_basic" if ok else None
        if in_form and header is None:
            ok = (form.get("client_id"), form.get("client_secret")) == (self.client_id, self.client_secret)
            return "client_secret_post" if ok else None
        return None

    async def _introspect(self, request: Request) -> Response:
        body = (await request.body()).decode()
        form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
        if (
            request.method != "POST"
            or request.headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded"
            or form.get("token_type_hint") != "access_token"
            or "token" not in form
        ):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        method = self._client(request, form)
        self.requests.append({"token": form["token"], "auth_method": method})
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status is not None:
            return Response("unavailable", status_code=self.status)
        if method is None:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        status, answer = self.answers.get(form["token"], (200, {"active": False}))
        if isinstance(answer, str):
            return Response(answer, status_code=status, media_type="text/html")
        return JSONResponse(answer, status_code=status)

    def asked(self, token: str) -> int:
        return sum(1 for r in self.requests if r["token"] == token)

    def stop(self) -> None:
        self.server.stop()


def check_answer(resp: httpx.Response, expect: Dict[str, Any]) -> None:
    """A vector's `expect`: the status, and for refusals the exact body (key order too) and challenge."""
    assert resp.status_code == expect["status"], resp.text
    if "body" in expect:
        body = resp.json()
        assert body == expect["body"]
        assert list(body) == list(expect["body"])
        assert resp.headers.get("www-authenticate") == expect["www_authenticate"]


def check_auth_info(got: Dict[str, Any], expect: Dict[str, Any]) -> None:
    """A vector's `expect.auth_info` against what the handler saw; `claims` is a subset."""
    for k, want in expect.items():
        if k == "claims":
            assert {c: got["claims"].get(c) for c in want} == want, k
        else:
            assert got[k] == want, k
