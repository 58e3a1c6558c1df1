"""The protected Starlette app under load: the same code runs on either mcpauth package.

GET /mcp answers {"sub": ...} from the auth info the bearer middleware set. One uvicorn worker
(httptools, asyncio loop), no access log.

Usage: app.py FIXTURES_JSON AS_PORT PORT [resolved|discovery]
"""

import json
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route

from common import server_config
from mcpauth import MCPAuth
from mcpauth.config import AuthServerType
from mcpauth.types import ResourceServerConfig, ResourceServerMetadata

FIX = json.loads(open(sys.argv[1]).read())
AS_PORT, PORT = int(sys.argv[2]), int(sys.argv[3])
MODE = sys.argv[4] if len(sys.argv) > 4 else "resolved"
AUD = FIX["audience"]

if MODE == "discovery":
    from mcpauth.config import AuthServerDiscoveryConfig

    server = AuthServerDiscoveryConfig(issuer=f"http://127.0.0.1:{AS_PORT}", type=AuthServerType.OIDC)
else:
    server = server_config(FIX, f"http://127.0.0.1:{AS_PORT}/jwks")

mcp_auth = MCPAuth(protected_resources=ResourceServerConfig(
    metadata=ResourceServerMetadata(resource=AUD, authorization_servers=[server], scopes_supported=["read"])))


async def whoami(request):
    return JSONResponse({"sub": mcp_auth.auth_info.subject})


app = Starlette(routes=[Route("/mcp", whoami)],
                middleware=[Middleware(mcp_auth.bearer_auth_middleware("jwt", resource=AUD, audience=AUD))])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning", access_log=False, http="httptools",
                loop="asyncio", lifespan="off")
