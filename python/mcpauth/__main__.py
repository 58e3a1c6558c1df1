"""`python -m mcpauth check <issuer | metadata URL> [--type oauth|oidc] [--json]`: does an
authorization server fit MCP?

An issuer is discovered in the MCP order when no type is given (OAuth path-inserted, OpenID
Connect path-inserted, OpenID Connect appended); a URL containing `/.well-known/` is fetched
as is. The findings are printed in plain words, or as JSON with `--json`.
Exit status: 0 compatible, 1 not compatible (including metadata that fails the schema or names
another issuer), 2 no metadata found.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Dict, List, Optional

from . import _core


def _json_report(outcome: Dict[str, Any]) -> Dict[str, Any]:
    if outcome["exit_code"] == 2:
        return {"success": False, "error": outcome["error"], "error_description": outcome["error_description"]}
    issuer = outcome["issuer"] or outcome["metadata"].get("issuer")
    report = {"success": True, "type": outcome["type"], "url": outcome["url"], "issuer": issuer}
    report["metadata"] = outcome["metadata"]
    for key in ("is_valid", "errors", "warnings", "successes"):
        report[key] = outcome[key]
    return report


def check(target: str, type: Optional[str] = None, as_json: bool = False) -> int:
    """Checks one provider; the report and exit status are the core's, shared with `npx mcp-auth check`."""
    outcome: Dict[str, Any] = _core.check_provider(target, type)
    if as_json:
        print(json.dumps(_json_report(outcome), indent=2, ensure_ascii=False))
    else:
        print(outcome["text"], end="", file=sys.stderr if outcome["exit_code"] == 2 else sys.stdout)
        if outcome["exit_code"] == 2:
            print(file=sys.stderr)
    return int(outcome["exit_code"])


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
