# Snippets of the "configure MCP Auth" and "bearer auth" pages, as written; only URLs are local
# (AUTH_ISSUER, METADATA_URL injected by the test).
from mcpauth.config import AuthServerType
from mcpauth.utils import fetch_server_config

mcp_auth_config = fetch_server_config(AUTH_ISSUER, AuthServerType.OIDC)  # noqa: F821

mcp_auth_config = fetch_server_config(
    AUTH_ISSUER,  # noqa: F821
    type=AuthServerType.OIDC,
    transpile_data=lambda data: {**data, 'response_types_supported': ['code']}
)

from mcpauth.utils import fetch_server_config_by_well_known_url

mcp_auth_config = fetch_server_config_by_well_known_url(
    METADATA_URL,  # noqa: F821
    type=AuthServerType.OIDC
)

from mcpauth.config import fetch_server_config_by_well_known_url

mcp_auth_config = fetch_server_config_by_well_known_url(
    METADATA_URL,  # noqa: F821
    type=AuthServerType.OIDC,
    transpile_data=lambda data: {**data, 'response_types_supported': ['code']}
)

from mcpauth.config import AuthServerConfig, AuthServerType, AuthorizationServerMetadata

mcp_auth_config = AuthServerConfig(
    type=AuthServerType.OIDC,
    metadata=AuthorizationServerMetadata(
        issuer=AUTH_ISSUER,  # noqa: F821
        authorization_endpoint=f"{AUTH_ISSUER}/authorize",  # noqa: F821
        token_endpoint=f"{AUTH_ISSUER}/token",  # noqa: F821
        jwks_uri=f"{AUTH_ISSUER}/jwks",  # noqa: F821
        response_types_supported=["code"],
        code_challenge_methods_supported=["S256"],
        registration_endpoint=f"{AUTH_ISSUER}/register",  # noqa: F821
    ),
)

from mcpauth import MCPAuth
from mcpauth.config import ResourceServerConfig, ResourceServerMetadata

resource_id = "https://api.example.com/notes"
mcp_auth = MCPAuth(
    protected_resources=ResourceServerConfig(
        metadata=ResourceServerMetadata(
            resource=resource_id,
            authorization_servers=[mcp_auth_config],
            scopes_supported=["read:notes", "write:notes"],
        )
    )
)

bearer_auth = mcp_auth.bearer_auth_middleware("jwt", resource=resource_id, audience=resource_id, required_scopes=["read", "write"], leeway=10)

from mcpauth.exceptions import MCPAuthJwtVerificationException, MCPAuthJwtVerificationExceptionCode
from mcpauth.types import AuthInfo

async def custom_verification(token: str) -> AuthInfo:
    # Implement your custom token verification logic here
    info = await verify_token(token)  # noqa: F821
    if not info:
        raise MCPAuthJwtVerificationException(
            MCPAuthJwtVerificationExceptionCode.JWT_VERIFICATION_FAILED
        )
    return info  # Return the auth info object

bearer_auth_custom = mcp_auth.bearer_auth_middleware(
    custom_verification,
    resource=resource_id,
    audience=resource_id,
    required_scopes=["read", "write"]
)
