"""`python -m mcpauth check` against local hosts with good and deliberately broken metadata."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Iterator

import pytest
from conftest import VECTORS
from support import Issuer, MetadataHost


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mcpauth", "check", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def host() -> Iterator[MetadataHost]:
    h = MetadataHost()
    yield h
    h.stop()


def test_compatible_provider_in_plain_words(host: MetadataHost) -> None:
    issuer = f"{host.url}/tenant"
    host.documents["/.well-known/openid-configuration/tenant"] = host.metadata(issuer)
    r = run(issuer)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"{issuer} (oidc): Compatible with MCP"
    assert "Successes (6)" in lines
    assert lines[1] == f"Metadata: {host.url}/.well-known/openid-configuration/tenant"
    assert "  ✓ PKCE supported: Proof Key for Code Exchange (PKCE) is supported by the server." in lines
    assert "Errors" not in r.stdout and "Warnings" not in r.stdout


def test_compatible_provider_as_json(issuer: Issuer) -> None:
    ok = run(issuer.url, "--type", "oidc", "--json")
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["success"] is True and report["type"] == "oidc" and report["issuer"] == issuer.url
    assert report["is_valid"] is True and report["errors"] == [] and report["warnings"] == []
    assert "pkce_supported" in [s["code"] for s in report["successes"]]
    assert report["metadata"]["jwks_uri"] == issuer.jwks_uri


def test_warnings_keep_it_compatible(host: MetadataHost) -> None:
    host.documents["/.well-known/oauth-authorization-server"] = host.metadata(host.url, registration_endpoint=None)
    r = run(host.url)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"{host.url} (oauth): Compatible with MCP"
    assert (
        "  ! Dynamic registration not supported: Dynamic Client Registration (RFC 7591) is not supported by the server."
        in r.stdout.splitlines()
    )
    report = json.loads(run(host.url, "--json").stdout)
    assert [w["code"] for w in report["warnings"]] == ["dynamic_registration_not_supported"]


def test_incompatible_provider(host: MetadataHost) -> None:
    host.documents["/.well-known/oauth-authorization-server"] = host.metadata(
        host.url, code_challenge_methods_supported=["plain"], response_types_supported=["token"]
    )
    r = run(host.url)
    assert r.returncode == 1
    out = r.stdout.splitlines()
    assert out[0] == f"{host.url} (oauth): Not compatible with MCP"
    assert "Errors (2)" in out
    assert any(line.startswith("  ✗ S256 code challenge method not supported: ") for line in out)
    report = json.loads(run(host.url, "--json").stdout)
    assert report["is_valid"] is False
    assert sorted(e["code"] for e in report["errors"]) == [
        "code_response_type_not_supported",
        "s256_code_challenge_method_not_supported",
    ]
    assert run(host.url, "--json").returncode == 1


def test_metadata_url_is_fetched_as_is(host: MetadataHost) -> None:
    path = "/custom/.well-known/openid-configuration"
    host.documents[path] = host.metadata("https://login.example.com")
    r = run(f"{host.url}{path}", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["type"] == "oidc" and report["issuer"] == "https://login.example.com"
    assert host.requested == [path]


def test_metadata_that_cannot_be_had(host: MetadataHost) -> None:
    issuer = f"{host.url}/tenant"
    # Nothing served: every discovery URL answers 404, and the message names them all.
    r = run(issuer)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("Fetch server config error: Failed to fetch server config from ")
    assert "also tried" in r.stderr
    j = run(issuer, "--json")
    assert j.returncode == 2 and json.loads(j.stdout)["error"] == "fetch_server_config_error"


def test_unusable_metadata_is_reported_as_errors(host: MetadataHost) -> None:
    issuer = f"{host.url}/tenant"
    # Not metadata at all (schema), and metadata of another issuer: found, but not compatible.
    host.documents["/.well-known/oauth-authorization-server/tenant"] = {"issuer": issuer}
    bad = run(issuer, "--json")
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["success"] is True and report["is_valid"] is False
    assert [(e["code"], e.get("cause")) for e in report["errors"]] == [
        ("invalid_server_metadata", {"error_description": "missing field `authorization_endpoint`"})
    ]
    host.documents["/.well-known/oauth-authorization-server/tenant"] = host.metadata("https://elsewhere.example.com")
    other = run(issuer)
    assert other.returncode == 1
    assert "  ✗ Issuer mismatch: The metadata names another issuer" in other.stdout
    assert f'      expected "{issuer}", found "https://elsewhere.example.com"' in other.stdout.splitlines()


def test_usage_errors() -> None:
    assert run().returncode == 2
    assert run("https://a.example.com", "--type", "saml").returncode == 2


def test_checker_vectors() -> None:
    """tests/vectors/checker.json: the same text and exit status as the core and the Node package."""
    doc = json.loads((VECTORS / "checker.json").read_text())
    host = MetadataHost()
    try:

        def fill(text: str) -> str:
            return text.replace("{base}", host.url)

        for path, document in doc["documents"].items():
            host.documents[path] = json.loads(fill(json.dumps(document)))
        for case in doc["cases"]:
            args = [fill(case["target"])] + (["--type", case["type"]] if case["type"] else [])
            r = run(*args)
            out = r.stderr if case["exit_code"] == 2 else r.stdout
            assert (r.returncode, out.rstrip("\n").split("\n")) == (
                case["exit_code"],
                [fill(line) for line in case["text"]],
            ), case["name"]
    finally:
        host.stop()
