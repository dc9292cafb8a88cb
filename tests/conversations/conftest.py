"""Whole phone conversations against slotguard and the Cal.com emulator, both on loopback.

The tenant here keeps real opening hours (Mon–Sat 09:00–18:00, closed on Sunday), so the rules
slotguard must check itself are visible. Dates are named relative to today in Berlin, so the
tests pass on every day of the year.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.signing import function_request

from slotguard import tenants
from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.store.companies import CompanyRepository
from slotguard.store.db import session_factory
from slotguard.store.tables import AppointmentRow, CustomerRow
from slotguard.testing import CalcomEmulator, EmulatorConfig, serve_in_thread
from slotguard.testing.calcom_emulator import DEFAULT_API_KEY
from slotguard.testing.calcom_emulator.model import Booking

RETELL_KEY = "key_test_retell_conversations"
WEBHOOK_SECRET = "whsec_salon_talk_0123"
BERLIN = ZoneInfo("Europe/Berlin")
ERIKA_PHONE = "+4915112345678"
OTHER_PHONE = "+4917698765432"
# The Cal.com client's timeout here: short, so timeout faults end quickly.
CALCOM_TIMEOUT = 2.0

TENANTS = """
[[companies]]
slug = "salon-talk"
name = "Salon Talk"
timezone = "Europe/Berlin"
language = "de"
max_appointments_per_day = 3
retell_agent_ids = ["agent_talk"]
calendar = "calcom"
calcom_api_key_env = "CALCOM_KEY_SALON_TALK"
calcom_webhook_secret_env = "CALCOM_SECRET_SALON_TALK"

[companies.opening_hours]
mon = "09:00-18:00"
tue = "09:00-18:00"
wed = "09:00-18:00"
thu = "09:00-18:00"
fri = "09:00-18:00"
sat = "09:00-18:00"

[[companies.services]]
name = "Herrenhaarschnitt"
aliases = ["Haarschnitt"]
duration_minutes = 30
calcom_event_type_id = 1001

[[companies.services]]
name = "Damenhaarschnitt"
duration_minutes = 60
calcom_event_type_id = 1002

[[companies.services]]
name = "Färben"
duration_minutes = 45
calcom_event_type_id = 1003
"""
SECRETS = {"CALCOM_KEY_SALON_TALK": DEFAULT_API_KEY, "CALCOM_SECRET_SALON_TALK": WEBHOOK_SECRET}


def day_ahead(weekday: int, at_least: int = 8) -> date:
    """The first ``weekday`` (0 = Monday) at least ``at_least`` days after today in Berlin."""
    today = datetime.now(BERLIN).date()
    day = today + timedelta(days=at_least)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def local(day: date, hhmm: str) -> datetime:
    """``day`` at ``hhmm`` in Berlin."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


@pytest.fixture(scope="session")
def talk_emulator_server() -> Iterator[tuple[CalcomEmulator, str]]:
    """One Cal.com emulator for these tests (reset before each)."""
    emulator = CalcomEmulator(EmulatorConfig())
    with serve_in_thread(emulator.app) as url:
        yield emulator, url


@dataclass
class Talk:
    """slotguard on loopback, its emulator, and a signed Retell client placing function calls."""

    emulator: CalcomEmulator
    client: httpx.AsyncClient
    engine: AsyncEngine
    settings: Settings
    replies: list[dict[str, Any]] = field(default_factory=list)

    async def say(
        self,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        call_id: str = "call_1",
        caller: str | None = ERIKA_PHONE,
    ) -> dict[str, Any]:
        """One signed function call of call ``call_id`` from ``caller`` (None: withheld)."""
        call = {"call_id": call_id, "agent_id": "agent_talk", "from_number": caller}
        body, headers = function_request(name, call, args or {}, RETELL_KEY)
        response = await self.client.post(
            f"/retell/functions/{name}", content=body, headers=headers
        )
        assert response.status_code == 200, response.text
        reply: dict[str, Any] = response.json()
        self.replies.append(reply)
        return reply

    def creates(self) -> list[dict[str, Any]]:
        """The bodies of every POST /v2/bookings the emulator received, in order."""
        return [r.body for r in self.emulator.request_log if r.route == "POST /v2/bookings"]

    def count(self, route: str) -> int:
        """How many requests of ``route`` (e.g. "POST /v2/bookings/{uid}/cancel") arrived."""
        return sum(1 for r in self.emulator.request_log if r.route == route)

    def active(self) -> list[Booking]:
        """Cal.com's active bookings."""
        return [b for b in self.emulator.bookings if b.status in ("accepted", "pending")]

    async def rows(self, *statuses: str) -> list[AppointmentRow]:
        """Our appointment rows, optionally only of ``statuses``."""
        async with session_factory(self.engine)() as s:
            query = select(AppointmentRow).order_by(AppointmentRow.id)
            if statuses:
                query = query.where(AppointmentRow.status.in_(statuses))
            return list(await s.scalars(query))

    async def customers(self) -> list[CustomerRow]:
        """Every customer row, oldest first."""
        async with session_factory(self.engine)() as s:
            return list(await s.scalars(select(CustomerRow).order_by(CustomerRow.id)))

    async def deliveries(self, count: int, seconds: float = 10.0) -> None:
        """Wait until ``count`` webhook deliveries have finished."""
        deadline = time.monotonic() + seconds
        while (
            sum(
                1 for d in self.emulator.webhooks.deliveries if d.outcome in ("delivered", "failed")
            )
            < count
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("webhook deliveries did not finish")
            await asyncio.sleep(0.02)


async def _apply(engine: AsyncEngine) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "tenants.toml"
        path.write_text(TENANTS, encoding="utf-8")
        spec = tenants.load(path, SECRETS)
    async with session_factory(engine)() as session, session.begin():
        await CompanyRepository(session).apply_tenants(spec)


def talk_settings(db_url: str, emulator_url: str, **overrides: Any) -> Settings:
    """The settings of the served slotguard (reconciler off: tests run it themselves)."""
    values: dict[str, Any] = {
        "database_url": db_url,
        "retell_api_key": RETELL_KEY,
        "calcom_base_url": emulator_url,
        "calcom_timeout_seconds": CALCOM_TIMEOUT,
        "reconcile_interval_seconds": 0,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Extra settings for one test module (override this fixture)."""
    return {}


@pytest.fixture
async def talk(
    db_url: str,
    engine: AsyncEngine,
    talk_emulator_server: tuple[CalcomEmulator, str],
    settings_overrides: dict[str, Any],
) -> AsyncIterator[Talk]:
    """slotguard served on loopback against the emulator, which delivers webhooks back to it."""
    emulator, emulator_url = talk_emulator_server
    emulator.reset()
    os.environ.update(SECRETS)
    await _apply(engine)
    settings = talk_settings(db_url, emulator_url, **settings_overrides)
    with serve_in_thread(create_app(settings)) as base:
        emulator.subscribe_webhook(f"{base}/calcom/webhook/salon-talk", WEBHOOK_SECRET)
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            yield Talk(emulator, client, engine, settings)
        emulator.webhooks.knobs.hold = True  # nothing more may arrive while we stop
