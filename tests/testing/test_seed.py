"""``slotguard seed``: fast, deterministic data that never breaks the schema's guards."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.store.tables import HOLDS_SLOT_SQL
from slotguard.testing.seed import (
    SPREAD_DAYS,
    STATUS_MIX,
    ZONES,
    DatabaseNotEmpty,
    SeedPlan,
    fill,
)
from tests import databases
from tests import factories as f

NOW = datetime(2026, 11, 28, tzinfo=UTC)
SMALL = SeedPlan(companies=6, customers=120, appointments=1_200, seed=7, now=NOW)
HELD_SPANS = (
    "SELECT customer_id, starts_at, ends_at FROM appointments "  # noqa: S608 - constant SQL
    f"WHERE {HOLDS_SLOT_SQL} ORDER BY customer_id, starts_at"
)
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


async def _rows(engine: AsyncEngine, query: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(query))]


async def _count(engine: AsyncEngine, table: str) -> int:
    [(count,)] = await _rows(engine, f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - own names
    return int(count)


def _aware(value: object) -> datetime:
    """SQLite hands back naive UTC text or datetimes; PostgreSQL aware datetimes."""
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


class TestFill:
    """``fill`` writes the planned rows, deterministically, within the schema's guards."""

    async def test_writes_the_planned_counts(self, engine: AsyncEngine) -> None:
        """The report and the tables agree with the plan, including a few decision rows."""
        report = await fill(engine, SMALL)
        assert (report.companies, report.customers, report.appointments) == (6, 120, 1_200)
        assert await _count(engine, "companies") == 6
        assert await _count(engine, "customers") == 120
        assert await _count(engine, "appointments") == 1_200
        assert await _count(engine, "services") == report.services
        assert await _count(engine, "duplicate_decisions") == report.decisions >= 1

    async def test_same_seed_gives_same_rows(self, engine: AsyncEngine) -> None:
        """Filling an emptied database again with the same plan reproduces every row."""
        query = (
            "SELECT id, customer_id, service_id, starts_at, status FROM appointments ORDER BY id"
        )
        await fill(engine, SMALL)
        first = await _rows(engine, query)
        await databases.truncate_all(engine)
        await fill(engine, SMALL)
        assert await _rows(engine, query) == first

    async def test_slot_holding_appointments_never_overlap(self, engine: AsyncEngine) -> None:
        """No customer has two active appointments sharing an instant (back-to-back is fine)."""
        await fill(engine, SMALL)
        spans: dict[object, list[tuple[datetime, datetime]]] = {}
        for customer, start, end in await _rows(engine, HELD_SPANS):
            spans.setdefault(customer, []).append((_aware(start), _aware(end)))
        for held in spans.values():
            for (_, end), (next_start, _) in itertools.pairwise(held):
                assert end <= next_start

    async def test_status_mix_is_realistic(self, engine: AsyncEngine) -> None:
        """Each status is within three points of its share in STATUS_MIX."""
        await fill(engine, SMALL)
        counts = Counter(
            {
                s: n
                for s, n in await _rows(
                    engine, "SELECT status, COUNT(*) FROM appointments GROUP BY status"
                )
            }
        )
        for status, percent in STATUS_MIX.items():
            assert abs(100 * counts[status.value] / 1_200 - percent) <= 3, status

    async def test_times_and_services_are_plausible(self, engine: AsyncEngine) -> None:
        """Starts lie within ±180 days of now; companies offer 3–6 services of 15–120 minutes."""
        await fill(engine, SMALL)
        [(first, last)] = await _rows(
            engine, "SELECT MIN(starts_at), MAX(starts_at) FROM appointments"
        )
        window = timedelta(days=SPREAD_DAYS + 1)
        assert NOW - window <= _aware(first) and _aware(last) <= NOW + window
        per_company = await _rows(
            engine,
            "SELECT COUNT(*), MIN(duration_minutes), MAX(duration_minutes) FROM services "
            "GROUP BY company_id",
        )
        for count, shortest, longest in per_company:
            assert 3 <= count <= 6
            assert shortest >= 15 and longest <= 120

    async def test_companies_mix_zones_and_phones_are_e164(self, engine: AsyncEngine) -> None:
        """Six companies cover all six zones; known phone numbers are E.164, unique per company."""
        await fill(engine, SMALL)
        zones = {zone for (zone,) in await _rows(engine, "SELECT timezone FROM companies")}
        assert zones == {zone for zone, _language, _prefix in ZONES}
        phones = await _rows(
            engine, "SELECT company_id, phone_e164 FROM customers WHERE phone_e164 IS NOT NULL"
        )
        assert all(E164.match(str(phone)) for _company, phone in phones)
        assert len(set(phones)) == len(phones)

    async def test_references_stay_within_company(self, engine: AsyncEngine) -> None:
        """Every appointment's customer and service belong to the appointment's company."""
        await fill(engine, SMALL)
        stray = await _rows(
            engine,
            "SELECT COUNT(*) FROM appointments a "
            "LEFT JOIN customers c ON c.id = a.customer_id AND c.company_id = a.company_id "
            "LEFT JOIN services s ON s.id = a.service_id AND s.company_id = a.company_id "
            "WHERE c.id IS NULL OR s.id IS NULL",
        )
        assert stray == [(0,)]

    async def test_refuses_a_database_with_appointments(self, engine: AsyncEngine) -> None:
        """A second fill without ``append`` is refused and writes nothing."""
        await fill(engine, SMALL)
        with pytest.raises(DatabaseNotEmpty):
            await fill(engine, SMALL)
        assert await _count(engine, "companies") == 6

    async def test_append_adds_rows_after_existing_ids(self, engine: AsyncEngine) -> None:
        """Appending adds fresh companies and ids, and later ordinary inserts still get new ids."""
        await fill(engine, SMALL)
        await fill(engine, SMALL, append=True)
        assert await _count(engine, "appointments") == 2_400
        assert await _count(engine, "companies") == 12
        company = await f.add(engine, f.company())
        customer = await f.add(engine, f.customer(company.id))
        assert customer.id == 241

    async def test_progress_reports_every_tenth(self, engine: AsyncEngine) -> None:
        """Appointments report progress ten times, with a rate, and the run ends with ANALYZE."""
        lines: list[str] = []
        await fill(engine, SMALL, progress=lines.append)
        ticks = [line for line in lines if line.startswith("appointments:")]
        assert len(ticks) == 10
        assert ticks[-1].startswith("appointments: 1,200/1,200 (100%)")
        assert lines[-1] == "analyzing …"

    def test_plan_refuses_impossible_sizes(self) -> None:
        """More companies than customers, or over 100 appointments per customer, is refused."""
        with pytest.raises(ValueError, match="customers ≥ companies"):
            SeedPlan(companies=5, customers=4, appointments=0, now=NOW)
        with pytest.raises(ValueError, match="per customer"):
            SeedPlan(companies=1, customers=1, appointments=101, now=NOW)


def _cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from slotguard.cli.main import main; main()", "seed"]
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [*command, *args, "--database-url", url, "--now", "2026-11-28T00:00:00+00:00"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )


class TestSeedCommand:
    """``slotguard seed`` fills a database, reports on stderr and refuses a filled one."""

    def test_seeds_postgres_then_refuses_then_appends(self, pg_engine: AsyncEngine) -> None:
        """Seeds via COPY, exits 2 on a second run, and adds rows with ``--append``."""
        url = pg_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        sizes = ("--companies", "3", "--customers", "30", "--appointments", "300")
        first = _cli(*sizes, url=url)
        assert first.returncode == 0, first.stderr
        assert "3 companies" in first.stdout and "300 appointments" in first.stdout
        assert "appointments: 300/300 (100%)" in first.stderr
        again = _cli(*sizes, url=url)
        assert again.returncode == 2
        assert again.stderr.strip() == (
            "slotguard: error: appointments is not empty; pass --append to add rows"
        )
        assert _cli(*sizes, "--append", url=url).returncode == 0

    def test_seeds_sqlite(self, tmp_path: Path) -> None:
        """On SQLite the same command fills a migrated file with batched inserts."""
        url = databases.sqlite_url(tmp_path)
        databases.migrate(url)
        done = _cli("--companies", "2", "--customers", "10", "--appointments", "50", url=url)
        assert done.returncode == 0, done.stderr
        assert "50 appointments" in done.stdout
