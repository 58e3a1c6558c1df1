"""Fails unless auditwheel finds each wheel exactly as portable as its file name claims.

pip trusts the platform tags in a wheel's file name; a wheel that says manylinux_2_17 but calls a
glibc 2.34 symbol installs on an older distribution and fails at import. `auditwheel show`
reads the binary (its versioned symbols and linked libraries) and names the one tag it earns.

musllinux wheels are read against musl's own libc (`--musl-root`: Debian's `musl` packages
unpacked, `<root>/<arch>/lib/<arch>-linux-musl/libc.so`); on this glibc machine auditwheel would
otherwise open glibc's `libc.so` linker script. Their one external library must be `libc.so`:
auditwheel's musllinux policy names musl's C library by Alpine's file name
(`libc.musl-x86_64.so.1`), while zig links against the soname `libc.so`, which musl's loader on
every musl distribution resolves to itself (it reserves the `libc.` names for the loader).

Usage: check_wheel_tag.py [--musl-root DIR] WHEEL...
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

# PEP 600's names for the older manylinux tags.
LEGACY = {"manylinux1": "manylinux_2_5", "manylinux2010": "manylinux_2_12", "manylinux2014": "manylinux_2_17"}


def claimed(wheel: Path) -> set[str]:
    platforms = wheel.name.removesuffix(".whl").split("-")[-1].split(".")
    out = set()
    for tag in platforms:
        m = re.fullmatch(r"(manylinux1|manylinux2010|manylinux2014)_(.+)", tag)
        out.add(f"{LEGACY[m.group(1)]}_{m.group(2)}" if m else tag)
    return out


def check(wheel: Path, musl_root: Path | None) -> str | None:
    claims = claimed(wheel)
    musl = all(c.startswith("musllinux_") for c in claims)
    args = [sys.executable, "-m", "auditwheel", "show", "--json", str(wheel)]
    if musl:
        arch = next(iter(claims)).split("_", 3)[3]
        libdir = (musl_root or Path("/nonexistent")) / arch / "lib" / f"{arch}-linux-musl"
        if not (libdir / "libc.so").is_file():
            return f"{wheel.name}: no musl libc.so for {arch} under --musl-root {musl_root}"
        args[4:4] = ["--ldpaths", str(libdir)]
    run = subprocess.run(args, capture_output=True, text=True)
    if run.returncode != 0:
        return f"{wheel.name}: auditwheel show failed: {run.stderr.strip()}"
    report = json.loads(run.stdout)
    tag = report["overall_tag"]
    if musl and report["sym_tag"] in claims and set(report["external_libs"]) == {"libc.so"}:
        eliminate = {lib for up in report.get("policy_upgrades", {}).values() for lib in up["libs_to_eliminate"]}
        if eliminate <= {"libc.so"}:
            tag = report["sym_tag"]
    if claims != {tag}:
        return f"{wheel.name}: the file name claims {', '.join(sorted(claims))}, auditwheel finds {tag}"
    print(f"{wheel.name}: {tag}, as its name says")
    return None


def main(argv: list[str]) -> int:
    musl_root = None
    if argv[:1] == ["--musl-root"] and len(argv) > 1:
        musl_root, argv = Path(argv[1]), argv[2:]
    if not argv:
        sys.exit(__doc__)
    errors = [e for e in (check(Path(w), musl_root) for w in argv) if e]
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
