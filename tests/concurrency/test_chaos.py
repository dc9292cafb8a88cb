"""The chaos harness in its short form: duplicate patterns under injected Cal.com faults.

``bench.chaos`` starts its own database, emulator and ``slotguard serve`` processes; these
tests call its async entry point and assert the invariants it checks: no duplicate booking
in Cal.com, no duplicate appointment locally, no booking lost, nothing left pending.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from bench import chaos

from tests import databases

pytestmark = pytest.mark.slow


async def _chaos(tmp_path: Path, **options: Any) -> dict[str, Any]:
    """Run the harness (fast pace) with its logs in ``tmp_path``; return its report."""

    def say(line: str) -> None:
        print(f"[chaos] {line}", file=sys.stderr)

    try:
        return await chaos.run(chaos.Options(fast=True, workdir=tmp_path, **options), say)
    except databases.PostgresUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")


def _assert_invariants(report: dict[str, Any]) -> None:
    invariants = report["invariants"]
    assert report["violations"] == [], report["violations"]
    assert invariants["calcom_duplicates"] == 0
    assert invariants["local_duplicates"] == 0
    assert invariants["lost_bookings"] == 0
    assert invariants["local_rows_without_calcom_booking"] == 0
    assert invariants["pending_left"] == 0
    assert invariants["webhook_events_failed"] == 0
    assert report["http_errors"] == 0
    # What slotguard made holds before the final sync too (production runs none).
    assert all(n == 0 for n in report["invariants_before_sync"].values()), report
    assert report["failed_after_pending"]["failed_slot_free"] == 0, report["failed_after_pending"]
    assert report["calcom"]["reservations_booked_more_than_once"] == 0


class TestChaosPostgres:
    """Two worker processes on PostgreSQL."""

    async def test_two_hundred_calls(self, tmp_path: Path) -> None:
        """200 calls with every duplicate pattern and fault: no duplicate, nothing lost."""
        report = await _chaos(tmp_path, calls=200, seed=11)
        _assert_invariants(report)
        assert report["replies"]["book_appointment"].get("booked", 0) > 50


class TestChaosSqlite:
    """One worker process on a SQLite file."""

    async def test_one_hundred_calls(self, tmp_path: Path) -> None:
        """100 calls with every duplicate pattern and fault: no duplicate, nothing lost."""
        report = await _chaos(tmp_path, calls=100, seed=12, sqlite=True)
        _assert_invariants(report)
