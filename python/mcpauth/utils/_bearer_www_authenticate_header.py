"""Upstream's `WWW-Authenticate` builder, kept for code that imports it.

The bearer middleware does not use it (the core answers failures whole); values are escaped by the
core's challenge formatter, per RFC 9110.
"""

from __future__ import annotations

from typing import Dict, Optional

from .. import _core


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
        return _core.format_challenge(list(self._params.items()))

    @property
    def header_name(self) -> str:
        return "WWW-Authenticate"


__all__ = ["BearerWWWAuthenticateHeader"]
