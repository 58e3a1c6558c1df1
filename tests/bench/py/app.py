"""The protected Starlette app under load: the same code runs on either mcpauth package.

GET /mcp answers {"sub": ...} from the auth info the bearer middleware set. One uvicorn worker
(httptools, asyncio loop), no access log.

Usage: app.py FIXTURES_JSON AS_PORT PORT
              [resolved|discovery|introspection|introspection-cached|endpoint|operations|plain|dpop|dpop-redis]

`plain` is the control without any auth: the same route and answer, no middleware (what the
bearer middleware costs is the difference).

The introspection modes check every token at the bench authorization server (RFC 7662): with this
repository's package through its 'introspection' mode (optionally caching answers); with upstream
0.2.0b1, which has no such mode, through the custom verify function its users write for it.

`endpoint` and `operations` serve POST /mcp (the handler reads the body and answers its length):
`endpoint` guards it with the endpoint rule only, `operations` adds 20 per-tool rules, so every
request's body is classified and decided in core before the handler runs.

`dpop` and `dpop-redis` guard GET /mcp in DPoP 'allowed' mode, so Bearer and DPoP requests meet
the same app; proofs are signed ahead of a run (dpop_proofs.py), hence the hour-long `iat`
window. `dpop-redis` records proofs in the Redis at BENCH_REDIS_URL instead of in process.
"""

import json
import os
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


async def post_whoami(request):
    body = await request.body()
    return JSONResponse({"sub": mcp_auth.auth_info.subject, "n": len(body)})


TOOL_RULES = {f"tool-{i}": ["read"] for i in range(20)}


def bearer_auth():
    if MODE.startswith("dpop"):
        store = os.environ["BENCH_REDIS_URL"] if MODE == "dpop-redis" else "memory"
        return mcp_auth.bearer_auth_middleware("jwt", resource=AUD, audience=AUD,
                                               dpop={"mode": "allowed", "iat_window": 3600, "replay_store": store})
    if MODE == "operations":
        return mcp_auth.bearer_auth_middleware("jwt", resource=AUD, audience=AUD, tool_scopes=TOOL_RULES)
    if not MODE.startswith("introspection"):
        return mcp_auth.bearer_auth_middleware("jwt", resource=AUD, audience=AUD)
    endpoint = f"http://127.0.0.1:{AS_PORT}/introspect"
    try:
        from mcpauth.config import IntrospectionConfig
    except ImportError:  # upstream 0.2.0b1
        return mcp_auth.bearer_auth_middleware(upstream_introspection(endpoint), resource=AUD, audience=AUD)
    config = IntrospectionConfig(client_id="bench", client_secret="bench-secret", endpoint=endpoint,
                                 cache_ttl=60 if MODE == "introspection-cached" else None)
    return mcp_auth.bearer_auth_middleware("introspection", resource=AUD, audience=AUD, introspection=config)


def upstream_introspection(endpoint):
    """RFC 7662 as a custom verify function on upstream mcpauth (sync, as its middleware calls it)."""
    import requests
    from mcpauth.exceptions import MCPAuthTokenVerificationExceptionCode, MCPAuthTokenVerificationException
    from mcpauth.types import AuthInfo

    session = requests.Session()

    def verify(token):
        answer = session.post(endpoint, data={"token": token, "token_type_hint": "access_token"},
                              auth=("bench", "bench-secret"), timeout=5).json()
        if answer.get("active") is not True:
            raise MCPAuthTokenVerificationException(MCPAuthTokenVerificationExceptionCode.INVALID_TOKEN)
        return AuthInfo(token=token, issuer=answer["iss"], client_id=answer.get("client_id"),
                        scopes=answer.get("scope", "").split(), subject=answer.get("sub"),
                        audience=answer.get("aud"), claims=answer)

    return verify


async def plain_whoami(request):
    return JSONResponse({"sub": "user-1"})


if MODE == "plain":
    app = Starlette(routes=[Route("/mcp", plain_whoami)])
elif MODE in ("endpoint", "operations"):
    app = Starlette(routes=[Route("/mcp", post_whoami, methods=["POST"])], middleware=[Middleware(bearer_auth())])
else:
    app = Starlette(routes=[Route("/mcp", whoami)], middleware=[Middleware(bearer_auth())])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning", access_log=False, http="httptools",
                loop="asyncio", lifespan="off")
