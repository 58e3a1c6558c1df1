"""`python -m mcpauth check <issuer | metadata URL> [--type oauth|oidc] [--json]`: does an
authorization server fit MCP?

An issuer is discovered in the MCP order when no type is given (OAuth path-inserted, OpenID
Connect path-inserted, OpenID Connect appended); a URL containing `/.well-known/` is fetched
as is. The findings are printed in plain words, or as JSON with `--json`.
Exit status: 0 compatible, 1 not compatible, 2 the metadata could not be had.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Dict, List, Optional, Tuple

from . import _core
from ._errors import from_core

_ACRONYMS = {"mcp", "oidc", "jwt", "pkce", "url", "uri", "s256"}


def _humanize(code: str) -> str:
    words = [w.upper() if w in _ACRONYMS else w for w in code.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _fetch(target: str, type: Optional[str]) -> Tuple[Dict[str, Any], str]:
    if "/.well-known/" in target:
        t = type or ("oidc" if "openid-configuration" in target else "oauth")
        return _core.fetch_server_config(target, t, None, False, True)
    return _core.fetch_server_config(target, type)


def _print_report(metadata: Dict[str, Any], found_type: str, result: Dict[str, Any]) -> None:
    verdict = "Compatible with MCP" if result["is_valid"] else "Not compatible with MCP"
    print(f"{metadata.get('issuer')} ({found_type}): {verdict}")
    for title, findings in (
        ("Successes", result.get("successes") or []),
        ("Warnings", result["warnings"]),
        ("Errors", result["errors"]),
    ):
        if findings:
            print(f"\n{title} ({len(findings)})")
            for f in findings:
                print(f"  - {_humanize(f['code'])}: {f['description']}")


def check(target: str, type: Optional[str] = None, as_json: bool = False) -> int:
    try:
        metadata, found_type = _fetch(target, type)
    except _core.CoreError as e:
        exc = from_core(e)
        code = getattr(exc, "code", "error")
        code = str(getattr(code, "value", code))
        cause = getattr(exc, "cause", None)
        why = cause.get("error_description") if isinstance(cause, dict) else None
        if as_json:
            report = {"success": False, "error": code, "error_description": str(exc)}
            if why:
                report["cause"] = why
            print(json.dumps(report, indent=2))
        else:
            print(f"{_humanize(code)} - {exc}" + (f" {why}" if why else ""), file=sys.stderr)
        return 2
    result = _core.validate_server_config(metadata)
    if as_json:
        report = {"success": True, "type": found_type, "issuer": metadata.get("issuer"), "metadata": metadata, **result}
        print(json.dumps(report, indent=2))
    else:
        _print_report(metadata, found_type, result)
    return 0 if result["is_valid"] else 1


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mcpauth")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="check that an authorization server is compatible with MCP")
    c.add_argument("target", metavar="issuer-or-metadata-url")
    c.add_argument("--type", choices=["oauth", "oidc"], default=None)
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    return check(args.target, args.type, args.json)


if __name__ == "__main__":
    sys.exit(main())
