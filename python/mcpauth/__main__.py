"""`python -m mcpauth check <issuer> [--type oauth|oidc]`: does a provider fit MCP?

Fetches the issuer's metadata (the MCP discovery order when no type is given), validates it
and prints the findings as JSON. Exit status: 0 compatible, 1 not compatible, 2 fetch failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from . import _core
from ._errors import from_core


def check(issuer: str, type: Optional[str]) -> int:
    try:
        metadata, found_type = _core.fetch_server_config(issuer, type)
    except _core.CoreError as e:
        exc = from_core(e)
        print(json.dumps({"success": False, "error": getattr(exc, "code", "error"), "error_description": str(exc)}))
        return 2
    result = _core.validate_server_config(metadata)
    report = {"success": True, "type": found_type, "issuer": metadata.get("issuer"), **result}
    print(json.dumps(report, indent=2))
    return 0 if result["is_valid"] else 1


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mcpauth")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="check that an authorization server is compatible with MCP")
    c.add_argument("issuer")
    c.add_argument("--type", choices=["oauth", "oidc"], default=None)
    args = parser.parse_args(argv)
    return check(args.issuer, args.type)


if __name__ == "__main__":
    sys.exit(main())
