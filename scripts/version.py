#!/usr/bin/env python3
"""The one version of all three packages: the Cargo workspace's `version`. Every other manifest
(the Python package, the npm package and its platform packages, the Kotlin pom) carries a copy
that `set` writes and `check` compares, so a release bumps them together.

Usage: version.py check [--tag vX.Y.Z]   exit 1 naming every manifest that disagrees
       version.py set X.Y.Z             write X.Y.Z everywhere (Cargo.lock included)
"""

import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")

# (file, pattern whose group 1 is the version); the first is the source of truth.
TOML_VERSION = re.compile(r'^version = "([^"]+)"', re.M)
MANIFESTS = [
    ("Cargo.toml", re.compile(r'^\[workspace\.package\][^\[]*?^version = "([^"]+)"', re.M | re.S)),
    ("python/pyproject.toml", re.compile(r'^\[project\][^\[]*?^version = "([^"]+)"', re.M | re.S)),
    ("kotlin/pom.xml", re.compile(r"<artifactId>mcp-auth</artifactId>\s*<version>([^<]+)</version>")),
]


def npm_manifests():
    yield ROOT / "node/package.json"
    yield from sorted((ROOT / "node/npm").glob("*/package.json"))


def current():
    found = {}
    for rel, pat in MANIFESTS:
        m = pat.search((ROOT / rel).read_text())
        found[rel] = m.group(1) if m else None
    for p in npm_manifests():
        doc = json.loads(p.read_text())
        rel = str(p.relative_to(ROOT))
        found[rel] = doc.get("version")
        for dep, v in doc.get("optionalDependencies", {}).items():
            if dep.startswith("mcp-auth-"):
                found[f"{rel} optionalDependencies.{dep}"] = v
    lock = (ROOT / "Cargo.lock").read_text()
    for name, v in re.findall(r'name = "((?:mcp-auth|mcpauth)[^"]*)"\nversion = "([^"]+)"', lock):
        found[f"Cargo.lock {name}"] = v
    return found


def check(tag=None):
    found = current()
    want = found["Cargo.toml"]
    bad = {k: v for k, v in found.items() if v != want}
    if tag is not None and tag != f"v{want}":
        bad[f"tag {tag}"] = tag
    for k, v in bad.items():
        print(f"version.py: {k} has {v!r}, Cargo.toml's workspace version is {want!r}", file=sys.stderr)
    return 1 if bad else 0


def set_version(v):
    if not SEMVER.match(v):
        sys.exit(f"version.py: {v!r} is not a version (X.Y.Z or X.Y.Z-pre)")
    for rel, pat in MANIFESTS:
        p = ROOT / rel
        text = p.read_text()
        m = pat.search(text)
        start, end = m.span(1)
        p.write_text(text[:start] + v + text[end:])
    for p in npm_manifests():
        doc = json.loads(p.read_text())
        doc["version"] = v
        for dep in doc.get("optionalDependencies", {}):
            if dep.startswith("mcp-auth-"):
                doc["optionalDependencies"][dep] = v
        p.write_text(json.dumps(doc, indent=2) + "\n")
    lock = ROOT / "Cargo.lock"
    lock.write_text(re.sub(r'(name = "(?:mcp-auth|mcpauth)[^"]*"\nversion = ")[^"]+"', rf'\g<1>{v}"', lock.read_text()))
    return check()


def main(argv):
    if argv[:1] == ["check"] and len(argv) in (1, 3) and (len(argv) == 1 or argv[1] == "--tag"):
        return check(argv[2] if len(argv) == 3 else None)
    if argv[:1] == ["set"] and len(argv) == 2:
        return set_version(argv[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
