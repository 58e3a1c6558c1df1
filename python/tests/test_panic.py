"""A panic inside the native core never crosses into Python: it becomes an exception, the
request gets a 500, and the process keeps serving.

The core panics on purpose when it verifies exactly the token named by MCP_AUTH_TEST_PANIC,
read once per process, so the server runs in a child process started with that variable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Iterator, Tuple

import httpx
import jwt
import pytest
from conftest import VECTORS

V = json.loads((VECTORS / "tokens.json").read_text())
RESOURCE = V["resource"]

CHILD = r"""
import json, socket, sys
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from mcpauth import MCPAuth
from mcpauth.config import AuthorizationServerMetadata, AuthServerConfig, AuthServerType
from mcpauth.types import ResourceServerConfig, ResourceServerMetadata
from mcpauth.utils import create_verify_jwt

v = json.loads(open(sys.argv[1]).read())
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
url = f"http://127.0.0.1:{sock.getsockname()[1]}"
metadata = dict(v["metadata"], jwks_uri=f"{url}/jwks")
mcp_auth = MCPAuth(protected_resources=ResourceServerConfig(metadata=ResourceServerMetadata(
    resource=v["resource"],
    authorization_servers=[AuthServerConfig(metadata=AuthorizationServerMetadata(**metadata), type=AuthServerType.OIDC)],
)))
bearer = mcp_auth.bearer_auth_middleware("jwt", resource=v["resource"], audience=v["resource"])
direct = create_verify_jwt(v["jwks"])

async def whoami(request):
    return JSONResponse({"subject": mcp_auth.auth_info.subject})

async def verify_directly(request):
    token = (await request.body()).decode()
    try:
        info = direct(token)
        return JSONResponse({"subject": info.subject})
    except Exception as e:
        return JSONResponse({"raised": type(e).__name__, "code": getattr(e, "code", None), "message": str(e)})

app = Starlette(routes=[
    Route("/jwks", lambda r: JSONResponse(v["jwks"])),
    Route("/direct", verify_directly, methods=["POST"]),
    Mount("/mcp", routes=[Route("/", whoami)], middleware=[Middleware(bearer)]),
])
server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
print(json.dumps({"url": url}), flush=True)
server.run(sockets=[sock])
"""


def mint(sub: str) -> str:
    now = int(time.time())
    claims = {"iss": V["issuer"], "sub": sub, "aud": RESOURCE, "scope": "read", "iat": now, "exp": now + 3600}
    return jwt.encode(claims, (VECTORS / "keys" / "rsa1.pem").read_bytes(), algorithm="RS256", headers={"kid": "rsa-1"})


@pytest.fixture(scope="module")
def child() -> Iterator[Tuple[str, str, str]]:
    doomed, fine = mint("doomed"), mint("fine")
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(VECTORS / "tokens.json")],
        env={**os.environ, "MCP_AUTH_TEST_PANIC": doomed},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        url = json.loads(line)["url"]
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/jwks", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the child server did not start"
                time.sleep(0.05)
        yield url, doomed, fine
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_panic_token_is_a_valid_token_elsewhere() -> None:
    # Without the hook this token verifies, so a 500 below can only come from the panic.
    from mcpauth.utils import create_verify_jwt

    assert create_verify_jwt(V["jwks"])(mint("doomed")).subject == "doomed"


def test_a_panic_in_the_middleware_is_a_500_and_the_process_keeps_serving(child: Tuple[str, str, str]) -> None:
    url, doomed, fine = child
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(3):
            r = client.get("/mcp/", headers={"Authorization": f"Bearer {doomed}"})
            assert r.status_code == 500, r.text
            assert r.json() == {
                "error": "server_error",
                "error_description": "An error occurred with the authorization server.",
            }
            assert "www-authenticate" not in r.headers
            r = client.get("/mcp/", headers={"Authorization": f"Bearer {fine}"})
            assert r.status_code == 200, r.text
            assert r.json() == {"subject": "fine"}


def test_a_panic_in_a_verify_function_is_an_exception(child: Tuple[str, str, str]) -> None:
    url, doomed, fine = child
    with httpx.Client(base_url=url, timeout=30) as client:
        r = client.post("/direct", content=doomed)
        assert r.status_code == 200
        got = r.json()
        assert got["raised"] == "MCPAuthConfigException", got
        assert got["code"] == "internal_error"
        assert client.post("/direct", content=fine).json() == {"subject": "fine"}
