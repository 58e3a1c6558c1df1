"""The bearer-token middleware: a pure ASGI middleware, so streamed responses pass untouched.

`jwt` mode runs header parsing, verification, issuer/audience/scope policy and the failure
answer in one native call with the GIL released; keys and metadata that are not cached yet
are fetched by the core without blocking the event loop. Custom verifiers may be sync (run in
a worker thread) or async; their AuthInfo gets the same policy checks. Only failures of the
authentication itself are answered here: whatever the wrapped app raises propagates.
"""

from __future__ import annotations

import inspect
import logging
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, List, Mapping, Optional, Union
from urllib.parse import urlparse

import anyio.to_thread
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import _bridge, _core
from .._context import new_scope_key, publish, sdk_auth_var
from .._errors import from_core, to_core
from ..exceptions import BearerAuthExceptionCode, MCPAuthException
from ..types import AuthInfo, VerifyAccessTokenFunction, _auth_info_from_core
from ..utils._create_verify_jwt import JwtVerify, log_notices

logger = logging.getLogger("mcpauth")


class BearerAuthConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    issuer: Union[str, Callable[[str], None]]
    audience: Optional[str] = None
    required_scopes: Optional[List[str]] = None
    resource: Optional[str] = None
    show_error_details: bool = False


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


def _policy(config: BearerAuthConfig, issuers: Optional[List[str]], audience_from_resource: bool = False) -> Any:
    return _core.Policy(
        issuers,
        config.audience,
        list(config.required_scopes or []),
        _resource_metadata(config.resource),
        config.show_error_details,
        audience_from_resource,
    )


def _handle_error(error: Exception, show_error_details: bool = False, resource: Optional[str] = None) -> Response:
    """The HTTP answer to an mcpauth exception (others are re-raised)."""
    if not isinstance(error, MCPAuthException):
        raise error
    policy = _core.Policy(None, None, [], _resource_metadata(resource), show_error_details)
    f = policy.respond(*to_core(error))
    headers = {"www-authenticate": f.www_authenticate} if f.www_authenticate else None
    return Response(f.body, status_code=f.status, headers=headers, media_type="application/json")


def _authorization(scope: Scope) -> Optional[bytes]:
    values = [v for k, v in scope.get("headers", ()) if k.lower() == b"authorization"]
    if not values:
        return None
    # Several Authorization fields make one malformed value, as RFC 9110 §5.3 combines them.
    return values[0] if len(values) == 1 else b", ".join(values)


async def _send_failure(scope: Scope, send: Send, f: Any) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(f.body)).encode()),
    ]
    if f.www_authenticate:
        headers.append((b"www-authenticate", f.www_authenticate.encode("latin-1", "replace")))
    await send({"type": "http.response.start", "status": f.status, "headers": headers})
    await send({"type": "http.response.body", "body": f.body})


def _log_failure(f: Any) -> None:
    if f.status >= 500:
        logger.error("Bearer auth failed with a server error: %s", f.reason)
    elif f.code == "missing_auth_header":
        logger.info("Bearer auth: request without credentials (%s).", f.status)
    else:
        logger.warning("Bearer auth rejected the request (%s): %s", f.status, f.reason)


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


def create_bearer_auth(
    verify_access_token: VerifyAccessTokenFunction,
    config: BearerAuthConfig,
    context_var: "ContextVar[Optional[AuthInfo]]",
    scope_key: Optional[str] = None,
    audience_from_resource: bool = False,
) -> type:
    """A pure ASGI middleware class (use as `Middleware(cls)`) protecting the wrapped app.

    `audience_from_resource`: `config.audience` is the resource identifier, taken because no
    audience was configured; refusals then say which audience was expected.
    """
    if not callable(verify_access_token):
        raise TypeError("`verify_access_token` must be a function that takes a token and returns an `AuthInfo` object.")
    if isinstance(config.issuer, str):
        parsed = urlparse(config.issuer)
        if not parsed.scheme or not parsed.netloc:
            raise TypeError("`issuer` must be a valid URL.")
    elif not callable(config.issuer):
        raise TypeError("`issuer` must be either a string or a callable.")

    key = scope_key or new_scope_key()
    resource = config.resource
    from ..auth.token_verifier import _JwtModeVerify

    authenticate: Callable[[Optional[bytes]], Awaitable[Any]]
    if isinstance(verify_access_token, _JwtModeVerify):
        native_verifier = verify_access_token._native_token_verifier
        authenticator = _core.Authenticator(
            native_verifier, _policy(config, native_verifier.issuers(), audience_from_resource)
        )

        async def authenticate(header: Optional[bytes]) -> Any:
            r = authenticator.authenticate_now(header)
            if r is None:
                r = await _bridge.run(authenticator.authenticate_spawn, header)
            return r

    else:
        issuer = config.issuer
        policy = _policy(config, [issuer] if isinstance(issuer, str) else None, audience_from_resource)

        async def authenticate(header: Optional[bytes]) -> Any:
            try:
                token = _core.parse_authorization(header.decode("latin-1") if header is not None else None)
                info = await _call_verifier(verify_access_token, token)
                if isinstance(info, dict):
                    info = AuthInfo(**info)
                if not isinstance(info, AuthInfo):
                    raise TypeError(f"the verifier returned {type(info).__name__}, not an AuthInfo")
                if callable(issuer):
                    issuer(info.issuer)
                # Only what the policy looks at: claims may hold anything a verifier put there.
                policy.check({"issuer": info.issuer, "audience": info.audience, "scopes": list(info.scopes)})
                return info
            except _core.CoreError as e:
                return policy.respond(*e.args)
            except MCPAuthException as e:
                return policy.respond(*to_core(e))

    class BearerAuthMiddleware:
        def __init__(self, app: ASGIApp, *args: Any, **kwargs: Any) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] not in ("http", "websocket"):
                await self.app(scope, receive, send)
                return
            result = await authenticate(_authorization(scope))
            log_notices()
            if isinstance(result, _core.Failure):
                _log_failure(result)
                await _send_failure(scope, send, result)
                return
            info = result if isinstance(result, AuthInfo) else _auth_info_from_core(result)
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
    "BearerAuthExceptionCode",
    "get_bearer_token_from_headers",
    "create_bearer_auth",
    "_handle_error",
]
