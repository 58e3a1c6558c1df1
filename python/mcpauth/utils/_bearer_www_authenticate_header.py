"""Upstream's `WWW-Authenticate` builder, kept for code that imports it.

The bearer middleware does not use it: its challenges come from the core, escaped per RFC 9110.
"""

from __future__ import annotations

from typing import Dict, Optional


class BearerWWWAuthenticateHeader:
    def __init__(self) -> None:
        self._params: Dict[str, str] = {}

    def set_parameter_if_value_exists(self, param: str, value: Optional[str]) -> "BearerWWWAuthenticateHeader":
        if value:
            self._params[param] = value
        return self

    def to_string(self) -> str:
        if not self._params:
            return ""
        parts = []
        for k, v in self._params.items():
            escaped = v.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'{k}="{escaped}"')
        return "Bearer " + ", ".join(parts)

    @property
    def header_name(self) -> str:
        return "WWW-Authenticate"


__all__ = ["BearerWWWAuthenticateHeader"]
