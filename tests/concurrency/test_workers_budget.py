"""Four ``slotguard serve`` workers on one PostgreSQL and one Cal.com key: one cache, one budget."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from slotguard.testing import CalcomEmulator
from tests.calcom.conftest import CALCOM_TENANTS, SECRETS, WEBHOOK_SECRET
from tests.concurrency import processes
from tests.signing import function_request

RETELL_KEY = "key_workers_budget"
SLOTS = "/v2/slots"
BERLIN = ZoneInfo("Europe/Berlin")
pytestmark = pytest.mark.slow


def _monday_ahead(weeks: int = 0) -> date:
    day = datetime.now(BERLIN).date() + timedelta(days=10 + 7 * weeks)
    return day - timedelta(days=day.weekday())


def _question(day: date, time: str = "10:00", service: str = "Haarschnitt") -> dict[str, Any]:
    return {"service": service, "date": day.isoformat(), "time": time}


class Workers:
    """Signed Retell calls to a multi-worker server; a fresh connection per call, so the
    kernel spreads them over the workers."""

    def __init__(self, base: str) -> None:
        self.base = base

    async def call(
        self, name: str, args: dict[str, Any], call_id: str, caller: str = "+4915112345678"
    ) -> dict[str, Any]:
        """One function call on a new connection; returns the JSON reply."""
        call = {"call_id": call_id, "agent_id": "agent_cal", "from_number": caller}
        body, headers = function_request(name, call, args, RETELL_KEY)
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=self.base, timeout=60, limits=limits) as client:
            response = await client.post(f"/retell/functions/{name}", content=body, headers=headers)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture
def workers(
    pg_url: str,
    emulator: CalcomEmulator,
    emulator_server: tuple[CalcomEmulator, str],
    tmp_path: Path,
) -> Iterator[Workers]:
    """``slotguard serve --workers 4`` on the emulator (real limit: 120 per 60 s per key)."""
    tenants_file = tmp_path / "tenants.toml"
    tenants_file.write_text(CALCOM_TENANTS, encoding="utf-8")
    env = {
        **SECRETS,
        "SLOTGUARD_RETELL_API_KEY": RETELL_KEY,
        "SLOTGUARD_CALCOM_BASE_URL": emulator_server[1],
        "SLOTGUARD_RECONCILE_INTERVAL_SECONDS": "0",
        "SLOTGUARD_CALENDAR_SYNC_INTERVAL_SECONDS": "0",
        "SLOTGUARD_CALCOM_TIMEOUT_SECONDS": "10",
    }
    log = tmp_path / "serve.log"
    with processes.serve(pg_url, tenants_file, workers=4, env=env, log_file=log) as (base, _p):
        emulator.subscribe_webhook(f"{base}/calcom/webhook/salon-cal", WEBHOOK_SECRET)
        yield Workers(base)
        emulator.webhooks.knobs.hold = True


def _answered(emulator: CalcomEmulator) -> Counter[int | None]:
    return Counter(r.status for r in emulator.request_log)


class TestSharedCache:
    """What one worker learns, every worker knows at once."""

    async def test_identical_questions_on_all_workers_make_one_request(
        self, workers: Workers, emulator: CalcomEmulator
    ) -> None:
        """24 callers at once, spread over four workers: one slots request."""
        day = _monday_ahead()
        replies = await asyncio.gather(
            *(workers.call("check_availability", _question(day), f"q-{i}") for i in range(24))
        )
        assert Counter(r["status"] for r in replies) == {"available": 24}
        assert emulator.count("GET", SLOTS) == 1

    async def test_booked_on_one_worker_is_unavailable_on_every_other(
        self, workers: Workers, emulator: CalcomEmulator
    ) -> None:
        """All workers had the slot cached as free; right after the booking none offers it."""
        day = _monday_ahead()
        before = await asyncio.gather(
            *(workers.call("check_availability", _question(day), f"a-{i}") for i in range(8))
        )
        assert {r["status"] for r in before} == {"available"}
        booked = await workers.call(
            "book_appointment", {"customer_name": "Max Müller", **_question(day)}, "booker"
        )
        assert booked["status"] == "booked", booked
        after = await asyncio.gather(
            *(
                workers.call("check_availability", _question(day), f"b-{i}", f"+49151000000{i:02d}")
                for i in range(16)
            )
        )
        assert Counter((r["status"], r.get("reason")) for r in after) == {
            ("unavailable", "slot_taken"): 16
        }
        assert emulator.count("POST", "/v2/bookings") == 1


class TestOneBudget:
    """Four workers together never exceed Cal.com's 120 requests a minute on one key."""

    async def test_budget_holds_across_four_workers(
        self, workers: Workers, emulator: CalcomEmulator
    ) -> None:
        """Questions about 150 different windows at once, then bookings: no 429, none refused."""
        services = ("Haarschnitt", "Damenhaarschnitt")  # both on a grid that has 10:00 all year
        wishes = [(_monday_ahead(w), s) for w in range(75) for s in services]
        # 24 callers at a time: the machine's PostgreSQL serves other suites' connections too.
        gate = asyncio.Semaphore(24)

        async def ask(i: int, day: date, service: str) -> dict[str, Any]:
            async with gate:
                return await workers.call(
                    "check_availability", _question(day, "10:00", service), f"w-{i}"
                )

        replies = await asyncio.gather(*(ask(i, d, s) for i, (d, s) in enumerate(wishes)))
        bookings = await asyncio.gather(
            *(
                workers.call(
                    "book_appointment",
                    {"customer_name": f"Kunde {i}", **_question(_monday_ahead(i), "15:00")},
                    f"book-{i}",
                    f"+4915122222{i:03d}",
                )
                for i in range(5)
            )
        )
        outcomes = Counter((r["status"], r.get("reason")) for r in replies)
        answered = {"available", "unavailable"}  # unavailable: a holiday far ahead, say
        assert all(s in answered or r == "availability_unknown" for s, r in outcomes), outcomes
        assert outcomes[("available", None)] >= 90  # reads used their share of the minute
        assert [b["status"] for b in bookings] == ["booked"] * 5, bookings
        statuses = _answered(emulator)
        assert 429 not in statuses, statuses
        assert len(emulator.request_log) <= 120
