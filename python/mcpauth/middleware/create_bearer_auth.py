"""The bearer-token middleware: a pure ASGI middleware, so streamed responses pass untouched.

`jwt` mode runs header parsing, verification, issuer/audience/scope policy and the failure
answer in one native call with the GIL released; keys and metadata that are not cached yet
are fetched by the core without blocking the event loop. Custom verifiers may be sync (run in
a worker thread) or async; their AuthInfo gets the same policy checks. Only failures of the
authentication itself are answered here: whatever the wrapped app raises propagates.

With per-operation rules (`tool_scopes`, `resource_scopes`, `prompt_scopes`, `method_scopes`)
the core decides from the JSON-RPC body of a POST which scopes it needs. The body is read here
once, at most as many bytes as the core asks for, and the same bytes are handed on to the app;
the core does all the reading of them. GET streams (SSE) and every response pass untouched.

With `dpop` settings (RFC 9449) every request goes through the core's `check_request`: the
Authorization header, each `DPoP` header line and the raw request path (the proof's `htu` is
the resource identifier's origin plus that path). Refusals carry one `WWW-Authenticate` line per
challenge and any `DPoP-Nonce`; an accepted request's `DPoP-Nonce` is added to the app's answer.
"""

from __future__ import annotations

import inspect
import logging
import math
from contextvars import ContextVar
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import urlparse

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, PrivateAttr, SkipValidation, ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import _bridge, _core
from .._context import new_scope_key, publish, sdk_auth_var
from .._errors import from_core, to_core
from ..config import DpopConfig
from ..exceptions import BearerAuthExceptionCode, MCPAuthConfigException, MCPAuthException
from ..types import AuthInfo, VerifyAccessTokenFunction
from ..utils._create_verify_jwt import JwtVerify, log_notices

logger = logging.getLogger("mcpauth")


class BearerAuthConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    issuer: Union[str, Callable[[str], None]]
    audience: Optional[str] = None
    required_scopes: Optional[List[str]] = None
    resource: Optional[str] = None
    show_error_details: bool = False
    # Per-operation rules. Not validated here: the core checks them (and refuses what it cannot
    # use) when the middleware is built, so every package accepts exactly the same rules.
    tool_scopes: SkipValidation[Optional[Mapping[str, Sequence[str]]]] = None
    resource_scopes: SkipValidation[Optional[Mapping[str, Sequence[str]]]] = None
    prompt_scopes: SkipValidation[Optional[Mapping[str, Sequence[str]]]] = None
    method_scopes: SkipValidation[Optional[Mapping[str, Sequence[str]]]] = None
    scope_hierarchy: SkipValidation[Optional[Mapping[str, Sequence[str]]]] = None
    max_body_bytes: SkipValidation[Optional[int]] = None
    # DPoP settings in the core's shape (see `dpop_options`), checked by the core.
    dpop: SkipValidation[Optional[Dict[str, Any]]] = None
    # Tests only: "now" for the DPoP checks.
    _dpop_now: Optional[float] = PrivateAttr(default=None)
    # Set by MCPAuth when `audience` is the resource identifier because none was configured:
    # refusals then say which audience was expected.
    _audience_from_resource: bool = PrivateAttr(default=False)


OPERATION_OPTIONS = (
    "tool_scopes",
    "resource_scopes",
    "prompt_scopes",
    "method_scopes",
    "scope_hierarchy",
    "max_body_bytes",
)


INVALID_DPOP_CONFIG = "invalid_dpop_config"

# DpopConfig members copied to the core's settings as they are, when set.
_DPOP_AS_IS = ("algorithms", "iat_window", "leeway", "nonce_window", "replay_max_entries", "replay_key_prefix")


def _dpop_config(dpop: Union[DpopConfig, Mapping[str, Any]]) -> DpopConfig:
    if isinstance(dpop, DpopConfig):
        return dpop
    if not isinstance(dpop, Mapping):
        raise MCPAuthConfigException(
            INVALID_DPOP_CONFIG, f"`dpop` must be a DpopConfig or a dict, not {type(dpop).__name__}."
        )
    known = list(DpopConfig.model_fields)
    for key in dpop:
        if key not in known:
            raise MCPAuthConfigException(
                INVALID_DPOP_CONFIG, f"unknown DPoP option `{key}` (known: {', '.join(known)})."
            )
    try:
        return DpopConfig.model_validate(dict(dpop))
    except ValidationError as e:
        raise MCPAuthConfigException(INVALID_DPOP_CONFIG, f"invalid DPoP settings: {e}") from None


def dpop_options(
    dpop: Union[DpopConfig, Mapping[str, Any]], resource: Optional[str]
) -> Tuple[Dict[str, Any], Optional[float]]:
    """The route's DPoP settings in the core's shape (`DpopOptions::from_json`), and the pinned
    "now" of a test configuration."""
    config = _dpop_config(dpop)
    if not resource:
        raise MCPAuthConfigException(
            INVALID_DPOP_CONFIG,
            "DPoP needs the route's `resource`: proofs name the resource identifier's origin.",
        )
    if config.nonce and not config.nonce_secret:
        raise MCPAuthConfigException(
            INVALID_DPOP_CONFIG, "`nonce=True` needs a `nonce_secret` (at least 32 bytes, the same on every replica)."
        )
    if config.nonce_secret is not None and not config.nonce:
        # A secret without nonces is a configuration that looks safer than it is.
        raise MCPAuthConfigException(
            INVALID_DPOP_CONFIG, "`nonce_secret` is set but nonces are off: pass `nonce=True` to send DPoP nonces."
        )
    out: Dict[str, Any] = {
        "mode": config.mode,
        "resource": resource,
        "replay_store": config.replay_store,
        "replay_fail_open": config.replay_fail_open,
    }
    for name in _DPOP_AS_IS:
        value = getattr(config, name)
        if value is not None:
            out[name] = value
    if config.nonce:
        out["nonce_secret"] = config.nonce_secret
    if config.replay_timeout is not None:
        # Rounded up: a positive timeout never becomes zero milliseconds.
        out["replay_timeout_ms"] = math.ceil(config.replay_timeout * 1000)
    return out, config._now


def get_bearer_token_from_headers(headers: Mapping[str, str]) -> str:
    """The bearer token of `headers["authorization"]`; raises MCPAuthBearerAuthException."""
    try:
        return _core.parse_authorization(headers.get("authorization"))
    except _core.CoreError as e:
        raise from_core(e) from None


def _resource_metadata(resource: Optional[str]) -> Optional[str]:
    if not resource:
        return None
    try:
        return _core.resource_metadata_url(resource)
    except _core.CoreError:
        return None


def _plain(value: Any) -> Any:
    """A mapping as a dict (the core reads dicts, lists and tuples); anything else as it is."""
    if isinstance(value, Mapping) and not isinstance(value, dict):
        return dict(value)
    return value


def _operations(config: BearerAuthConfig) -> Optional[Dict[str, Any]]:
    ops = {name: _plain(getattr(config, name)) for name in OPERATION_OPTIONS if getattr(config, name) is not None}
    return ops or None


def _policy(config: BearerAuthConfig, issuers: Optional[List[str]]) -> Any:
    try:
        return _core.Policy(
            issuers,
            config.audience,
            list(config.required_scopes or []),
            _resource_metadata(config.resource),
            config.show_error_details,
            _operations(config),
            audience_from_resource=config._audience_from_resource,
        )
    except _core.CoreError as e:
        raise from_core(e) from None
    except TypeError as e:  # a value that is not JSON (a set, an object)
        raise MCPAuthConfigException("invalid_operation_rules", f"per-operation rules: {e}") from None


def _handle_error(error: Exception, show_error_details: bool = False, resource: Optional[str] = None) -> Response:
    """The HTTP answer to an mcpauth exception (others are re-raised)."""
    if not isinstance(error, MCPAuthException):
        raise error
    policy = _core.Policy(None, None, [], _resource_metadata(resource), show_error_details)
    f = policy.respond(*to_core(error))
    headers = {"www-authenticate": f.www_authenticate} if f.www_authenticate else None
    return Response(f.body, status_code=f.status, headers=headers, media_type="application/json")


def _authorization(scope: Scope) -> Optional[bytes]:
    found: Optional[bytes] = None
    for k, v in scope.get("headers", ()):
        # The length first: most headers are told apart without lowering their names.
        if len(k) == 13 and k.lower() == b"authorization":
            # Several Authorization fields make one malformed value, as RFC 9110 §5.3 combines them.
            found = v if found is None else found + b", " + v
    return found


# The request headers the core classifies a body with, by their place in the request tuple.
_REQUEST_HEADERS = {
    b"content-type": 1,
    b"content-length": 2,
    b"mcp-protocol-version": 3,
    b"mcp-method": 4,
    b"mcp-name": 5,
}

_Request = Tuple[str, Optional[str], Optional[str], Optional[str], Optional[str], Optional[str]]


def _request(scope: Scope) -> _Request:
    """(method, content-type, content-length, mcp-protocol-version, mcp-method, mcp-name)."""
    values: List[Optional[str]] = [scope["method"], None, None, None, None, None]
    for k, v in scope.get("headers", ()):
        i = _REQUEST_HEADERS.get(k.lower())
        if i is not None:
            # latin-1, as Starlette decodes headers, so the core sees what the MCP SDK sees.
            s = v.decode("latin-1")
            values[i] = s if values[i] is None else f"{values[i]}, {s}"
    return tuple(values)  # type: ignore[return-value]


def _has_token(header: Optional[bytes]) -> bool:
    try:
        _core.parse_authorization(header.decode("latin-1") if header is not None else None)
        return True
    except _core.CoreError:
        return False


async def _read_body(receive: Receive, limit: int) -> Optional[Tuple[bytes, bool]]:
    """The body, or its first messages once they hold `limit` bytes, and whether more follows;
    None when the client left.

    The core asks for one byte more than it accepts, so a larger body is refused after the
    message that crosses the limit, never read to its end."""
    chunks: List[bytes] = []
    size = 0
    more = limit > 0
    while more and size < limit:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        if chunk:
            chunks.append(chunk)
            size += len(chunk)
        more = bool(message.get("more_body", False))
    return b"".join(chunks), more


def _replay(receive: Receive, body: bytes, more: bool) -> Receive:
    """`receive` that first hands over the bytes already read, then the messages that follow
    (the rest of a body, `http.disconnect`) as they come."""
    pending = True

    async def replayed() -> Any:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replayed


async def _body_for(limit: Optional[int], receive: Receive) -> Tuple[bool, Optional[bytes], Receive]:
    """(client still there, the body the core asked for, the app's `receive`)."""
    if limit is None:
        return True, None, receive
    read = await _read_body(receive, limit)
    if read is None:
        return False, None, receive
    body, more = read
    return True, body, _replay(receive, body, more)


async def _send_failure(scope: Scope, send: Send, f: Any) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(f.body)).encode()),
    ]
    # One line per challenge (RFC 9110 §11.6.1 allows the list in one field, but clients parse
    # separate lines more reliably); the joined value only where the core gave no list.
    challenges = f.challenges or ([f.www_authenticate] if f.www_authenticate else [])
    for c in challenges:
        headers.append((b"www-authenticate", c.encode("latin-1", "replace")))
    for name, value in f.headers:
        headers.append((name.lower().encode("latin-1"), value.encode("latin-1", "replace")))
    await send({"type": "http.response.start", "status": f.status, "headers": headers})
    await send({"type": "http.response.body", "body": f.body})


def _log_failure(f: Any) -> None:
    if f.status >= 500:
        logger.error("Bearer auth failed with a server error: %s", f.reason)
    elif f.code == "missing_auth_header":
        logger.info("Bearer auth: request without credentials (%s).", f.status)
    elif f.kind == "request":
        logger.warning("Bearer auth refused an MCP request it cannot classify (%s): %s", f.status, f.reason)
    else:
        logger.warning("Bearer auth rejected the request (%s): %s", f.status, f.reason)


def _dpop_lines(scope: Scope) -> List[bytes]:
    return [v for k, v in scope.get("headers", ()) if len(k) == 4 and k.lower() == b"dpop"]


def _raw_path(scope: Scope) -> Union[bytes, str]:
    """The request path as the client sent it (still percent-encoded), which a proof's `htu` names."""
    raw = scope.get("raw_path")
    if raw:
        return raw  # type: ignore[no-any-return]
    # ASGI's `path` includes `root_path`; its percent-encoding is lost, which only servers
    # without `raw_path` do to us.
    return scope.get("path", "/")  # type: ignore[no-any-return]


def _with_headers(send: Send, extra: List[Tuple[bytes, bytes]]) -> Send:
    """`send` that adds `extra` (the core's `DPoP-Nonce`) to the response start."""

    async def sending(message: Any) -> None:
        if message["type"] in ("http.response.start", "websocket.accept"):
            message = dict(message)
            message["headers"] = [*message.get("headers", ()), *extra]
        await send(message)

    return sending


async def _call_verifier(verify: Any, token: str) -> Any:
    # By type, not by attribute: a `unittest.mock.Mock` has every attribute.
    if isinstance(verify, JwtVerify):
        return await verify.averify(token)
    if inspect.iscoroutinefunction(verify) or inspect.iscoroutinefunction(type(verify).__call__):
        return await verify(token)
    # A sync verifier may block (a userinfo call, say): keep it off the event loop.
    result = await anyio.to_thread.run_sync(verify, token)
    if inspect.isawaitable(result):
        result = await result
    return result


class _Gate:
    """One route's authentication: the Authorization header (and, with per-operation rules, the
    request's JSON-RPC body) to the caller's AuthInfo or the `_core.Failure` to answer with.

    The bearer middleware and the framework adapters (the MCP SDK's `TokenVerifier`, FastMCP's
    `AuthProvider`, the FastAPI dependency) all decide through one of these, so every door of
    an app answers alike."""

    def __init__(self, verify_access_token: VerifyAccessTokenFunction, config: BearerAuthConfig):
        if not callable(verify_access_token):
            raise TypeError(
                "`verify_access_token` must be a function that takes a token and returns an `AuthInfo` object."
            )
        if isinstance(config.issuer, str):
            parsed = urlparse(config.issuer)
            if not parsed.scheme or not parsed.netloc:
                raise TypeError("`issuer` must be a valid URL.")
        elif not callable(config.issuer):
            raise TypeError("`issuer` must be either a string or a callable.")
        self._verify = verify_access_token
        self._issuer = config.issuer
        from ..auth.token_verifier import _JwtModeVerify

        native = verify_access_token._native_token_verifier if isinstance(verify_access_token, _JwtModeVerify) else None
        self._authenticator: Any = None
        self._policy: Any = None
        # DPoP routes decide through `dpop_request` (the core's `check_request`).
        self.dpop = False
        self._now = config._dpop_now
        # `authenticate_now` of the native authenticator when a request is decided from its
        # header alone: the AuthInfo, the Failure, or None when keys or metadata must be fetched
        # first (then `header`). The middleware calls it without a coroutine in between.
        self.header_now: Any = None
        if native is not None:
            try:
                self._authenticator = _core.Authenticator(native, _policy(config, native.issuers()), config.dpop)
            except _core.CoreError as e:
                raise from_core(e) from None
            except TypeError as e:  # a value that is not JSON
                raise MCPAuthConfigException(INVALID_DPOP_CONFIG, f"DPoP settings: {e}") from None
            self.per_operation: bool = self._authenticator.has_rules()
            self.dpop = self._authenticator.has_dpop()
            if not self.per_operation and not self.dpop:
                self.header_now = self._authenticator.authenticate_now
        elif config.dpop is not None:
            raise MCPAuthConfigException(
                INVALID_DPOP_CONFIG,
                "DPoP needs the 'jwt' or 'introspection' mode: a custom verifier's tokens cannot be "
                "checked against their proofs.",
            )
        else:
            issuer = config.issuer
            self._policy = _policy(config, [issuer] if isinstance(issuer, str) else None)
            self.per_operation = self._policy.has_rules()

    async def header(self, header: Union[bytes, str, None]) -> Union[AuthInfo, Any]:
        """The AuthInfo or Failure for a request judged by its Authorization header alone."""
        a = self._authenticator
        if a is not None:
            r = a.authenticate_now(header)
            if r is None:
                # Key fetches, the only source of notices, happen on this path alone.
                try:
                    r = await _bridge.run(a.authenticate_spawn, header)
                finally:
                    log_notices()
            return r
        try:
            info = await self._custom_info(header)
            self._policy.check(_seen(info))
            return info
        except _core.CoreError as e:
            return self._policy.respond(*e.args)
        except MCPAuthException as e:
            return self._policy.respond(*to_core(e))

    async def request(self, scope: Scope, receive: Receive) -> Tuple[Any, Receive]:
        """The AuthInfo or Failure for an ASGI request, and the `receive` to hand the app;
        None as the outcome when the client left while its body was being read."""
        header = _authorization(scope)
        if not self.per_operation or scope["type"] != "http":
            return await self.header(header), receive
        request = _request(scope)
        a = self._authenticator
        if a is not None:
            limit = a.body_limit(request[0], request[2])
            if limit is not None and not _has_token(header):
                # No credentials: answered from the header alone, before a byte of the body is read.
                return a.authenticate_request_now(header, request), receive
            present, body, receive = await _body_for(limit, receive)
            if not present:
                return None, receive
            r = a.authenticate_request_now(header, request, body)
            if r is None:
                try:
                    r = await _bridge.run(a.authenticate_request_spawn, header, request, body)
                finally:
                    log_notices()
            return r, receive
        policy = self._policy
        try:
            info = await self._custom_info(header)
            present, body, receive = await _body_for(policy.body_limit(request[0], request[2]), receive)
            if not present:
                return None, receive
            failure = policy.decide(_seen(info), request, body)
            return (info if failure is None else failure), receive
        except _core.CoreError as e:
            return policy.respond(*e.args), receive
        except MCPAuthException as e:
            return policy.respond(*to_core(e)), receive

    async def dpop_request(self, scope: Scope, receive: Receive) -> Tuple[Any, Receive]:
        """For a DPoP route: `(AuthInfo, headers to add)` or the Failure, and the `receive` to
        hand the app; None as the outcome when the client left while its body was being read."""
        a = self._authenticator
        header = _authorization(scope)
        proofs = _dpop_lines(scope)
        path = _raw_path(scope)
        if scope["type"] == "http":
            request = _request(scope)
        else:  # a WebSocket handshake is a GET
            request = ("GET", None, None, None, None, None)
        body = None
        if self.per_operation and scope["type"] == "http":
            limit = a.body_limit(request[0], request[2])
            if limit is not None and header is not None:
                present, body, receive = await _body_for(limit, receive)
                if not present:
                    return None, receive
        r = a.check_request_now(header, proofs, path, request, body, self._now)
        if r is None:  # keys or metadata to fetch, or the Redis replay store to ask
            try:
                r = await _bridge.run(a.check_request_spawn, header, proofs, path, request, body, self._now)
            finally:
                log_notices()
        return r, receive

    def dpop_metadata(self, fields: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The PRM fields with this route's DPoP members; None for a route without DPoP."""
        return self._authenticator.dpop_metadata(fields) if self.dpop else None

    async def _custom_info(self, header: Union[bytes, str, None]) -> AuthInfo:
        """A custom verifier's AuthInfo, issuer checked; raises for a refused token."""
        if isinstance(header, bytes):
            header = header.decode("latin-1")
        token = _core.parse_authorization(header)
        info = await _call_verifier(self._verify, token)
        if isinstance(info, dict):
            info = AuthInfo(**info)
        if not isinstance(info, AuthInfo):
            raise TypeError(f"the verifier returned {type(info).__name__}, not an AuthInfo")
        if callable(self._issuer):
            self._issuer(info.issuer)
        return info


def _seen(info: AuthInfo) -> Dict[str, Any]:
    # Only what the policy looks at: claims may hold anything a verifier put there.
    return {"issuer": info.issuer, "audience": info.audience, "scopes": list(info.scopes)}


def create_bearer_auth(
    verify_access_token: VerifyAccessTokenFunction,
    config: BearerAuthConfig,
    context_var: "ContextVar[Optional[AuthInfo]]",
    scope_key: Optional[str] = None,
) -> type:
    """A pure ASGI middleware class (use as `Middleware(cls)`) protecting the wrapped app."""
    gate = _Gate(verify_access_token, config)
    key = scope_key or new_scope_key()
    resource = config.resource

    class BearerAuthMiddleware:
        # The route's decisions, for the PRM document of a DPoP route.
        _gate = gate

        def __init__(self, app: ASGIApp, *args: Any, **kwargs: Any) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] not in ("http", "websocket"):
                await self.app(scope, receive, send)
                return
            header_now = gate.header_now
            if header_now is not None:
                header = _authorization(scope)
                info = header_now(header)
                if info is None:  # keys or metadata to fetch first
                    info = await gate.header(header)
            elif gate.dpop:
                info, receive = await gate.dpop_request(scope, receive)
                if info is None:
                    return
                if not isinstance(info, _core.Failure):
                    info, extra = info
                    if extra:
                        send = _with_headers(send, extra)
            else:
                info, receive = await gate.request(scope, receive)
                if info is None:  # the client left while its body was being read
                    return
            if isinstance(info, _core.Failure):
                _log_failure(info)
                await _send_failure(scope, send, info)
                return
            user = publish(scope, key, info, resource)
            reset = context_var.set(info)
            sdk_reset = sdk_auth_var.set(user) if sdk_auth_var is not None else None
            try:
                await self.app(scope, receive, send)
            finally:
                try:
                    if sdk_reset is not None:
                        sdk_auth_var.reset(sdk_reset)
                    context_var.reset(reset)
                except ValueError:  # the app switched contexts; the values die with the task
                    pass

    return BearerAuthMiddleware


__all__ = [
    "BearerAuthConfig",
    "DpopConfig",
    "BearerAuthExceptionCode",
    "get_bearer_token_from_headers",
    "create_bearer_auth",
    "_handle_error",
]
