"""`make demo`: MCP servers protected by mcp-auth (Python and Node; JWTs, by introspection opaque
tokens, and DPoP-bound tokens), one authorization server, real MCP clients (Python and TypeScript
SDKs, and a DPoP client) and two users, all on 127.0.0.1. Prints what goes over the wire, checks the outcome, stops everything."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs, urlparse

import httpx

sys.path.insert(0, str(Path(__file__).parent / "clients"))
sys.path.insert(0, str(Path(__file__).parent))

import py_client  # noqa: E402
from harness import Cast, run_dpop_client, run_ts_client  # noqa: E402

BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")
CHECKS: List[str] = []


def short(url: str, labels: Dict[str, str]) -> str:
    parsed = urlparse(url)
    origin = f"{parsed.scheme}://{parsed.netloc}"
    label = labels.get(origin, origin)
    path = parsed.path
    if path.startswith("/interaction/") or path.startswith("/auth/"):
        parts = path.split("/")
        parts[2] = "<id>"
        path = "/".join(parts)
    if parsed.query and path == "/auth":
        q = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        path += f"?scope={q.get('scope', '')!r} resource={q.get('resource', '')} (+ client_id, PKCE S256, state)"
    return f"{label:<7} {path}"


def show(report: Dict[str, Any], labels: Dict[str, str]) -> None:
    """Prints the client's HTTP exchanges, with each tool call's result after its 200."""
    pending = list(report["calls"])
    for e in report["http"]:
        detail = e.get("detail") or ""
        if detail == "notifications/initialized" or (e["method"] == "GET" and urlparse(e["url"]).path == "/mcp"):
            continue  # MCP housekeeping (the optional SSE stream), nothing to do with authorization
        if "/auth?" in e["url"]:
            detail = ""  # the summary of the URL says it all
        line = f"  {e['method']:<4} {short(e['url'], labels)}"
        print(f"{line}  {BOLD}{e['status']}{RESET}  {detail}".rstrip())
        if e.get("www_authenticate"):
            print(f"{'':>10}{DIM}WWW-Authenticate: {e['www_authenticate']}{RESET}")
        if detail.startswith("tools/call ") and e["status"] == 200 and pending:
            call = pending.pop(0)
            outcome = call.get("result", call.get("error"))
            print(
                f"{'':>10}=> {call['tool']}({json.dumps(call['args']) if call['args'] else ''}) = {json.dumps(outcome)}"
            )
    for call in pending:
        print(f"{'':>10}=> {call['tool']} failed: {call.get('error')}")


def check(description: str, ok: bool, listed: bool = True) -> None:
    if listed:
        CHECKS.append(f"ok  {description}")
    if not ok:
        raise SystemExit(f"demo check failed: {description}")


def act(title: str, explanation: str, labels: Dict[str, str], run: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
    print(f"\n{BOLD}== {title}{RESET}\n{DIM}{explanation}{RESET}\n")
    report = run()
    show(report, labels)
    for call in report["calls"]:
        check(
            f"{title}: {call.get('tool', 'connect')} answered: {call.get('error')}", "error" not in call, listed=False
        )
    return report


def results(report: Dict[str, Any]) -> List[Any]:
    return [c["result"] for c in report["calls"]]


def stepped_up(report: Dict[str, Any]) -> bool:
    return any(
        e["status"] == 403 and 'error="insufficient_scope"' in e.get("www_authenticate", "") for e in report["http"]
    )


def python_client(url: str, user: str, grant: Optional[str], calls: List[Any]) -> Callable[[], Dict[str, Any]]:
    return lambda: asyncio.run(py_client.run(url, user, grant, calls))


def ts_client(url: str, user: str, grant: Optional[str], calls: List[Any]) -> Callable[[], Dict[str, Any]]:
    return lambda: run_ts_client(url, user, grant, calls)


def dpop_client(url: str, user: str, calls: List[Any]) -> Callable[[], Dict[str, Any]]:
    return lambda: run_dpop_client(url, user, None, calls)


def challenge_error(found: Dict[str, Any], scheme: str) -> Optional[str]:
    for c in found.get("challenges", []):
        if c["scheme"].lower() == scheme.lower():
            return c["params"].get("error")
    return None


# The Node sample with DPoP required and server nonces (RFC 9449 §8).
DPOP = {"MCP_AUTH_DPOP": "required", "MCP_AUTH_DPOP_NONCE_SECRET": "demo-dpop-nonce-secret-0123456789abcdef"}

INTROSPECTION = {
    "MCP_AUTH_INTROSPECTION_CLIENT_ID": "mcp-resource-server",
    "MCP_AUTH_INTROSPECTION_CLIENT_SECRET": "mcp-resource-server-secret",
}


def main() -> None:
    with Cast() as cast:
        issuer = cast.authorization_server()
        python_url = cast.python_server(issuer)
        node_url = cast.node_server(issuer)
        opaque_url = cast.python_server(issuer, INTROSPECTION)
        dpop_url = cast.node_server(issuer, DPOP)
        opaque = httpx.post(f"{issuer}/admin/resources", data={"resource": opaque_url, "alg": "opaque"})
        check("the AS issues opaque tokens for py-opaque", opaque.status_code == 200, listed=False)
        origin = lambda url: url.rsplit("/", 1)[0]  # noqa: E731
        labels = {
            issuer: "AS",
            origin(python_url): "py-srv",
            origin(node_url): "node-srv",
            origin(opaque_url): "py-opaq",
            origin(dpop_url): "node-dp",
        }

        print(
            f"{BOLD}mcp-auth demo{RESET}: real MCP clients, mcp-auth-protected MCP servers, a real authorization server\n"
        )
        print(f"  AS        {issuer:<32} tests/e2e/authorization-server (oidc-provider; users alice, bob)")
        print(f"  py-srv    {python_url:<32} samples/python/todo_manager.py (Starlette + FastMCP + mcpauth)")
        print(f"  node-srv  {node_url:<32} samples/node/todo-manager.js (Express + MCP SDK + mcp-auth)")
        print(f"  py-opaq   {opaque_url:<32} the Python sample in its introspection mode (opaque tokens)")
        print(f"  node-dp   {dpop_url:<32} the Node sample with DPoP required and server nonces (RFC 9449)")
        print("\n  Scopes: create:todos to create; read:todos sees everyone's todos; delete:todos deletes any.")
        print("  Each client starts from the server URL alone.")

        print(
            f"\n{BOLD}== 0. Is the authorization server fit for MCP?{RESET}\n{DIM}python -m mcpauth check {issuer}{RESET}\n"
        )
        checked = subprocess.run(
            [sys.executable, "-m", "mcpauth", "check", issuer], capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        print("\n".join(f"  {line}" if line else "" for line in checked.stdout.splitlines()))
        check("the provider checker finds the AS compatible with MCP", checked.returncode == 0)

        alice = act(
            "1. alice, Python SDK client -> py-srv",
            "The client gets 401, follows resource_metadata to the PRM, discovers the AS, registers (DCR) and\n"
            "authorizes with PKCE and resource=<server URL>. At the login form alice grants only read:todos,\n"
            "so create-todo gets 403 insufficient_scope and the SDK steps up to create:todos.",
            labels,
            python_client(
                python_url, "alice", "read:todos", ["get-todos", ("create-todo", {"content": "Buy milk"}), "get-todos"]
            ),
        )
        _, milk, listed = results(alice)
        check(
            "alice's create-todo needed a step-up (403 insufficient_scope) and then succeeded",
            stepped_up(alice) and milk["ownerId"] == "alice",
        )
        check("alice sees her todo", milk in listed["todos"])

        bob = act(
            "2. bob, TypeScript SDK client -> py-srv",
            "bob grants create:todos only: he sees only his own todos and cannot delete alice's.",
            labels,
            ts_client(python_url, "bob", "create:todos", ["get-todos", ("delete-todo", {"id": milk["id"]})]),
        )
        listed, deleted = results(bob)
        check("bob does not see alice's todo without read:todos", milk["id"] not in [t["id"] for t in listed["todos"]])
        check("bob cannot delete alice's todo without delete:todos", deleted == {"error": "Failed to delete todo"})

        alice_node = act(
            "3. alice, TypeScript SDK client -> node-srv",
            "The same flow against the Node server; the TypeScript SDK steps up on 403 by itself.",
            labels,
            ts_client(node_url, "alice", "read:todos", [("create-todo", {"content": "Walk the dog"}), "get-todos"]),
        )
        dog, _ = results(alice_node)
        check(
            "alice (TypeScript client) stepped up to create:todos on node-srv",
            stepped_up(alice_node) and dog["ownerId"] == "alice",
        )

        bob_node = act(
            "4. bob, Python SDK client -> node-srv",
            "bob grants create:todos and read:todos: he sees alice's todo, and still cannot delete it.",
            labels,
            python_client(
                node_url, "bob", "create:todos read:todos", ["get-todos", ("delete-todo", {"id": dog["id"]})]
            ),
        )
        listed, deleted = results(bob_node)
        check("bob sees alice's todo with read:todos", dog in listed["todos"])
        check("bob still cannot delete it without delete:todos", deleted == {"error": "Failed to delete todo"})

        opaque_run = act(
            "5. alice, TypeScript SDK client -> py-opaq (opaque tokens)",
            "The AS issues opaque access tokens for this server. The server cannot read them, so it asks the\n"
            "AS's introspection endpoint (RFC 7662) about each one, with its own client credentials; the\n"
            "answer gives the user, scopes and audience, and the same 401/403 rules apply.",
            labels,
            ts_client(opaque_url, "alice", "read:todos", [("create-todo", {"content": "Opaque tea"}), "get-todos"]),
        )
        tea, listed = results(opaque_run)
        check(
            "an opaque token from the AS works through introspection, step-up included",
            stepped_up(opaque_run) and tea["ownerId"] == "alice" and tea in listed["todos"],
        )

        dpop_run = act(
            "6. alice, DPoP client -> node-dp (sender-constrained tokens, RFC 9449)",
            "The 401 offers only the DPoP scheme. The client makes a key pair, proves it at the token endpoint\n"
            "and gets a token bound to that key (cnf.jkt = the key's thumbprint). Every MCP request carries\n"
            "Authorization: DPoP <token> and a fresh proof (method, URL, token hash, the server's nonce).\n"
            "Then what a thief would try: the same proof again, the token as Bearer, a proof without nonce.",
            labels,
            dpop_client(dpop_url, "alice", [("create-todo", {"content": "Bound tea"}), "get-todos"]),
        )
        token = dpop_run["tokens"][0]
        checks = dpop_run["checks"]
        print(f"\n  key       {dpop_run['key']['alg']}, RFC 7638 thumbprint {dpop_run['key']['jkt']}")
        print(f"  token     token_type={token['token_type']} cnf={json.dumps(token['claims']['cnf'])}")
        replay, bearer, nonce = checks["replay"]["again"], checks["bearer"], checks["nonce"]
        print(
            f"  replay    the same proof twice: {checks['replay']['first']['status']}, then {replay['status']} "
            f"{challenge_error(replay, 'DPoP')}"
        )
        print(f"  Bearer    the bound token as Bearer: {bearer['status']} {bearer.get('error')}")
        print(
            f"  nonce     a proof without the nonce: {nonce['without']['status']} "
            f"{challenge_error(nonce['without'], 'DPoP')} (+ DPoP-Nonce), retried with it: {nonce['retry']['status']}"
        )
        bound_tea, listed = results(dpop_run)
        check(
            "DPoP: the token is bound to the client's key (cnf.jkt = its thumbprint) and tool calls with proofs work",
            token["token_type"] == "DPoP"
            and token["claims"]["cnf"] == {"jkt": dpop_run["key"]["jkt"]}
            and bound_tea["ownerId"] == "alice"
            and bound_tea in listed["todos"],
        )
        check(
            "DPoP: a replayed proof is refused (401 invalid_dpop_proof)",
            checks["replay"]["first"]["status"] == 200
            and replay["status"] == 401
            and challenge_error(replay, "DPoP") == "invalid_dpop_proof",
        )
        check("DPoP: the bound token sent as Bearer is refused (401)", bearer["status"] == 401)
        check(
            "DPoP: server nonce round trip (401 use_dpop_nonce + DPoP-Nonce, then 200 with it)",
            nonce["without"]["status"] == 401
            and challenge_error(nonce["without"], "DPoP") == "use_dpop_nonce"
            and nonce["retry"]["status"] == 200,
        )

    print(f"\n{BOLD}== Checks{RESET}")
    for line in CHECKS:
        print(f"  {line}")
    print("\nAll checks passed; the authorization server and the MCP servers are stopped.")


if __name__ == "__main__":
    main()
