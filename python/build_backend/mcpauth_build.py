"""PEP 517 backend of mcpauth: maturin's, behind a check that Rust is installed.

pip builds from the sdist only where no wheel fits the machine. Without cargo, maturin's own
backend either downloads a Rust toolchain into a temporary directory (outside any package index,
which locked-down hosts refuse) or ends in several lines about cargo and rustup. This wrapper
stops first, with one sentence naming what is needed and where a wheel exists instead.
"""

from __future__ import annotations

import shutil
from typing import Any, Mapping

import maturin

RUST_NEEDED = (
    "mcpauth: building from source needs Rust (`cargo` on PATH, see https://rustup.rs); "
    "prebuilt wheels for CPython 3.10+ exist for Linux x86_64 and aarch64 (glibc 2.17+ and musl 1.2+), "
    "macOS x86_64 and arm64, and Windows x86_64, so install Rust or use one of those platforms."
)


def _require_cargo() -> None:
    if shutil.which("cargo") is None:
        # SystemExit with a message: the hook runner prints it alone, without a traceback.
        raise SystemExit(RUST_NEEDED)


Settings = Mapping[str, Any] | None


def get_requires_for_build_wheel(config_settings: Settings = None) -> list[str]:
    _require_cargo()
    return maturin.get_requires_for_build_wheel(config_settings)


def get_requires_for_build_editable(config_settings: Settings = None) -> list[str]:
    _require_cargo()
    return maturin.get_requires_for_build_editable(config_settings)


def get_requires_for_build_sdist(config_settings: Settings = None) -> list[str]:
    _require_cargo()
    return maturin.get_requires_for_build_sdist(config_settings)


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Settings = None) -> str:
    _require_cargo()
    return maturin.prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_wheel(wheel_directory: str, config_settings: Settings = None, metadata_directory: str | None = None) -> str:
    _require_cargo()
    return maturin.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(
    wheel_directory: str, config_settings: Settings = None, metadata_directory: str | None = None
) -> str:
    _require_cargo()
    return maturin.build_editable(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory: str, config_settings: Settings = None) -> str:
    _require_cargo()
    return maturin.build_sdist(sdist_directory, config_settings)
