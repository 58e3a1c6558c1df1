"""The sdist: what pip builds where no wheel fits. Without Rust it must stop with one sentence
saying Rust is needed and which platforms have wheels (python/build_backend/mcpauth_build.py),
not download a toolchain or print maturin's own lines."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1]


def _maturin() -> str | None:
    beside = Path(sys.executable).parent / "maturin"
    return str(beside) if beside.exists() else shutil.which("maturin")


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    maturin = _maturin()
    if maturin is None or shutil.which("cargo") is None:
        pytest.skip("the sdist cannot be built here: maturin or cargo is not installed")
    try:
        import maturin as _  # noqa: F401  (the backend delegates to it, installed without isolation below)
    except ImportError:
        pytest.skip("the sdist's backend cannot run here: maturin's Python package is not installed")
    out = tmp_path_factory.mktemp("sdist")
    subprocess.run([maturin, "sdist", "--out", str(out)], cwd=SOURCE, check=True, capture_output=True)
    (built,) = out.glob("mcpauth-*.tar.gz")
    return built


def _no_rust_env() -> dict[str, str]:
    # Only the system directories: no ~/.cargo/bin, no rustup shims, no venv bin/.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO", "RUSTUP", "MATURIN"))}
    env["PATH"] = os.pathsep.join(d for d in ("/usr/bin", "/bin") if not (Path(d) / "cargo").exists())
    return env


def test_sdist_carries_the_backend(sdist: Path) -> None:
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    root = names[0].split("/")[0]
    assert f"{root}/build_backend/mcpauth_build.py" in names
    assert f"{root}/pyproject.toml" in names
    assert not any(n.endswith((".so", ".node", ".pem")) for n in names), "built or secret files in the sdist"


def test_without_rust_pip_says_so_in_one_sentence(sdist: Path, tmp_path: Path) -> None:
    env = _no_rust_env()
    assert shutil.which("cargo", path=env["PATH"]) is None
    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--disable-pip-version-check", "-w", str(tmp_path), str(sdist)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode != 0, run.stdout + run.stderr
    out = run.stdout + run.stderr
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("mcpauth:")]
    assert len(lines) == 1, out
    (line,) = lines
    assert "needs Rust (`cargo` on PATH" in line
    for platform in ("Linux x86_64 and aarch64", "glibc 2.17+", "musl 1.2+", "macOS", "Windows"):
        assert platform in line
    assert line.count(". ") == 0 and line.endswith("."), "one sentence"
    # Nothing of maturin's: no toolchain download, no multi-line cargo advice.
    assert "puccinialin" not in out and "Rust not found" not in out and "Cargo, the Rust package manager" not in out
    assert not list(tmp_path.glob("*.whl"))


def test_with_rust_the_backend_hands_over_to_maturin(sdist: Path, tmp_path: Path) -> None:
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path, filter="data")
    (root,) = tmp_path.iterdir()
    probe = (
        "import sys, json; sys.path.insert(0, 'build_backend'); import mcpauth_build as b; "
        "print(json.dumps([b.get_requires_for_build_wheel(), b.get_requires_for_build_sdist()]))"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True)
    # cargo is there, so maturin asks for no toolchain download (its `puccinialin`).
    assert run.stdout.strip() == "[[], []]", run.stdout + run.stderr
