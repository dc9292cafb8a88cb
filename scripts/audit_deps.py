"""Offline dependency audit: every pinned package of the locks against security/advisories.json.

    .venv/bin/python scripts/audit_deps.py        (run by `make audit`, part of `make test`)

The advisories file is a dated extract of the PyPA advisory database kept in the repository
(refresh: scripts/refresh_advisories.py, see SECURITY.md). Exit status 1 when a pinned
version is affected; 2 when the audit could not check anything it should have: no packages
read, no advisories file, or a locked package the file never looked up. Only a complete
check prints "no known vulnerability".
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("requirements.lock", "requirements-dev.lock")
OUTPUT = "security/advisories.json"
# Older than this, the audit still runs but says loudly that the data needs a refresh.
STALE_DAYS = 90
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def normalise(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path) -> dict[str, str]:
    """Package → pinned version in one lock file."""
    return {normalise(n): v for n, v in _PIN.findall(path.read_text(encoding="utf-8"))}


def _affected(version: Version, advisory: dict[str, object]) -> bool:
    if str(version) in advisory.get("versions", []):  # type: ignore[operator]
        return True
    for span in advisory.get("ranges", []):  # type: ignore[attr-defined]
        try:
            low = Version(span.get("introduced", "0"))
            if version < low:
                continue
            if "fixed" in span and version < Version(span["fixed"]):
                return True
            if "last_affected" in span and version <= Version(span["last_affected"]):
                return True
            if "fixed" not in span and "last_affected" not in span:
                return True
        except InvalidVersion:
            continue
    return False


def audit(root: Path = ROOT) -> int:
    """Print the findings; return the exit status (0 clean, 1 vulnerable, 2 nothing checked)."""
    try:
        data = json.loads((root / OUTPUT).read_text(encoding="utf-8"))
    except (OSError, ValueError) as problem:
        print(f"audit: FAILED, no advisory data checked: {OUTPUT}: {problem}")
        return 2
    pins = sorted({(n, v) for lock in LOCKS for n, v in locked(root / lock).items()})
    missing = sorted({name for name, _ in pins} - set(data.get("looked_up", [])))
    if not pins or missing:
        what = "no pinned packages found" if not pins else f"never looked up: {', '.join(missing)}"
        print(f"audit: FAILED, incomplete: {what}; refresh {OUTPUT} (SECURITY.md)")
        return 2
    findings = []
    for name, text in pins:
        version = Version(text)
        for advisory in data["advisories"].get(name, []):
            if _affected(version, advisory):
                ids = ", ".join([advisory["id"], *advisory.get("aliases", [])][:3])
                findings.append(f"{name}=={text}: {ids}: {advisory.get('summary', '')[:120]}")
    count = sum(len(v) for v in data["advisories"].values())
    source = f"{data['source']} at {data['source_commit'][:7]}, {data['source_date']}"
    print(f"audit: {len(pins)} pinned versions checked against {count} advisories ({source})")
    age = (datetime.now(UTC).date() - date.fromisoformat(data["source_date"])).days
    if age > STALE_DAYS:
        print(f"audit: WARNING: the advisory data is {age} days old; refresh it (SECURITY.md)")
    for line in findings:
        print(f"audit: VULNERABLE {line}")
    if findings:
        return 1
    print("audit: no known vulnerability in the pinned versions")
    return 0


if __name__ == "__main__":
    sys.exit(audit())
