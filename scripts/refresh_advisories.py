"""Rebuild security/advisories.json from a checkout of the PyPA advisory database.

    git clone --depth 1 https://github.com/pypa/advisory-database /tmp/advisory-database
    .venv/bin/python scripts/refresh_advisories.py /tmp/advisory-database

Keeps the advisories of every package named in requirements.lock and requirements-dev.lock
(so `make audit` can run with no network), and records which packages were looked up, the
database's commit and its date. See SECURITY.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from audit_deps import LOCKS, OUTPUT, locked, normalise  # noqa: E402


def _ranges(affected: dict[str, object]) -> list[dict[str, str]]:
    spans = []
    for entry in affected.get("ranges") or []:  # type: ignore[union-attr]
        if entry.get("type") != "ECOSYSTEM":
            continue
        span: dict[str, str] = {}
        for event in entry.get("events") or []:
            for kind in ("introduced", "fixed", "last_affected"):
                if kind in event:
                    if kind == "introduced" and span:
                        spans.append(span)
                        span = {}
                    span[kind] = str(event[kind])
        if span:
            spans.append(span)
    return spans


def main(checkout: Path) -> None:
    """Write OUTPUT from ``checkout``."""
    names = sorted({normalise(name) for lock in LOCKS for name in locked(ROOT / lock)})
    packages: dict[str, list[dict[str, object]]] = {}
    for folder in sorted((checkout / "vulns").iterdir()):
        if normalise(folder.name) not in names:
            continue
        for path in sorted(folder.glob("*.yaml")):
            record = yaml.safe_load(path.read_text(encoding="utf-8"))
            for affected in record.get("affected") or []:
                if normalise(affected["package"]["name"]) != normalise(folder.name):
                    continue
                packages.setdefault(normalise(folder.name), []).append(
                    {
                        "id": record["id"],
                        "aliases": record.get("aliases") or [],
                        "summary": (record.get("summary") or record.get("details") or "")[:200],
                        "ranges": _ranges(affected),
                        "versions": [str(v) for v in affected.get("versions") or []],
                    }
                )
    log = ["git", "-C", str(checkout), "log", "-1", "--format=%H %cI"]
    commit, date = subprocess.run(log, capture_output=True, text=True, check=True).stdout.split()  # noqa: S603
    document = {
        "source": "PyPA advisory database (github.com/pypa/advisory-database)",
        "source_commit": commit,
        "source_date": date[:10],
        "generated": datetime.now(UTC).date().isoformat(),
        "looked_up": names,
        "advisories": packages,
    }
    (ROOT / OUTPUT).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    count = sum(len(v) for v in packages.values())
    print(f"{OUTPUT}: {count} advisories for {len(packages)} of {len(names)} packages")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
