"""An MCP client on the Python SDK (`mcp` 1.x): OAuth discovery, registration, authorization
code + PKCE, step-up on `insufficient_scope`, all done by the SDK's `OAuthClientProvider`.

The only thing it cannot do alone is the user's part at the authorization server. `HeadlessUser`
plays it over plain HTTP with the server's no-browser login form, and hands the authorization
code to the SDK through the callback handler.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Dict, List, Optional
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
from mcp import ClientSession
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

# Registered as the client's redirect URI; nothing listens there, the code is read off the redirect.
REDIRECT_URI = "http://127.0.0.1:53682/callback"


@dataclass
class Exchange:
    """One HTTP request the client made, as shown in transcripts and checked by tests."""

    method: str
    url: str
    status: int
    www_authenticate: Optional[str] = None
    detail: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class MemoryStorage:
    """The SDK's TokenStorage, in memory."""

    tokens: Optional[OAuthToken] = None
    client_info: Optional[OAuthClientInformationFull] = None
    issued: List[OAuthToken] = field(default_factory=list)

    async def get_tokens(self) -> Optional[OAuthToken]:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.issued.append(tokens)

    async def get_client_info(self) -> Optional[OAuthClientInformationFull]:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class HeadlessUser:
    """A user answering the authorization server's login form without a browser.

    The first login grants only `first_grant` (a subset of what the client asked for) when given,
    the way a user may untick scopes; later authorizations in the same AS session are consented
    to in full by the server itself.
    """

    def __init__(self, username: str, first_grant: Optional[str] = None, log: Optional[List[Exchange]] = None):
        self.username = username
        self.first_grant = first_grant
        self.log = log if log is not None else []
        self.http = httpx.AsyncClient(follow_redirects=False, timeout=30)  # keeps the AS session cookie
        self.logged_in = False
        self._result: Optional[tuple[str, Optional[str]]] = None

    async def redirect_handler(self, authorization_url: str) -> None:
        params = parse_qs(urlparse(authorization_url).query)
        url = authorization_url
        while not url.startswith(REDIRECT_URI):
            res = await self.http.get(url)
            self._record(
                res,
                "authorization request: scope=%r resource=%r"
                % (params.get("scope", [""])[0], params.get("resource", [""])[0])
                if url == authorization_url
                else None,
            )
            if res.status_code == 200 and "/interaction/" in url:
                form = {"username": self.username}
                if not self.logged_in and self.first_grant is not None:
                    form["scope"] = self.first_grant
                res = await self.http.post(url.rstrip("/") + "/login", data=form)
                self._record(res, f"login as {self.username}, granting {form.get('scope', 'everything requested')!r}")
                self.logged_in = True
            location = res.headers.get("location")
            if not location:
                raise RuntimeError(f"authorization stopped at {url}: HTTP {res.status_code} {res.text[:300]}")
            url = urljoin(url, location)
        query = parse_qs(urlparse(url).query)
        if "code" not in query:
            raise RuntimeError(f"authorization failed: {query}")
        self._result = (query["code"][0], query.get("state", [None])[0])

    async def callback_handler(self) -> tuple[str, Optional[str]]:
        assert self._result is not None, "redirect_handler ran first"
        result, self._result = self._result, None
        return result

    def _record(self, res: httpx.Response, detail: Optional[str]) -> None:
        self.log.append(Exchange(res.request.method, str(res.request.url), res.status_code, detail=detail))

    async def aclose(self) -> None:
        await self.http.aclose()


def _describe(response: httpx.Response, body: bytes) -> Optional[str]:
    """A one-line summary of the interesting part of an OAuth/MCP response."""
    path = response.request.url.path
    try:
        data = (
            json.loads(body)
            if body and response.headers.get("content-type", "").startswith("application/json")
            else None
        )
    except ValueError:
        data = None
    if isinstance(data, dict):
        if "/.well-known/oauth-protected-resource" in path:
            return f"resource={data.get('resource')} authorization_servers={data.get('authorization_servers')}"
        if "/.well-known/" in path:
            return f"issuer={data.get('issuer')} token_endpoint={data.get('token_endpoint')}"
        if "client_id" in data and response.request.method == "POST" and response.status_code == 201:
            return f"registered client_id={data['client_id']}"
        if "access_token" in data:
            return f"token_type={data.get('token_type')} scope={data.get('scope')!r}"
        if "error" in data:
            return f"error={data.get('error')} {data.get('error_description', '')}".strip()
    return None


class Client:
    """One MCP client (one registration, one token storage, one user at the AS)."""

    def __init__(self, server_url: str, user: HeadlessUser, storage: Optional[MemoryStorage] = None):
        self.server_url = server_url
        self.user = user
        self.log = user.log
        self.storage = storage or MemoryStorage()
        self.oauth = OAuthClientProvider(
            server_url=server_url,
            client_metadata=OAuthClientMetadata(
                client_name="mcp-auth e2e (Python SDK)",
                redirect_uris=[REDIRECT_URI],  # type: ignore[list-item]
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
                token_endpoint_auth_method="none",
            ),
            storage=self.storage,
            redirect_handler=user.redirect_handler,
            callback_handler=user.callback_handler,
        )

    async def _on_request(self, request: httpx.Request) -> None:
        request.extensions["mcp_e2e_body"] = request.content if request.method == "POST" else b""

    async def _on_response(self, response: httpx.Response) -> None:
        request = response.request
        detail = None
        sent = request.extensions.get("mcp_e2e_body", b"")
        if request.url.path == urlparse(self.server_url).path and sent:
            try:
                msg = json.loads(sent)
                detail = msg.get("method", "") + (
                    f" {msg['params']['name']}" if msg.get("method") == "tools/call" else ""
                )
            except (ValueError, AttributeError, KeyError, TypeError):
                detail = None
        elif not response.headers.get("content-type", "").startswith("text/event-stream"):
            body = await response.aread()
            detail = _describe(response, body)
        self.log.append(
            Exchange(
                request.method, str(request.url), response.status_code, response.headers.get("www-authenticate"), detail
            )
        )

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[ClientSession]:
        http = create_mcp_http_client(auth=self.oauth)
        http.event_hooks = {"request": [self._on_request], "response": [self._on_response]}
        async with http, streamable_http_client(self.server_url, http_client=http) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session

    def expire_access_token(self) -> None:
        """Makes the SDK treat its access token as expired, so its next request refreshes it."""
        self.oauth.context.token_expiry_time = time.time() - 1


async def call(session: ClientSession, tool: str, args: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Calls a tool; the result's JSON object, or {"isError": True, "text": ...}."""
    result = await session.call_tool(tool, args or {})
    text = "".join(getattr(c, "text", "") for c in result.content)
    if result.isError:
        return {"isError": True, "text": text}
    return json.loads(text)


async def run(
    server_url: str, user: str, grant: Optional[str] = None, calls: Optional[List[Any]] = None
) -> Dict[str, Any]:
    """One client run (one registration, one login), reported like ts-client.mjs reports."""
    headless = HeadlessUser(user, grant)
    client = Client(server_url, headless)
    results: List[Dict[str, Any]] = []
    try:
        async with client.session() as session:
            for item in calls or []:
                tool, args = (item, {}) if isinstance(item, str) else item
                try:
                    results.append({"tool": tool, "args": args, "result": await call(session, tool, args)})
                except Exception as error:  # reported, like the TypeScript client does
                    results.append({"tool": tool, "args": args, "error": str(error)})
    finally:
        await headless.aclose()
    return {"user": user, "http": [e.to_json() for e in client.log], "calls": results}
