import json
import os
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))

from harness import SAMPLES, Cast, Process, free_port  # noqa: E402
from servers import RESOURCE, Hydra, Keycloak, wait_until_up  # noqa: E402

APPS = Path(__file__).parent / "apps"
NODE_CHECKER = SAMPLES / "node" / "node_modules" / ".bin" / "mcp-auth"
LANGUAGES = ("python", "node")


class Verifiers:
    """The same routes served by both packages (apps/verifier.py, apps/verifier.mjs)."""

    def __init__(self, cast: Cast, issuer: str, server_type: Optional[str], routes: Dict[str, Any]) -> None:
        self.urls: Dict[str, str] = {}
        processes: Dict[str, Process] = {}
        for language in LANGUAGES:
            port = free_port()
            env = {
                "INTEROP_APP": json.dumps(
                    {"port": port, "resource": RESOURCE, "issuer": issuer, "type": server_type, "routes": routes}
                )
            }
            if language == "python":
                processes[language] = cast._spawn("python-verifier", [sys.executable, str(APPS / "verifier.py")], env)
            else:
                source = (APPS / "verifier.mjs").read_text()
                processes[language] = cast._spawn(
                    "node-verifier", ["node", "--input-type=module", "-e", source], env, cwd=SAMPLES / "node"
                )
            self.urls[language] = f"http://127.0.0.1:{port}"
        for language, process in processes.items():
            wait_until_up(process, f"{self.urls[language]}/health", 60)
        self.client = httpx.Client(timeout=30)

    def call(self, route: str, token: Optional[str], body: Optional[Any] = None) -> Dict[str, httpx.Response]:
        """One request per package; its response by language."""
        headers = {"authorization": f"Bearer {token}"} if token is not None else {}
        return {
            language: (
                self.client.post(url + route, headers=headers, json=body)
                if body is not None
                else self.client.get(url + route, headers=headers)
            )
            for language, url in self.urls.items()
        }

    def send(self, route: str, headers: Dict[str, Dict[str, str]]) -> Dict[str, httpx.Response]:
        """A GET per package with that package's `headers` (e.g. its own DPoP proof)."""
        return {
            language: self.client.get(url + route, headers=headers[language]) for language, url in self.urls.items()
        }

    def auth_info(
        self, route: str, token: str, headers: Optional[Dict[str, Dict[str, str]]] = None
    ) -> Dict[str, Dict[str, Any]]:
        """Both packages accept `token` (sent as Bearer, or with `headers` per package); the auth
        info each saw, in Python's field names."""
        answers = self.call(route, token) if headers is None else self.send(route, headers)
        infos = {}
        for language, response in answers.items():
            assert response.status_code == 200, f"{language}: {response.status_code} {response.text}"
            info = response.json()
            if language == "node":
                info = {
                    "issuer": info["issuer"],
                    "subject": info.get("subject"),
                    "client_id": info.get("clientId") or None,
                    "scopes": info["scopes"],
                    "audience": info.get("audience"),
                    "claims": info["claims"],
                    "token": info["token"],
                    "jkt": info.get("jkt"),
                }
            infos[language] = info
        assert infos["python"]["token"] == infos["node"]["token"] == token
        for field in ("issuer", "subject", "client_id", "scopes", "audience", "claims", "jkt"):
            assert infos["python"][field] == infos["node"][field], field
        return infos

    def refused(
        self,
        route: str,
        token: Optional[str],
        status: int = 401,
        headers: Optional[Dict[str, Dict[str, str]]] = None,
    ) -> Dict[str, Any]:
        """Both packages refuse `token` (sent as Bearer, or with `headers` per package) alike;
        the JSON body and the challenge."""
        answers = self.call(route, token) if headers is None else self.send(route, headers)
        for language, response in answers.items():
            assert response.status_code == status, f"{language}: {response.status_code} {response.text}"
        python, node = answers["python"], answers["node"]
        assert python.headers["www-authenticate"] == node.headers["www-authenticate"]
        assert python.json()["error"] == node.json()["error"]
        return {"body": python.json(), "node_body": node.json(), "challenge": python.headers["www-authenticate"]}

    def load(self, route: str, tokens: List[str], requests: int, workers: int = 8) -> Counter:  # type: ignore[type-arg]
        """`requests` concurrent requests spread over both packages and `tokens`; the count of
        each (language, status), and of each (language, status, token index, error) refused."""

        def one(i: int) -> tuple[Any, ...]:
            language = LANGUAGES[i % len(LANGUAGES)]
            index = (i // len(LANGUAGES)) % len(tokens)
            response = self.client.get(
                self.urls[language] + route, headers={"authorization": f"Bearer {tokens[index]}"}
            )
            if response.status_code == 200:
                return language, 200
            return language, response.status_code, index, response.text

        with ThreadPoolExecutor(workers) as pool:
            return Counter(pool.map(one, range(requests)))


def tool_call(name: str) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": {}}}


# Per-operation rules of the step-up tests: the endpoint needs notes:read, one tool notes:write.
MCP_ROUTE = {
    "mode": "jwt",
    "audience": RESOURCE,
    "required_scopes": ["notes:read"],
    "tool_scopes": {"write-note": ["notes:write"]},
}


def challenged_scope(challenge: str) -> str:
    found = re.search(r'scope="([^"]*)"', challenge)
    assert found, challenge
    return found.group(1)


def step_up(apps: Verifiers, read_only: str, login: Callable[[str], str]) -> None:
    """A token without notes:write calls write-note: 403 naming every scope the call needs;
    the client logs in again for exactly those scopes and the retried call passes."""
    for language, response in apps.call("/mcp", read_only, tool_call("read-notes")).items():
        assert response.status_code == 200, f"{language}: {response.text}"
    refused = apps.call("/mcp", read_only, tool_call("write-note"))
    challenges = set()
    for language, response in refused.items():
        assert response.status_code == 403, f"{language}: {response.text}"
        assert response.json()["missing_scopes"] == ["notes:write"]
        challenges.add(response.headers["www-authenticate"])
    (challenge,) = challenges
    assert 'error="insufficient_scope"' in challenge and 'resource_metadata="' in challenge
    scope = challenged_scope(challenge)
    assert scope.split() == ["notes:read", "notes:write"]
    stepped_up = login(scope)
    for language, response in apps.call("/mcp", stepped_up, tool_call("write-note")).items():
        assert response.status_code == 200, f"{language}: {response.text}"
        assert "notes:write" in response.json()["scopes"]


def run(*args: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def node_discovery(issuer: str, server_type: Optional[str]) -> Dict[str, Any]:
    """`fetchServerConfig` of the Node package: the type and metadata it found."""
    options = f"{{ type: {json.dumps(server_type)} }}" if server_type else "undefined"
    source = (
        "import { fetchServerConfig } from 'mcp-auth';"
        f"const c = await fetchServerConfig({json.dumps(issuer)}, {options});"
        "console.log(JSON.stringify({ type: c.type, metadata: c.metadata }));"
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", source],
        cwd=SAMPLES / "node",
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@pytest.fixture(scope="module")
def cast() -> Iterator[Cast]:
    with Cast() as processes:
        yield processes


@pytest.fixture(scope="module")
def keycloak(cast: Cast) -> Keycloak:
    # Set while developing: a Keycloak started by `python servers.py keycloak` (its realm anew).
    return Keycloak(cast, os.environ.get("MCP_AUTH_INTEROP_KEYCLOAK"))


@pytest.fixture(scope="module")
def hydra(cast: Cast) -> Hydra:
    return Hydra(cast)
