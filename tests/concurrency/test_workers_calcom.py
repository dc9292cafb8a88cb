"""Four worker processes on PostgreSQL against the Cal.com emulator: count creates and rows."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.store.db import session_factory
from slotguard.store.tables import AppointmentRow
from slotguard.testing import CalcomEmulator
from tests.calcom.conftest import CALCOM_TENANTS, SECRETS, WEBHOOK_SECRET
from tests.concurrency import processes
from tests.signing import function_request

RETELL_KEY = "key_workers"
CALLER = "+4915112345678"
ARGS = {"customer_name": "Max", "service": "Haarschnitt", "date": "2027-02-05", "time": "10:00"}
pytestmark = pytest.mark.slow


def _env(emulator_url: str) -> dict[str, str]:
    return {
        **SECRETS,
        "SLOTGUARD_RETELL_API_KEY": RETELL_KEY,
        "SLOTGUARD_CALCOM_BASE_URL": emulator_url,
        "SLOTGUARD_RECONCILE_INTERVAL_SECONDS": "0",
        "SLOTGUARD_CALENDAR_SYNC_INTERVAL_SECONDS": "0",
        "SLOTGUARD_CALCOM_TIMEOUT_SECONDS": "3",
    }


async def _call(
    client: httpx.AsyncClient, call_id: str, args: dict[str, Any] = ARGS
) -> dict[str, Any]:
    call = {"call_id": call_id, "agent_id": "agent_cal", "from_number": CALLER}
    body, headers = function_request("book_appointment", call, args, RETELL_KEY)
    response = await client.post(
        "/retell/functions/book_appointment", content=body, headers=headers
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def _rows(engine: AsyncEngine) -> list[AppointmentRow]:
    async with session_factory(engine)() as s:
        return list(await s.scalars(select(AppointmentRow).order_by(AppointmentRow.id)))


@pytest.fixture
def tenants_file(tmp_path: Path) -> Path:
    """The Cal.com tenant as a file for ``slotguard serve``."""
    path = tmp_path / "tenants.toml"
    path.write_text(CALCOM_TENANTS, encoding="utf-8")
    return path


@pytest.fixture
def workers(
    pg_url: str,
    pg_engine: AsyncEngine,
    emulator: CalcomEmulator,
    emulator_server: tuple[CalcomEmulator, str],
    tenants_file: Path,
    tmp_path: Path,
) -> Iterator[str]:
    """``slotguard serve --workers 4`` whose Cal.com is the emulator (webhooks back to it)."""
    env = _env(emulator_server[1])
    with processes.serve(
        pg_url, tenants_file, workers=4, env=env, log_file=tmp_path / "serve.log"
    ) as (base, _p):
        emulator.subscribe_webhook(f"{base}/calcom/webhook/salon-cal", WEBHOOK_SECRET)
        yield base
        emulator.webhooks.knobs.hold = True


class TestFourWorkersCalcom:
    """The Done-when counts of race-free booking."""

    async def test_fifty_calls_one_create(
        self, workers: str, emulator: CalcomEmulator, pg_engine: AsyncEngine
    ) -> None:
        """50 parallel bookings of one caller's slot: one booked, one Cal.com create, one row."""
        async with httpx.AsyncClient(base_url=workers, timeout=60) as client:
            replies = await asyncio.gather(*(_call(client, f"k-{i}") for i in range(50)))
        statuses = Counter((r["status"], r.get("reason")) for r in replies)
        assert statuses == {("booked", None): 1, ("refused", "exact_duplicate"): 49}, statuses
        assert emulator.count("POST", "/v2/bookings") == 1
        assert [r.status for r in await _rows(pg_engine)] == ["booked"]

    async def test_twenty_repeats_one_create(
        self, workers: str, emulator: CalcomEmulator, pg_engine: AsyncEngine
    ) -> None:
        """20 parallel repeats of one call (slow Cal.com): identical replies, one create."""
        emulator.faults.set_latency(300, route="POST /v2/bookings")
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=workers, timeout=60, limits=limits) as client:
            replies = await asyncio.gather(*(_call(client, "same") for _ in range(20)))
        assert all(r == replies[0] for r in replies) and replies[0]["status"] == "booked"
        assert emulator.count("POST", "/v2/bookings") == 1
        assert len(await _rows(pg_engine)) == 1

    async def test_overlapping_services_at_most_one(
        self, workers: str, emulator: CalcomEmulator, pg_engine: AsyncEngine
    ) -> None:
        """Parallel overlapping requests of one caller for different services: one booked."""
        wishes = [
            {**ARGS, "service": "Färben", "time": "10:00", "confirm_duplicate": True},
            {**ARGS, "service": "Damenhaarschnitt", "time": "10:15", "confirm_duplicate": True},
            {**ARGS, "service": "Haarschnitt", "time": "10:30", "confirm_duplicate": True},
        ] * 4
        async with httpx.AsyncClient(base_url=workers, timeout=60) as client:
            replies = await asyncio.gather(
                *(_call(client, f"o-{i}", w) for i, w in enumerate(wishes))
            )
        assert Counter(r["status"] for r in replies)["booked"] == 1
        assert emulator.count("POST", "/v2/bookings") == 1


class TestCrash:
    """SIGKILL after Cal.com made the booking, before we recorded it."""

    async def test_sigkill_then_reconcile(
        self,
        pg_url: str,
        pg_engine: AsyncEngine,
        emulator: CalcomEmulator,
        emulator_server: tuple[CalcomEmulator, str],
        tenants_file: Path,
        tmp_path: Path,
    ) -> None:
        """The server dies mid-request; after restart the reconciler settles one appointment."""
        env = _env(emulator_server[1])
        emulator.webhooks.knobs.drop = True  # Cal.com's webhook is lost too
        emulator.faults.timeout_after_commit(seconds=8)
        log = tmp_path / "crash.log"
        with processes.serve(pg_url, tenants_file, workers=1, env=env, log_file=log) as (
            base,
            process,
        ):
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                request = asyncio.create_task(_call(client, "crash"))
                for _ in range(200):  # up to 10 s for the create to reach Cal.com
                    if emulator.bookings:
                        break
                    await asyncio.sleep(0.05)
                assert len(emulator.bookings) == 1
                processes.stop(process, signal.SIGKILL)
                with pytest.raises(httpx.HTTPError):
                    await request
        [row] = await _rows(pg_engine)
        assert row.status == "pending"
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "slotguard.cli", "reconcile", "--grace", "0"],
            env=_full_env(pg_url, tenants_file, env),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "settled 1 booked" in done.stdout
        [row] = await _rows(pg_engine)
        assert (row.status, row.calcom_booking_uid) == ("booked", emulator.bookings[0].uid)
        assert emulator.count("POST", "/v2/bookings") == 1


def _full_env(pg_url: str, tenants_file: Path, env: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        **env,
        "SLOTGUARD_DATABASE_URL": pg_url,
        "SLOTGUARD_CONFIG": str(tenants_file),
    }
