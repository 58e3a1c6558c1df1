"""`python -m mcpauth check` against a local issuer."""

from __future__ import annotations

import json
import subprocess
import sys

from support import Issuer


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mcpauth", "check", *args], capture_output=True, text=True, timeout=60)


def test_check_compatible_and_not(issuer: Issuer) -> None:
    ok = run(issuer.url, "--type", "oidc")
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["type"] == "oidc" and report["is_valid"] is True and report["errors"] == []
    assert "pkce_supported" in [s["code"] for s in report["successes"]]

    bad = run(f"{issuer.url}/broken", "--type", "oidc")
    assert bad.returncode == 2 and json.loads(bad.stdout)["error"] == "fetch_server_config_error"


def test_check_reports_incompatible_provider() -> None:
    no_pkce = Issuer()
    try:
        del no_pkce.metadata["code_challenge_methods_supported"]
        r = run(no_pkce.url)
        assert r.returncode == 1
        assert [e["code"] for e in json.loads(r.stdout)["errors"]] == ["pkce_not_supported"]
    finally:
        no_pkce.stop()
