"""The offline dependency audit finds a known advisory and never passes having checked nothing."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", ROOT / "scripts" / "audit_deps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


audit_deps = _module()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the locks and the advisory file to tamper with."""
    for name in (*audit_deps.LOCKS, audit_deps.OUTPUT):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


class TestAudit:
    """scripts/audit_deps.py over the repository's locks and advisory file."""

    def test_repository_is_clean(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Every pinned package is checked and none is affected."""
        assert audit_deps.audit() == 0
        out = capsys.readouterr().out
        assert "pinned versions checked against" in out and "no known vulnerability" in out

    def test_known_vulnerable_pin_fails(
        self, repo: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Jinja2 2.11.2 (PYSEC-2021-66, fixed in 2.11.3) is reported and fails the audit."""
        lock = repo / "requirements.lock"
        text = lock.read_text()
        assert "jinja2==" in text
        pinned = text.split("jinja2==", 1)[1].split()[0]
        lock.write_text(text.replace(f"jinja2=={pinned}", "jinja2==2.11.2"))
        assert audit_deps.audit(repo) == 1
        out = capsys.readouterr().out
        assert "VULNERABLE jinja2==2.11.2: PYSEC-2021-66" in out
        assert "no known vulnerability" not in out

    @pytest.mark.parametrize("damage", ["no-file", "empty-locks", "new-package", "broken-json"])
    def test_nothing_checked_never_passes(
        self, repo: Path, capsys: pytest.CaptureFixture[str], damage: str
    ) -> None:
        """A missing or unreadable file, empty locks or an unlooked-up package exit 2."""
        data = repo / audit_deps.OUTPUT
        if damage == "no-file":
            data.unlink()
        elif damage == "broken-json":
            data.write_text("{")
        elif damage == "empty-locks":
            for name in audit_deps.LOCKS:
                (repo / name).write_text("# nothing pinned\n")
        else:
            lock = repo / "requirements.lock"
            lock.write_text(
                lock.read_text() + "\nbrand-new-package==1.0 \\\n    --hash=sha256:00\n"
            )
        assert audit_deps.audit(repo) == 2
        out = capsys.readouterr().out
        assert "FAILED" in out and "no known vulnerability" not in out
