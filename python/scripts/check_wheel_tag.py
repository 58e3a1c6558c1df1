"""Fails unless auditwheel finds each wheel exactly as portable as its file name claims.

pip trusts the platform tags in a wheel's file name; a wheel that says manylinux_2_17 but calls a
glibc 2.34 symbol installs on an older distribution and fails at import. `auditwheel show`
reads the binary (its versioned symbols and linked libraries) and names the one tag it earns.

Usage: check_wheel_tag.py WHEEL...
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


def check(wheel: Path) -> str | None:
    run = subprocess.run(
        [sys.executable, "-m", "auditwheel", "show", "--json", str(wheel)], capture_output=True, text=True
    )
    if run.returncode != 0:
        return f"{wheel.name}: auditwheel show failed: {run.stderr.strip()}"
    report = json.loads(run.stdout)
    tag, claims = report["overall_tag"], claimed(wheel)
    if claims != {tag}:
        return f"{wheel.name}: the file name claims {', '.join(sorted(claims))}, auditwheel finds {tag}"
    print(f"{wheel.name}: {tag}, as its name says")
    return None


def main(argv: list[str]) -> int:
    if not argv:
        sys.exit(__doc__)
    errors = [e for e in (check(Path(w)) for w in argv) if e]
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
