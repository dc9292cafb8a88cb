"""``slotguard calcom event-types`` and ``slotguard calcom sync`` against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slotguard.testing import CalcomEmulator
from tests.calcom.conftest import CALCOM_TENANTS, SECRETS


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "slotguard.cli", *args]
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        command, capture_output=True, text=True, env={**os.environ, **env}, cwd=cwd, timeout=120
    )


@pytest.fixture
def env(tmp_path: Path, emulator_server: tuple[CalcomEmulator, str]) -> dict[str, str]:
    """A migrated SQLite database with the Cal.com tenant, pointing at the emulator."""
    tenants = tmp_path / "tenants.toml"
    tenants.write_text(CALCOM_TENANTS, encoding="utf-8")
    values = {
        **SECRETS,
        "SLOTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SLOTGUARD_CALCOM_BASE_URL": emulator_server[1],
        "SLOTGUARD_CONFIG": str(tenants),
    }
    assert _cli("migrate", env=values, cwd=tmp_path).returncode == 0
    assert _cli("tenants", "apply", str(tenants), env=values, cwd=tmp_path).returncode == 0
    return values


class TestCalcomCommands:
    """Listing event types and backfilling bookings."""

    def test_event_types(
        self, env: dict[str, str], tmp_path: Path, emulator: CalcomEmulator
    ) -> None:
        """The event types of the company's Cal.com account are listed with id and length."""
        done = _cli("calcom", "event-types", "--company", "salon-cal", env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0].split("\t")[:3] == [
            "1001",
            "30 min",
            "herrenhaarschnitt",
        ]
        assert done.stdout.splitlines()[0].endswith("→ Herrenhaarschnitt")

    def test_sync_twice(
        self, env: dict[str, str], tmp_path: Path, emulator: CalcomEmulator
    ) -> None:
        """Sync mirrors existing bookings once and reports them as known the second time."""
        start = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)
        for offset in range(3):
            emulator.book_directly(start + timedelta(hours=offset), email=f"p{offset}@example.com")
        since = (start - timedelta(days=1)).date().isoformat()
        first = _cli(
            "calcom", "sync", "--company", "salon-cal", "--since", since, env=env, cwd=tmp_path
        )
        second = _cli(
            "calcom", "sync", "--company", "salon-cal", "--since", since, env=env, cwd=tmp_path
        )
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == "salon-cal: 3 bookings: 3 mirrored"
        assert second.stdout.strip() == "salon-cal: 3 bookings: 3 known"

    def test_sync_unknown_company(self, env: dict[str, str], tmp_path: Path) -> None:
        """An unknown company is one error line and exit status 2."""
        done = _cli("calcom", "sync", "--company", "nope", env=env, cwd=tmp_path)
        assert (done.returncode, done.stderr.strip()) == (
            2,
            "slotguard: error: unknown company 'nope'",
        )


class TestLengthCheck:
    """``tenants apply --check-calcom``: a service and its event type last equally long."""

    def test_matching_lengths_apply(
        self, env: dict[str, str], tmp_path: Path, emulator: CalcomEmulator
    ) -> None:
        """30, 60 and 45 minutes on event types of 30, 60 and 45: applied."""
        done = _cli(
            "tenants", "apply", env["SLOTGUARD_CONFIG"], "--check-calcom", env=env, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        assert "unchanged" in done.stdout
        assert emulator.count("GET", "/v2/event-types") == 1

    def test_a_different_length_is_refused(
        self, env: dict[str, str], tmp_path: Path, emulator: CalcomEmulator
    ) -> None:
        """Färben for 50 minutes on a 45-minute event type: nothing applied, the line says why."""
        wrong = tmp_path / "wrong.toml"
        text = CALCOM_TENANTS.replace("duration_minutes = 45", "duration_minutes = 50")
        wrong.write_text(text, encoding="utf-8")
        done = _cli("tenants", "apply", str(wrong), "--check-calcom", env=env, cwd=tmp_path)
        assert done.returncode != 0
        assert "Färben lasts 50 min, its Cal.com event type 1003 45 min" in done.stderr
        assert "nothing applied" in done.stderr
        again = _cli("tenants", "apply", env["SLOTGUARD_CONFIG"], env=env, cwd=tmp_path)
        assert "0 updated" in again.stdout  # the wrong file changed nothing
