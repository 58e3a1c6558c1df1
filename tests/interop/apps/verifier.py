"""A Starlette app protected by mcpauth, one route per configuration; each answers the auth info
the request carried. Configured by the JSON in INTEROP_APP (see ../conftest.py):

    {"port": 0, "resource": "...", "issuer": "...", "type": "oidc" | null,
     "routes": {"/jwt": {"mode": "jwt" | "introspection", "audience": "..." | null,
                         "required_scopes": [...] | null, "require_at_jwt": false,
                         "tool_scopes": {"tool": [...]} | null,
                         "dpop": {"mode": "required" | "allowed"} | null,
                         "introspection": {"client_id": ..., "client_secret": ..., "endpoint": ...}}}}

The authorization server is discovered on first use (`type` null: untyped discovery).
"""

import json
import os

import uvicorn
from mcpauth import MCPAuth
from mcpauth.config import AuthServerDiscoveryConfig, AuthServerType, IntrospectionConfig
from mcpauth.types import ResourceServerConfig, ResourceServerMetadata
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

config = json.loads(os.environ["INTEROP_APP"])
resource = config["resource"]
server_type = AuthServerType(config["type"]) if config["type"] else None
mcp_auth = MCPAuth(
    protected_resources=ResourceServerConfig(
        metadata=ResourceServerMetadata(
            resource=resource,
            authorization_servers=[AuthServerDiscoveryConfig(issuer=config["issuer"], type=server_type)],
        )
    )
)


async def auth_info(request: Request) -> JSONResponse:
    info = mcp_auth.auth_info
    assert info is not None
    # jkt is derived from the claims (cnf.jkt), not a field of the model.
    return JSONResponse({**info.model_dump(), "jkt": info.jkt})


def protect(route: dict) -> Middleware:
    introspection = route.get("introspection")
    return Middleware(
        mcp_auth.bearer_auth_middleware(
            route["mode"],
            resource=resource,
            audience=route.get("audience"),
            required_scopes=route.get("required_scopes"),
            require_at_jwt=route.get("require_at_jwt", False),
            introspection=IntrospectionConfig(**introspection) if introspection else None,
            tool_scopes=route.get("tool_scopes"),
            dpop=route.get("dpop"),
            # The tests read why a token was refused.
            show_error_details=True,
        )
    )


app = Starlette(
    routes=[Route("/health", lambda request: JSONResponse({}))]
    + [
        Route(path, auth_info, methods=["GET", "POST"], middleware=[protect(route)])
        for path, route in config["routes"].items()
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=config["port"], log_level="warning", access_log=False)
