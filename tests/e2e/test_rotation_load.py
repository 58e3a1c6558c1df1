"""Load during key rotation: concurrent clients through a Python (Starlette) and an Express app,
both protected by the 'jwt' mode, while the authorization server rotates its signing key.

Client-credentials tokens with `resource` come from the real authorization server; a minter
keeps fetching fresh ones, so tokens signed with each new key arrive right after every rotation.
Both apps reach the JWKS through a small counting proxy (their metadata's `jwks_uri` is rewritten
with `transpile_data` / `transpileData`), which is how JWKS fetches are counted.

Checked: no 5xx, no rejection of a valid token (old keys stay published through the grace
period; new ones are fetched on their first token), at most one JWKS fetch per rotation per
app, and bounded memory (RSS before and after). The figures go to target/bench/rotation.json.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness import ROOT, SAMPLES, Cast, free_port

CLIENTS = 12  # concurrent clients, spread over both apps
WARMUP_SECONDS = 2.0
LOAD_SECONDS = 10.0  # with rotations, after the warm-up
ROTATIONS = 3
RSS_GROWTH_LIMIT = 64 * 1024 * 1024  # generous: caches are bounded, nothing should grow with load
CLIENT_ID, CLIENT_SECRET = "todo-service", "todo-service-secret"
REPORT = ROOT / "target" / "bench" / "rotation.json"

PYTHON_APP = r"""
import os, uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from mcpauth import MCPAuth
from mcpauth.config import AuthServerType
from mcpauth.types import ResourceServerConfig, ResourceServerMetadata
from mcpauth.utils import fetch_server_config

issuer, proxy, port = os.environ["ISSUER"], os.environ["JWKS_PROXY"], int(os.environ["PORT"])
resource = f"http://127.0.0.1:{port}/mcp"
config = fetch_server_config(issuer, AuthServerType.OIDC, transpile_data=lambda d: {**d, "jwks_uri": proxy})
mcp_auth = MCPAuth(protected_resources=ResourceServerConfig(metadata=ResourceServerMetadata(
    resource=resource, authorization_servers=[config], scopes_supported=["read:todos"])))
bearer = mcp_auth.bearer_auth_middleware("jwt", resource=resource, audience=resource, required_scopes=["read:todos"])

async def whoami(request):
    info = mcp_auth.auth_info
    return JSONResponse({"subject": info.subject})

app = Starlette(routes=[
    Route("/health", lambda r: JSONResponse({})),
    Route("/mcp", whoami, middleware=[Middleware(bearer)]),
])
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""

NODE_APP = r"""
import express from 'express';
import { MCPAuth, fetchServerConfig } from 'mcp-auth';

const { ISSUER: issuer, JWKS_PROXY: proxy, PORT: port } = process.env;
const resource = `http://127.0.0.1:${port}/mcp`;
const config = await fetchServerConfig(issuer, { type: 'oidc', transpileData: (d) => ({ ...d, jwks_uri: proxy }) });
const mcpAuth = new MCPAuth({
  protectedResources: { metadata: { resource, authorizationServers: [config], scopesSupported: ['read:todos'] } },
  logger: { warn: () => {}, debug: () => {}, info: () => {}, error: () => {} },
});
const app = express();
app.get('/health', (req, res) => res.json({}));
app.get('/mcp', mcpAuth.bearerAuth('jwt', { resource, audience: resource, requiredScopes: ['read:todos'] }),
  (req, res) => res.json({ subject: req.auth.subject }));
app.listen(Number(port), '127.0.0.1');
"""


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def kid_of(token: str) -> str:
    header = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


class CountingProxy:
    """Forwards GET /<app>/jwks to the authorization server's JWKS and counts per app."""

    def __init__(self, jwks_uri: str) -> None:
        self.jwks_uri = jwks_uri
        self.fetches: Counter[str] = Counter()
        self.kids_served: Dict[str, List[List[str]]] = {}

        async def jwks(request: Request) -> Response:
            app = request.path_params["app"]
            self.fetches[app] += 1
            async with httpx.AsyncClient() as client:
                upstream = await client.get(self.jwks_uri)
            keys = [k.get("kid") for k in upstream.json().get("keys", [])]
            self.kids_served.setdefault(app, []).append(keys)
            headers = {k: v for k, v in upstream.headers.items() if k.lower() in ("cache-control",)}
            return Response(upstream.content, upstream.status_code, headers, media_type="application/json")

        self.app = Starlette(routes=[Route("/{app}/jwks", jwks)])


def start_thread_server(app: Any) -> Any:
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "proxy did not start"
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{port}"


def spawn(cast: Cast, name: str, args: List[str], env: Dict[str, str], cwd: Optional[Path] = None) -> Any:
    process = cast._spawn(name, args, env=env, cwd=cwd)
    return process


def wait_ready(process: Any, url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.popen.poll() is None, f"{process.name} exited:\n{process.output()}"
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} did not start:\n{process.output()}")


def test_load_during_key_rotation() -> None:
    with Cast() as cast:
        issuer = cast.authorization_server()
        jwks_uri = httpx.get(f"{issuer}/.well-known/openid-configuration").json()["jwks_uri"]
        proxy = CountingProxy(jwks_uri)
        proxy_server, proxy_thread, proxy_url = start_thread_server(proxy.app)
        try:
            ports = {"python": free_port(), "node": free_port()}
            apps = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
            processes = {
                "python": spawn(
                    cast,
                    "python-app",
                    [sys.executable, "-c", PYTHON_APP],
                    {"ISSUER": issuer, "JWKS_PROXY": f"{proxy_url}/python/jwks", "PORT": str(ports["python"])},
                ),
                "node": spawn(
                    cast,
                    "node-app",
                    ["node", "--input-type=module", "-e", NODE_APP],
                    {"ISSUER": issuer, "JWKS_PROXY": f"{proxy_url}/node/jwks", "PORT": str(ports["node"])},
                    cwd=SAMPLES / "node",
                ),
            }
            for name, process in processes.items():
                wait_ready(process, apps[name])
            report = asyncio.run(load(issuer, apps, {n: p.popen.pid for n, p in processes.items()}, proxy))
        finally:
            proxy_server.should_exit = True
            proxy_thread.join(10)

    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))

    for name in ("python", "node"):
        app = report["apps"][name]
        assert app["served"] > 0, name
        assert app["status"].get("5xx", 0) == 0, (name, app)
        # Every token was minted by the authorization server and is valid: no rejection at all.
        assert app["errors"] == {}, (name, app["errors"])
        # One fetch at start-up (first token), then at most one per rotation.
        assert 1 <= app["jwks_fetches"] <= 1 + ROTATIONS, (name, app["jwks_fetches"])
        assert app["rss_after"] - app["rss_before"] < RSS_GROWTH_LIMIT, (name, app)
        # Tokens signed with every published key were used and accepted.
        assert len(app["kids_accepted"]) == ROTATIONS + 1, (name, app["kids_accepted"])
    assert len(report["rotations"]) == ROTATIONS


async def load(issuer: str, apps: Dict[str, str], pids: Dict[str, int], proxy: CountingProxy) -> Dict[str, Any]:
    auth = httpx.BasicAuth(CLIENT_ID, CLIENT_SECRET)
    limits = httpx.Limits(max_connections=CLIENTS * 2, max_keepalive_connections=CLIENTS * 2)
    tokens: Dict[str, str] = {}
    stats = {name: {"served": 0, "status": Counter(), "errors": Counter(), "kids": Counter()} for name in apps}
    latencies: Dict[str, List[float]] = {name: [] for name in apps}
    rotations: List[Dict[str, Any]] = []
    stop = asyncio.Event()

    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def mint(name: str) -> str:
            r = await client.post(
                f"{issuer}/token",
                auth=auth,
                data={"grant_type": "client_credentials", "scope": "read:todos", "resource": f"{apps[name]}/mcp"},
            )
            r.raise_for_status()
            return str(r.json()["access_token"])

        async def minter() -> None:
            # Fresh tokens all the time, so a token with each new key is in use right after a rotation.
            while not stop.is_set():
                for name in apps:
                    tokens[name] = await mint(name)
                await asyncio.sleep(0.2)

        async def rotator() -> None:
            for _ in range(ROTATIONS):
                await asyncio.sleep(LOAD_SECONDS / (ROTATIONS + 1))
                r = await client.post(f"{issuer}/admin/rotate", data={"alg": "RS256"})
                r.raise_for_status()
                rotations.append({"at_seconds": round(time.monotonic() - started, 2), **r.json()})

        async def user(i: int) -> None:
            name = list(apps)[i % len(apps)]
            s = stats[name]
            while not stop.is_set():
                token = tokens[name]
                t = time.monotonic()
                try:
                    r = await client.get(f"{apps[name]}/mcp", headers={"Authorization": f"Bearer {token}"})
                except httpx.HTTPError as e:
                    s["errors"][f"transport:{type(e).__name__}"] += 1
                    continue
                latencies[name].append(time.monotonic() - t)
                s["status"][f"{r.status_code // 100}xx"] += 1
                if r.status_code == 200:
                    s["served"] += 1
                    s["kids"][kid_of(token)] += 1
                else:
                    try:
                        code = r.json().get("error", "?")
                    except ValueError:
                        code = "?"
                    s["errors"][f"{r.status_code}:{code}"] += 1

        for name in apps:
            tokens[name] = await mint(name)
            # Warm up: the first token loads the key set; then measure the resting memory.
            r = await client.get(f"{apps[name]}/mcp", headers={"Authorization": f"Bearer {tokens[name]}"})
            assert r.status_code == 200, r.text
        # Warm up under full load first, so the resting size of the heaps is what is compared.
        started = time.monotonic()
        background = [asyncio.create_task(minter())]
        users = [asyncio.create_task(user(i)) for i in range(CLIENTS)]
        await asyncio.sleep(WARMUP_SECONDS)
        rss_before = {name: rss(pid) for name, pid in pids.items()}
        rotating = asyncio.create_task(rotator())
        background.append(rotating)
        await asyncio.sleep(LOAD_SECONDS)
        # On a busy machine the last rotation's tokens may reach an app only after the planned
        # window: the load goes on (bounded) until every app has served every key, or gave up.
        await asyncio.wait_for(rotating, 60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(len(s["kids"]) < ROTATIONS + 1 for s in stats.values()):
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*users, *background)
        elapsed = time.monotonic() - started
        rss_after = {name: rss(pid) for name, pid in pids.items()}

    def pct(values: List[float], p: float) -> float:
        values = sorted(values)
        return round(1000 * values[min(len(values) - 1, int(p * len(values)))], 2) if values else 0.0

    return {
        "clients": CLIENTS,
        "seconds": round(elapsed, 2),
        "warmup_seconds": WARMUP_SECONDS,
        "cpus": os.cpu_count(),
        "rotations": rotations,
        "apps": {
            name: {
                "served": s["served"],
                "requests_per_second": round(s["served"] / elapsed, 1),
                "status": dict(s["status"]),
                "errors": dict(s["errors"]),
                "kids_accepted": dict(s["kids"]),
                "jwks_fetches": proxy.fetches[name],
                "latency_ms": {"p50": pct(latencies[name], 0.5), "p99": pct(latencies[name], 0.99)},
                "rss_before": rss_before[name],
                "rss_after": rss_after[name],
            }
            for name, s in stats.items()
        },
    }
