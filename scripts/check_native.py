"""Fails unless each native library is built for the platform it is shipped as.

The npm platform packages and the jar's JNA directories are chosen by name (`linux-arm64-musl`,
`linux-aarch64`); nothing checks the binary behind the name when a user installs it. A library
for the wrong CPU or libc fails at load time, and one that calls a newer glibc symbol than the
oldest supported distribution has fails there only. This reads the ELF file itself: its
machine, the C library it links, and the newest glibc symbol version it needs (at most 2.17,
the manylinux2014 baseline the Python wheels also meet, for `-gnu`; none for `-musl`).

Usage: check_native.py FILE=TRIPLE...   (TRIPLE like aarch64-unknown-linux-musl)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

MACHINES = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64"}
GLIBC_MAX = (2, 17)
# What a Linux shared library may link beyond itself: the C runtime, present on every system.
GNU_LIBS = {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libgcc_s.so.1"}
GNU_LOADERS = {"ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}
MUSL_LIBS = {"libc.so", "libgcc_s.so.1"}


def inspect(path: Path) -> tuple[str, set[str], tuple[int, int] | None]:
    with path.open("rb") as f:
        elf = ELFFile(f)
        needed: set[str] = set()
        newest: tuple[int, int] | None = None
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                needed |= {t.needed for t in section.iter_tags() if t.entry.d_tag == "DT_NEEDED"}
            elif isinstance(section, GNUVerNeedSection):
                for _, auxiliaries in section.iter_versions():
                    for aux in auxiliaries:
                        m = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)?", aux.name)
                        if m:
                            version = (int(m.group(1)), int(m.group(2)))
                            newest = version if newest is None else max(newest, version)
        return elf["e_machine"], needed, newest


def check(path: Path, triple: str) -> str | None:
    arch, *_, libc = triple.split("-")
    if arch not in MACHINES or libc not in ("gnu", "musl"):
        return f"{path}: unsupported target {triple}"
    if not path.is_file():
        return f"{path}: missing"
    machine, needed, newest = inspect(path)
    if machine != MACHINES[arch]:
        return f"{path}: built for {machine}, shipped as {triple}"
    if libc == "gnu":
        extra = needed - GNU_LIBS - GNU_LOADERS
        if "libc.so.6" not in needed or extra:
            return f"{path}: links {', '.join(sorted(needed))}; a {triple} library links glibc only"
        if newest is not None and newest > GLIBC_MAX:
            return f"{path}: needs glibc {newest[0]}.{newest[1]}, above the {GLIBC_MAX[0]}.{GLIBC_MAX[1]} baseline"
        found = f"glibc {newest[0]}.{newest[1]}" if newest else "glibc"
    else:
        extra = needed - MUSL_LIBS
        if "libc.so" not in needed or extra or newest is not None:
            return f"{path}: links {', '.join(sorted(needed))}; a {triple} library links musl's libc.so only"
        found = "musl"
    print(f"{path.name}: {arch}, {found}, as {triple}")
    return None


def main(argv: list[str]) -> int:
    if not argv or any("=" not in a for a in argv):
        sys.exit(__doc__)
    errors = [e for e in (check(Path(f), t) for f, t in (a.rsplit("=", 1) for a in argv)) if e]
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
