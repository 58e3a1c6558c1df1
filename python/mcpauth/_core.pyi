"""Native core of mcpauth (Rust). Conversions only; see the pure-Python API for docs."""

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union, final

from typing_extensions import Self, TypeAlias

from .types import AuthInfo

__all__ = [
    "__version__",
    "Authenticator",
    "CoreError",
    "Failure",
    "IntrospectionVerifier",
    "JwtVerifier",
    "Policy",
    "TokenVerifier",
    "check_provider",
    "clear_caches",
    "fetch_server_config",
    "fetch_server_config_spawn",
    "format_challenge",
    "discover_spawn",
    "jwks_fetch_count",
    "parse_authorization",
    "parse_metadata",
    "protected_resource_metadata",
    "resource_metadata_path",
    "resource_metadata_url",
    "route_audience",
    "take_notices",
    "validate_resources",
    "validate_server_config",
    "well_known_url",
]

__version__: str

_Done: TypeAlias = Callable[[bool, Any], None]
_ServerSpec: TypeAlias = Tuple[str, Optional[Dict[str, Any]], Optional[str]]
# (method, content-type, content-length, mcp-protocol-version, mcp-method, mcp-name)
_Request: TypeAlias = Tuple[str, Optional[str], Optional[str], Optional[str], Optional[str], Optional[str]]

# An accepted request: its AuthInfo and the (name, value) headers to add to the answer.
_Accepted: TypeAlias = Tuple[AuthInfo, List[Tuple[bytes, bytes]]]

class CoreError(Exception):
    """args: (kind, code, message, details_json | None)."""

@final
class Failure:
    @property
    def status(self) -> int: ...
    @property
    def body(self) -> bytes: ...
    @property
    def www_authenticate(self) -> Optional[str]: ...
    @property
    def challenges(self) -> List[str]: ...
    @property
    def headers(self) -> List[Tuple[str, str]]: ...
    @property
    def kind(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def reason(self) -> str: ...

@final
class TokenVerifier:
    def __new__(
        cls,
        servers: Sequence[_ServerSpec],
        leeway: float = 60.0,
        algorithms: Optional[List[str]] = None,
        check_issuer: bool = True,
        require_at_jwt: bool = False,
    ) -> Self: ...
    def issuers(self) -> List[str]: ...
    def check_issuer(self, issuer: str) -> None: ...
    def verify_now(self, token: str) -> Optional[AuthInfo]: ...
    def verify_blocking(self, token: str) -> AuthInfo: ...
    def verify_spawn(self, token: str, done: _Done) -> None: ...

@final
class JwtVerifier:
    def __new__(
        cls,
        source: Union[str, bytes, Dict[str, Any]],
        leeway: float = 60.0,
        algorithms: Optional[List[str]] = None,
        headers: Optional[List[Tuple[str, str]]] = None,
        require_at_jwt: bool = False,
    ) -> Self: ...
    def verify_now(self, token: str) -> Optional[AuthInfo]: ...
    def verify_blocking(self, token: str) -> AuthInfo: ...
    def verify_spawn(self, token: str, done: _Done) -> None: ...

@final
class IntrospectionVerifier:
    def __new__(
        cls,
        servers: Sequence[_ServerSpec],
        client_id: str,
        client_secret: str,
        endpoint: Optional[str] = None,
        auth_method: str = "client_secret_basic",
        cache_ttl: Optional[float] = None,
        timeout: float = 5.0,
        leeway: float = 60.0,
        headers: Optional[List[Tuple[str, str]]] = None,
    ) -> Self: ...
    def issuers(self) -> List[str]: ...
    def requests_sent(self) -> int: ...
    def verify_now(self, token: str) -> Optional[AuthInfo]: ...
    def verify_blocking(self, token: str) -> AuthInfo: ...
    def verify_spawn(self, token: str, done: _Done) -> None: ...

@final
class Policy:
    def __new__(
        cls,
        issuers: Optional[List[str]] = None,
        audience: Optional[str] = None,
        required_scopes: Optional[List[str]] = None,
        resource_metadata: Optional[str] = None,
        show_error_details: bool = False,
        operations: Union[str, Dict[str, Any], None] = None,
        audience_from_resource: bool = False,
    ) -> Self: ...
    def check(self, info: Dict[str, Any]) -> None: ...
    def has_rules(self) -> bool: ...
    def body_limit(self, method: str, content_length: Optional[str] = None) -> Optional[int]: ...
    def decide(self, info: Dict[str, Any], request: _Request, body: Optional[bytes] = None) -> Optional[Failure]: ...
    def respond(
        self, kind: str, code: str, message: Optional[str] = None, details_json: Optional[str] = None
    ) -> Failure: ...

@final
class Authenticator:
    def __new__(
        cls,
        verifier: Union[TokenVerifier, IntrospectionVerifier],
        policy: Policy,
        dpop: Union[str, Dict[str, Any], None] = None,
    ) -> Self: ...
    def authenticate_now(self, header: Union[bytes, str, None]) -> Union[AuthInfo, Failure, None]: ...
    def authenticate_spawn(self, header: Union[bytes, str, None], done: _Done) -> None: ...
    def has_rules(self) -> bool: ...
    def body_limit(self, method: str, content_length: Optional[str] = None) -> Optional[int]: ...
    def authenticate_request_now(
        self, header: Union[bytes, str, None], request: _Request, body: Optional[bytes] = None
    ) -> Union[AuthInfo, Failure, None]: ...
    def authenticate_request_spawn(
        self, header: Union[bytes, str, None], request: _Request, body: Optional[bytes], done: _Done
    ) -> None: ...
    def respond(
        self, kind: str, code: str, message: Optional[str] = None, details_json: Optional[str] = None
    ) -> Failure: ...
    def has_dpop(self) -> bool: ...
    def dpop_metadata(self, fields: Dict[str, Any]) -> Optional[Dict[str, Any]]: ...
    def dpop_nonce_issued_at(self, nonce: str) -> Optional[int]: ...
    def check_request_now(
        self,
        header: Union[bytes, str, None],
        dpop: Sequence[Union[bytes, str]],
        path: Union[bytes, str],
        request: _Request,
        body: Optional[bytes] = None,
        now: Optional[float] = None,
    ) -> Union[_Accepted, Failure, None]: ...
    def check_request_spawn(
        self,
        header: Union[bytes, str, None],
        dpop: Sequence[Union[bytes, str]],
        path: Union[bytes, str],
        request: _Request,
        body: Optional[bytes],
        now: Optional[float],
        done: _Done,
    ) -> None: ...

def fetch_server_config(
    target: str,
    server_type: Optional[str],
    transpile: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None,
    check_issuer: bool = True,
    by_url: bool = False,
) -> Tuple[Dict[str, Any], str]: ...
def fetch_server_config_spawn(
    target: str,
    server_type: Optional[str],
    transpile: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]],
    check_issuer: bool,
    by_url: bool,
    done: _Done,
) -> None: ...
def discover_spawn(issuer: str, server_type: Optional[str], done: _Done) -> None: ...
def well_known_url(issuer: str, server_type: str) -> str: ...
def parse_metadata(data: Dict[str, Any]) -> Dict[str, Any]: ...
def validate_server_config(data: Dict[str, Any]) -> Dict[str, Any]: ...
def check_provider(target: str, server_type: Optional[str] = None) -> Dict[str, Any]: ...
def resource_metadata_url(resource_id: str) -> str: ...
def resource_metadata_path(resource_id: str) -> str: ...
def protected_resource_metadata(fields: Dict[str, Any], issuers: List[str]) -> Dict[str, Any]: ...
def validate_resources(resources: List[Tuple[str, List[str]]]) -> None: ...
def parse_authorization(header: Optional[str]) -> str: ...
def jwks_fetch_count(uri: str) -> int: ...
def route_audience(
    resource_mode: bool, resource: Optional[str], audience: Optional[str], accept_any_audience: bool
) -> Tuple[Optional[str], bool, Optional[str]]: ...
def take_notices() -> List[str]: ...
def clear_caches() -> None: ...
def format_challenge(params: List[Tuple[str, str]]) -> str: ...
