# The README's Python examples for opaque tokens, RFC 9068 access tokens and untyped discovery,
# as written; only the issuer URL is the local one (AUTH_ISSUER is injected by the test).
import os

from mcpauth import MCPAuth
from mcpauth.config import IntrospectionConfig, ResourceServerConfig, ResourceServerMetadata
from mcpauth.utils import create_verify_jwt, fetch_server_config
from starlette.middleware import Middleware

# No type: tries OAuth (path-inserted), then OpenID Connect (path-inserted, then appended),
# as MCP 2025-11-25 clients do; `type` says which one answered.
auth_server_config = fetch_server_config(AUTH_ISSUER)  # noqa: F821
print(auth_server_config.type)  # AuthServerType.OAUTH

resource_id = "https://api.example.com/notes"
mcp_auth = MCPAuth(
    protected_resources=ResourceServerConfig(
        metadata=ResourceServerMetadata(
            resource=resource_id,
            authorization_servers=[auth_server_config],
            scopes_supported=["read:notes"],
        )
    )
)

# Opaque tokens: ask the authorization server (RFC 7662) as a confidential client. The endpoint
# is the metadata's `introspection_endpoint` unless `endpoint=` is given.
bearer_auth_introspection = Middleware(mcp_auth.bearer_auth_middleware(
    "introspection",
    resource=resource_id,
    audience=resource_id,
    required_scopes=["read:notes"],
    introspection=IntrospectionConfig(
        client_id="mcp-server",
        client_secret=os.environ["INTROSPECTION_CLIENT_SECRET"],
        auth_method="client_secret_basic",  # or "client_secret_post"
        cache_ttl=30,  # seconds; off by default, never past the token's `exp`
    ),
))

# JWTs: accept only RFC 9068 access tokens (header `typ: at+jwt`), so an ID token of the same
# issuer cannot be used as an access token.
bearer_auth_jwt = Middleware(mcp_auth.bearer_auth_middleware(
    "jwt",
    resource=resource_id,
    audience=resource_id,
    required_scopes=["read:notes"],
    require_at_jwt=True,
))
verify = create_verify_jwt(auth_server_config.metadata.jwks_uri, require_at_jwt=True)
