"""Runs a command with the environment cargo-zigbuild builds a target with.

cargo-zigbuild makes zig the C compiler and linker of a Linux target (glibc pinned by a suffix
such as `.2.17`, or musl): it writes wrapper scripts and points `CC_<target>`,
`CARGO_TARGET_<TARGET>_LINKER` and friends at them. maturin's `--zig` does the same with wrappers
of its own, in another directory. Cargo fingerprints the linker and the C compiler variables that
aws-lc's build script reads, so the wheel and the Node addon of one target would each rebuild
aws-lc in a shared target dir, and every alternation between the two would rebuild it again.
Running maturin (without `--zig`), napi and cargo under this one environment lets the three
packages of a target share one build of the core.

Usage: zigenv.py TARGET[.GLIBC] [--] COMMAND [ARG...]

A musl cdylib also needs `-C target-feature=-crt-static`: maturin adds it to the wheel's build
(as `CARGO_ENCODED_RUSTFLAGS=-Ctarget-feature=-crt-static`, appending when the variable is already
set), so a cargo build that is to share the wheel's core sets exactly that value itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DUMP = """#!/bin/sh
exec "{python}" -c 'import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], "w"))' "{out}"
"""


def zig_environment(target: str) -> dict[str, str]:
    zigbuild = shutil.which("cargo-zigbuild")
    if zigbuild is None:
        sys.exit("zigenv: cargo-zigbuild is not on PATH (pip install cargo-zigbuild ziglang)")
    with tempfile.TemporaryDirectory() as tmp:
        out, fake = Path(tmp, "env.json"), Path(tmp, "cargo")
        fake.write_text(DUMP.format(python=sys.executable, out=out))
        fake.chmod(0o755)
        # cargo-zigbuild runs $CARGO once its environment is set; the stand-in records it.
        # Run from the repository root: some of the values are paths relative to it.
        run = subprocess.run(
            [zigbuild, "zigbuild", "--release", "--target", target],
            cwd=ROOT,
            env={**os.environ, "CARGO": str(fake)},
            capture_output=True,
            text=True,
        )
        if run.returncode != 0 or not out.exists():
            sys.exit(f"zigenv: cargo-zigbuild could not set up {target}: {run.stderr.strip()}")
        recorded = json.loads(out.read_text())
    env = {k: v for k, v in recorded.items() if os.environ.get(k) != v and k not in ("CARGO", "_", "PWD", "OLDPWD")}
    return env


def main(argv: list[str]) -> int:
    if argv[1:2] == ["--"]:
        argv = argv[:1] + argv[2:]
    if len(argv) < 2:
        sys.exit(__doc__)
    target, command = argv[0], argv[1:]
    env = {**os.environ, **zig_environment(target)}
    return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
