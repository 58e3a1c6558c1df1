"""What the Python contenders share: the fixtures' authorization server as an mcpauth config.

The same code runs on either mcpauth package (this repository's or upstream 0.2.0b1).
"""

from mcpauth.config import AuthorizationServerMetadata, AuthServerConfig, AuthServerType


def server_config(fix, jwks_uri):
    """The fixtures' issuer, its keys at `jwks_uri` (metadata that meets the MCP requirements)."""
    iss = fix["issuer"]
    metadata = AuthorizationServerMetadata(
        issuer=iss,
        authorization_endpoint=iss + "/authorize",
        token_endpoint=iss + "/token",
        response_types_supported=["code"],
        grant_types_supported=["authorization_code"],
        code_challenge_methods_supported=["S256"],
        jwks_uri=jwks_uri,
    )
    return AuthServerConfig(metadata=metadata, type=AuthServerType.OIDC)


def jwt_mode_verifier(fix, jwks_uri):
    """The verify function of the 'jwt' mode (what the bearer middleware runs per request)."""
    from mcpauth.auth.token_verifier import TokenVerifier

    return TokenVerifier([server_config(fix, jwks_uri)]).create_verify_jwt_function(leeway=60)
