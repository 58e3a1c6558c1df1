"""What a DPoP run of tests/e2e/clients/dpop-client.mjs must show, against any sample server
(Python, Node, Kotlin): shared by test_dpop.py and test_kotlin.py."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional


def prm_url(url: str) -> str:
    return url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")


def challenge(found: Dict[str, Any], scheme: str) -> Optional[Dict[str, Any]]:
    """The parsed challenge of `scheme` among those the client reported, or None."""
    for c in found.get("challenges", []):
        if c["scheme"].lower() == scheme.lower():
            return c
    return None


def dump(report: Dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in report.items() if k != "stderr"}, indent=1) + report.get("stderr", "")


def assert_run(report: Dict[str, Any], url: str, issuer: str, user: str, required: bool, nonces: bool) -> List[Any]:
    """Discovery, the bound token, the calls with proofs and every check; returns the call results."""
    assert report["returncode"] == 0, dump(report)
    for call in report["calls"]:
        assert "error" not in call, dump(report)
    http = report["http"]

    # Discovery: 401 naming the DPoP algorithms and the metadata; Bearer offered only when allowed.
    first = http[0]
    assert (first["method"], first["url"], first["status"]) == ("POST", url, 401), dump(report)
    discovery = report["discovery"]
    dpop = challenge(discovery, "DPoP")
    assert dpop is not None, discovery["challenge"]
    assert "ES256" in dpop["params"]["algs"].split(" ")
    assert dpop["params"]["resource_metadata"] == prm_url(url)
    assert "error" not in dpop["params"]  # no credentials were sent
    bearer = challenge(discovery, "Bearer")
    if required:
        assert bearer is None, discovery["challenge"]
    else:
        assert bearer is not None and bearer["params"]["resource_metadata"] == prm_url(url), discovery["challenge"]
    prm = discovery["prm"]
    assert prm["resource"] == url and prm["authorization_servers"] == [issuer]
    assert "ES256" in prm["dpop_signing_alg_values_supported"]
    assert prm.get("dpop_bound_access_tokens_required", False) is required

    # The token: DPoP, bound to the client's key (cnf.jkt = its RFC 7638 thumbprint), for this server.
    token = report["tokens"][0]
    assert token["token_type"] == "DPoP"
    assert token["claims"]["cnf"] == {"jkt": report["key"]["jkt"]}
    assert token["claims"]["aud"] == url and token["claims"]["sub"] == user and token["claims"]["iss"] == issuer
    assert token["bound_to_our_key"]

    # Every MCP request carried the token with the DPoP scheme and a proof of its own.
    mcp = [e for e in http if e["url"] == url and e.get("authorization") == "DPoP"]
    flow = [e for e in mcp if not e.get("detail", "").startswith("check ")]
    calls = [e for e in flow if e.get("detail", "").startswith("tools/call ") and e["status"] == 200]
    assert len(calls) == len(report["calls"]), dump(report)
    assert all(e["proof"]["htu"] == url and e["proof"]["ath"] for e in flow), dump(report)
    jtis = [e["proof"]["jti"] for e in mcp if "proof" in e]
    # Only the replay check sends a proof twice.
    assert len(jtis) - len(set(jtis)) == 1, dump(report)

    checks = report["checks"]
    # A proof accepted once is refused the second time.
    assert checks["replay"]["first"]["status"] == 200, dump(report)
    again = checks["replay"]["again"]
    assert again["status"] == 401, dump(report)
    assert challenge(again, "DPoP")["params"]["error"] == "invalid_dpop_proof"

    # The same token as a bearer token: refused (RFC 9449 §7.2), so a stolen token is useless.
    as_bearer = checks["bearer"]
    assert as_bearer["status"] == 401, dump(report)
    if required:
        assert challenge(as_bearer, "Bearer") is None
        assert challenge(as_bearer, "DPoP") is not None
    else:
        assert challenge(as_bearer, "Bearer")["params"]["error"] == "invalid_token", as_bearer

    for name in ("no_proof", "other_key", "wrong_htu"):
        refused = checks[name]
        assert refused["status"] == 401, (name, dump(report))
        assert challenge(refused, "DPoP")["params"].get("error") in ("invalid_dpop_proof", "invalid_token"), refused
    assert challenge(checks["no_proof"], "DPoP")["params"]["error"] == "invalid_dpop_proof"
    assert challenge(checks["wrong_htu"], "DPoP")["params"]["error"] == "invalid_dpop_proof"

    nonce = checks["nonce"]
    if nonces:
        # A proof without the server's nonce: use_dpop_nonce and a DPoP-Nonce; the retry with it passes.
        assert nonce["without"]["status"] == 401, dump(report)
        assert challenge(nonce["without"], "DPoP")["params"]["error"] == "use_dpop_nonce"
        assert nonce["without"].get("dpop_nonce")
        assert nonce["retry"]["status"] == 200, dump(report)
        assert any(e.get("dpop_nonce") for e in mcp if e["status"] == 200)
    else:
        assert nonce["without"]["status"] == 200, dump(report)
        assert not any(e.get("dpop_nonce") for e in http if e["url"] == url)
    return [call["result"] for call in report["calls"]]
