"""slotguard and the Cal.com emulator, both real HTTP servers on loopback, on a real database."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard import tenants
from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.store.companies import CompanyRepository
from slotguard.store.db import session_factory
from slotguard.store.tables import AppointmentRow
from slotguard.testing import CalcomEmulator, EmulatorConfig, serve_in_thread
from slotguard.testing.calcom_emulator import DEFAULT_API_KEY
from tests.signing import function_request

RETELL_KEY = "key_test_retell_calcom"
WEBHOOK_SECRET = "whsec_salon_cal_0123"
CALLER = "+4915112345678"
# The Cal.com client's timeout in these tests: short, so timeout faults end quickly.
CALCOM_TIMEOUT = 2.0

CALCOM_TENANTS = """
[[companies]]
slug = "salon-cal"
name = "Salon Cal"
timezone = "Europe/Berlin"
language = "de"
retell_agent_ids = ["agent_cal"]
calendar = "calcom"
calcom_api_key_env = "CALCOM_KEY_SALON_CAL"
calcom_webhook_secret_env = "CALCOM_SECRET_SALON_CAL"

[companies.opening_hours]
mon = "00:00-24:00"
tue = "00:00-24:00"
wed = "00:00-24:00"
thu = "00:00-24:00"
fri = "00:00-24:00"
sat = "00:00-24:00"
sun = "00:00-24:00"

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
SECRETS = {"CALCOM_KEY_SALON_CAL": DEFAULT_API_KEY, "CALCOM_SECRET_SALON_CAL": WEBHOOK_SECRET}


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[tuple[CalcomEmulator, str]]:
    """One Cal.com emulator for the session (reset before every test)."""
    emulator = CalcomEmulator(EmulatorConfig())
    with serve_in_thread(emulator.app) as url:
        yield emulator, url


@pytest.fixture
def emulator(emulator_server: tuple[CalcomEmulator, str]) -> CalcomEmulator:
    """The emulator, emptied: no bookings, requests, faults or subscribers."""
    emulator, _url = emulator_server
    emulator.reset()
    return emulator


@dataclass
class Stack:
    """The running slotguard, its emulator and a signed Retell client."""

    base: str
    emulator: CalcomEmulator
    emulator_url: str
    client: httpx.AsyncClient
    engine: AsyncEngine
    settings: Settings

    async def call(
        self, name: str, args: dict[str, Any], call_id: str = "call_1", caller: str = CALLER
    ) -> dict[str, Any]:
        """A signed Retell function call; returns the JSON reply."""
        call = {"call_id": call_id, "agent_id": "agent_cal", "from_number": caller}
        body, headers = function_request(name, call, args, RETELL_KEY)
        response = await self.client.post(
            f"/retell/functions/{name}", content=body, headers=headers
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def creates(self) -> int:
        """How many POST /v2/bookings reached the emulator."""
        return self.emulator.count("POST", "/v2/bookings")

    async def appointments(self, *statuses: str) -> list[AppointmentRow]:
        """Local appointment rows, optionally of the given statuses."""
        async with session_factory(self.engine)() as s:
            query = select(AppointmentRow).order_by(AppointmentRow.id)
            if statuses:
                query = query.where(AppointmentRow.status.in_(statuses))
            return list(await s.scalars(query))

    async def count_active(self) -> int:
        """Appointments holding a slot."""
        async with session_factory(self.engine)() as s:
            query = (
                select(func.count())
                .select_from(AppointmentRow)
                .where(
                    AppointmentRow.status.in_(["pending", "booked", "scheduled", "confirmed"]),
                    AppointmentRow.duplicate_of_id.is_(None),
                )
            )
            return int(await s.scalar(query) or 0)

    async def deliveries(self, count: int, seconds: float = 10.0) -> None:
        """Wait until ``count`` webhook deliveries finished."""
        deadline = time.monotonic() + seconds
        while (
            len(
                [
                    d
                    for d in self.emulator.webhooks.deliveries
                    if d.outcome in ("delivered", "failed")
                ]
            )
            < count
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("webhook deliveries did not finish")
            await asyncio.sleep(0.02)


async def apply_calcom_tenants(engine: AsyncEngine) -> None:
    """Load CALCOM_TENANTS into the database."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "tenants.toml"
        path.write_text(CALCOM_TENANTS, encoding="utf-8")
        spec = tenants.load(path, SECRETS)
    async with session_factory(engine)() as session, session.begin():
        await CompanyRepository(session).apply_tenants(spec)


@pytest.fixture
async def stack(
    db_url: str,
    engine: AsyncEngine,
    emulator: CalcomEmulator,
    emulator_server: tuple[CalcomEmulator, str],
) -> AsyncIterator[Stack]:
    """slotguard served on loopback against the emulator, which delivers webhooks back to it."""
    os.environ.update(SECRETS)
    await apply_calcom_tenants(engine)
    settings = Settings(
        database_url=db_url,
        retell_api_key=RETELL_KEY,
        calcom_base_url=emulator_server[1],
        calcom_timeout_seconds=CALCOM_TIMEOUT,
        reconcile_interval_seconds=0,
        calendar_sync_interval_seconds=0,  # tests of the periodic sync start it themselves
    )
    with serve_in_thread(create_app(settings)) as base:
        emulator.subscribe_webhook(f"{base}/calcom/webhook/salon-cal", WEBHOOK_SECRET)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield Stack(base, emulator, emulator_server[1], client, engine, settings)
        emulator.webhooks.knobs.hold = True  # nothing more may arrive while we stop
