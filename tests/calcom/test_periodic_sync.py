"""The periodic sync finds what a lost webhook hid, inside the budget, once per interval."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
from pydantic import SecretStr

from slotguard.api import create_app
from slotguard.booking import periodic_sync
from slotguard.runtime import open_context
from slotguard.store.calcom_state import SyncRepository
from slotguard.store.db import session_factory
from slotguard.testing import serve_in_thread
from tests.calcom.conftest import Stack
from tests.calcom.test_slot_cache import a_monday_ahead, at, question

ADMIN_TOKEN = "admin-token-sync-0123456789abcdef"
LIST = "/v2/bookings"


async def _lost_website_booking(stack: Stack) -> None:
    """A caller asks (the window is cached), then a website booking's webhook is lost."""
    day = a_monday_ahead()
    assert (await stack.call("check_availability", question(day)))["status"] == "available"
    stack.emulator.webhooks.knobs.drop = True
    stack.emulator.book_directly(at(day, 10), name="Website Kundin", email="web@example.com")


class TestPeriodicSync:
    """What the sync mirrors, every worker knows at once; two processes do not both run it."""

    async def test_sync_mirrors_a_lost_webhook_booking(self, stack: Stack) -> None:
        """After the sync the slot is unavailable and the salon sees the booking."""
        await _lost_website_booking(stack)
        async with open_context(stack.settings) as ctx:
            done = await periodic_sync.run_due(ctx, interval=300, days=60)
        assert done == {"salon-cal": "ok"}
        reply = await stack.call("check_availability", question(a_monday_ahead()), "later")
        assert (reply["status"], reply["reason"]) == ("unavailable", "slot_taken"), reply
        [row] = await stack.appointments()
        assert (row.status, row.source) == ("booked", "webhook")
        async with session_factory(stack.engine)() as session:
            sync = await SyncRepository(session).last_run(row.company_id)
        assert sync is not None and sync.last_outcome == "ok"
        assert sync.last_findings == {"mirrored": 1}

    async def test_two_processes_one_run_per_interval(self, stack: Stack) -> None:
        """Two contexts (as two workers) ask at once: one sync, one listing of Cal.com."""
        await _lost_website_booking(stack)
        before = stack.emulator.count("GET", LIST)
        async with open_context(stack.settings) as one, open_context(stack.settings) as two:
            results = await asyncio.gather(
                periodic_sync.run_due(one, interval=300, days=60),
                periodic_sync.run_due(two, interval=300, days=60),
            )
            again = await periodic_sync.run_due(one, interval=300, days=60)
        assert sorted(len(r) for r in results) == [0, 1]
        assert again == {}  # not due before the interval ended
        assert stack.emulator.count("GET", LIST) - before == 1

    async def test_sync_yields_when_the_key_is_busy(self, stack: Stack) -> None:
        """With half the key's minute spent by calls, the sync waits; nothing is mirrored yet."""
        await _lost_website_booking(stack)
        for i in range(60):  # 60 questions about 60 different windows: 60 lookups
            args = question(a_monday_ahead() + timedelta(weeks=i + 1))
            await stack.call("check_availability", args, f"busy-{i}", f"+49151333{i:04d}")
        async with open_context(stack.settings) as ctx:
            done = await periodic_sync.run_due(ctx, interval=300, days=60)
        assert done == {"salon-cal": "deferred"}
        assert await stack.appointments() == []

    async def test_serve_runs_it_and_shows_it(self, stack: Stack) -> None:
        """``serve`` with the sync on: metrics and the dashboard show the last run's findings."""
        await _lost_website_booking(stack)
        settings = stack.settings.model_copy(
            update={"calendar_sync_interval_seconds": 8, "admin_token": SecretStr(ADMIN_TOKEN)}
        )
        with serve_in_thread(create_app(settings)) as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                deadline = time.monotonic() + 60
                while not await stack.appointments():
                    assert time.monotonic() < deadline, "the sync did not run"
                    await asyncio.sleep(0.1)
                await asyncio.sleep(0.3)  # its run is recorded right after the booking
                metrics = (await client.get("/metrics")).text
                login = await client.post("/dashboard/login", data={"token": ADMIN_TOKEN})
                assert login.status_code in (200, 303)
                page = (await client.get("/dashboard/companies/salon-cal")).text
        assert 'slotguard_calendar_sync_runs_total{company="salon-cal",outcome="ok"}' in metrics
        assert (
            'slotguard_calendar_sync_findings_total{company="salon-cal",kind="mirrored"} 1.0'
            in metrics
        )
        assert 'data-sync="outcome">ok<' in page
        assert 'data-sync="findings">mirrored 1<' in page
