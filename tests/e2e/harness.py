"""Starts the end-to-end cast on 127.0.0.1: the authorization server, the two sample MCP
servers and the TypeScript client; shared by the pytest suite and `make demo`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import httpx

ROOT = Path(__file__).resolve().parents[2]
E2E = ROOT / "tests" / "e2e"
AUTHORIZATION_SERVER = E2E / "authorization-server" / "server.js"
TS_CLIENT = E2E / "clients" / "ts-client.mjs"
DPOP_CLIENT = E2E / "clients" / "dpop-client.mjs"
SAMPLES = ROOT / "samples"
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen  # type: ignore[type-arg]
    log: Path
    # Started in a process group of its own, stopped as a group: a launcher script's child (a
    # JVM) then cannot outlive it.
    group: bool = False

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _signal(self, sig: int) -> None:
        if self.group:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass
        else:
            self.popen.send_signal(sig)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.popen.wait(30 if self.group else 10)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.popen.wait()
        elif self.group:  # the leader is gone; what it started may not be
            self._signal(signal.SIGKILL)


class Cast:
    """The processes of one scenario; stops them all on exit."""

    def __init__(self) -> None:
        self.logs = Path(tempfile.mkdtemp(prefix="mcp-auth-e2e-"))
        self.processes: List[Process] = []

    def __enter__(self) -> "Cast":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        for process in reversed(self.processes):
            process.stop()
        if exc_type is None:
            shutil.rmtree(self.logs, ignore_errors=True)
        else:  # what the servers said is the first thing to read when a scenario fails
            for process in self.processes:
                print(f"--- {process.name} ({process.log}) ---\n{process.output()[-4000:]}", file=sys.stderr)

    def _spawn(
        self,
        name: str,
        args: List[str],
        env: Optional[Dict[str, str]] = None,
        cwd: Optional[Path] = None,
        group: bool = False,
    ) -> Process:
        log = self.logs / f"{name}.log"
        stdout = subprocess.PIPE if name == "authorization-server" else log.open("wb")
        popen = subprocess.Popen(
            args,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=log.open("ab") if stdout is subprocess.PIPE else subprocess.STDOUT,
            start_new_session=group,
        )
        process = Process(name, popen, log, group)
        self.processes.append(process)
        return process

    def authorization_server(self, *args: str) -> str:
        """Starts the authorization server (with `args`, e.g. "--dpop-nonce"); returns its issuer."""
        process = self._spawn("authorization-server", ["node", str(AUTHORIZATION_SERVER), "--port", "0", *args])
        assert process.popen.stdout is not None
        line = process.popen.stdout.readline()
        if not line:
            raise RuntimeError(f"the authorization server did not start:\n{process.output()}")
        return str(json.loads(line)["issuer"])

    def python_server(self, issuer: str, env: Optional[Dict[str, str]] = None) -> str:
        """Starts samples/python/todo_manager.py; returns its MCP URL (= resource identifier)."""
        port = free_port()
        process = self._spawn(
            "python-server",
            [sys.executable, str(SAMPLES / "python" / "todo_manager.py")],
            env={"MCP_AUTH_ISSUER": issuer, "PORT": str(port), **(env or {})},
        )
        return self._ready(process, f"http://127.0.0.1:{port}/mcp")

    def node_server(self, issuer: str, env: Optional[Dict[str, str]] = None) -> str:
        """Starts samples/node/todo-manager.js; returns its MCP URL (= resource identifier)."""
        port = free_port()
        process = self._spawn(
            "node-server",
            ["node", str(SAMPLES / "node" / "todo-manager.js")],
            env={"MCP_AUTH_ISSUER": issuer, "PORT": str(port), **(env or {})},
        )
        return self._ready(process, f"http://127.0.0.1:{port}/mcp")

    def _ready(self, process: Process, url: str) -> str:
        """Waits until the server answers its protected resource metadata."""
        prm = url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                break
            try:
                if httpx.get(prm, timeout=2).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{process.name} did not start:\n{process.output()}")


def run_ts_client(
    server_url: str, user: str, grant: Optional[str] = None, calls: Optional[List[Any]] = None
) -> Dict[str, Any]:
    """Runs tests/e2e/clients/ts-client.mjs once (one registration, one login); its JSON report.

    `calls` items are a tool name or a (tool, arguments) pair.
    """
    args = ["node", str(TS_CLIENT), server_url, "--user", user]
    if grant is not None:
        args += ["--grant", grant]
    for call in calls or []:
        tool, arguments = (call, None) if isinstance(call, str) else call
        args += ["--call", tool if arguments is None else f"{tool}={json.dumps(arguments)}"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if not done.stdout.strip():
        raise RuntimeError(f"ts-client failed ({done.returncode}):\n{done.stderr}")
    report: Dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["returncode"] = done.returncode
    report["stderr"] = done.stderr
    return report


def run_dpop_client(
    server_url: str,
    user: str,
    grant: Optional[str] = None,
    calls: Optional[List[Any]] = None,
    checks: bool = True,
) -> Dict[str, Any]:
    """Runs tests/e2e/clients/dpop-client.mjs once: discovery, a DPoP-bound token, the calls with
    proofs, then (with `checks`) the requests the server must refuse; its JSON report."""
    args = ["node", str(DPOP_CLIENT), server_url, "--user", user]
    if grant is not None:
        args += ["--grant", grant]
    for call in calls or []:
        tool, arguments = (call, None) if isinstance(call, str) else call
        args += ["--call", tool if arguments is None else f"{tool}={json.dumps(arguments)}"]
    if not checks:
        args.append("--no-checks")
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if not done.stdout.strip():
        raise RuntimeError(f"dpop-client failed ({done.returncode}):\n{done.stderr}")
    report: Dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["returncode"] = done.returncode
    report["stderr"] = done.stderr
    return report
