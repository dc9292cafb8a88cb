"""The salon's rules and staff on a Cal.com company: one rule set, checked before Cal.com.

The emulator hosts a personal event type per stylist (the usual Cal.com setup), so two
callers can be booked at the same time with two people; every request the rules refuse
reaches Cal.com not at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard import tenants
from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.store.companies import CompanyRepository
from slotguard.store.db import session_factory
from slotguard.testing import CalcomEmulator, EmulatorConfig, serve_in_thread
from slotguard.testing.calcom_emulator import DEFAULT_API_KEY
from slotguard.testing.calcom_emulator.config import EventTypeConfig, HostConfig
from tests.signing import function_request

RETELL_KEY = "key_salon_calcom_0123456789"
BERLIN = ZoneInfo("Europe/Berlin")
ANNA = HostConfig(id=2, name="Anna", email="anna@example.com", username="anna")
JONAS = HostConfig(id=3, name="Jonas", email="jonas@example.com", username="jonas")
TODAY = datetime.now(BERLIN).date()
CLOSED_FROM = TODAY + timedelta(days=20)
CLOSED_TO = CLOSED_FROM + timedelta(days=2)

TEAM = f"""
[[companies]]
slug = "salon-team"
name = "Salon Team"
timezone = "Europe/Berlin"
language = "de"
retell_agent_ids = ["agent_team"]
calendar = "calcom"
calcom_api_key_env = "CALCOM_KEY_SALON_TEAM"
calcom_webhook_secret_env = "CALCOM_SECRET_SALON_TEAM"
notice_minutes = 120
horizon_days = 90
grid_minutes = 15
public_holidays = "DE-BY"
closures = [{{ from = {CLOSED_FROM.isoformat()}, to = {CLOSED_TO.isoformat()}, label = "Umbau" }}]
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

[[companies.staff]]
name = "Anna"
calcom_event_type_ids = {{ "Herrenhaarschnitt" = 2001 }}

[[companies.staff]]
name = "Jonas"
calcom_event_type_ids = {{ "Herrenhaarschnitt" = 3001 }}
"""
SECRETS = {"CALCOM_KEY_SALON_TEAM": DEFAULT_API_KEY, "CALCOM_SECRET_SALON_TEAM": "whsec_team"}


def _open_day(after: date) -> date:
    """The first weekday (Monday–Saturday) after ``after`` that is no holiday or closure."""
    bavaria = holidays.country_holidays("DE", subdiv="BY")
    day = after + timedelta(days=1)
    while day.weekday() == 6 or day in bavaria or CLOSED_FROM <= day <= CLOSED_TO:
        day += timedelta(days=1)
    return day


def _holiday() -> date:
    """A Bavarian public holiday on a weekday, inside the horizon, at least 3 days ahead."""
    bavaria = holidays.country_holidays("DE", subdiv="BY", years=[TODAY.year, TODAY.year + 1])
    return min(
        d
        for d in bavaria
        if TODAY + timedelta(days=3) <= d <= TODAY + timedelta(days=85) and d.weekday() != 6
    )


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[tuple[CalcomEmulator, str]]:
    """An emulator with a personal event type per stylist (and the service's own)."""
    config = EmulatorConfig(
        event_types=(
            EventTypeConfig(1001, "herrenhaarschnitt", 30, "Herrenhaarschnitt"),
            EventTypeConfig(2001, "anna-herrenhaarschnitt", 30, "Herrenhaarschnitt", ANNA),
            EventTypeConfig(3001, "jonas-herrenhaarschnitt", 30, "Herrenhaarschnitt", JONAS),
        )
    )
    emulator = CalcomEmulator(config)
    with serve_in_thread(emulator.app) as url:
        yield emulator, url


@pytest.fixture
async def team(
    db_url: str, engine: AsyncEngine, emulator_url: tuple[CalcomEmulator, str]
) -> AsyncIterator[tuple[httpx.AsyncClient, CalcomEmulator]]:
    """slotguard on loopback against the emulator, with the team salon applied."""
    emulator, url = emulator_url
    emulator.reset()
    os.environ.update(SECRETS)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "tenants.toml"
        path.write_text(TEAM, encoding="utf-8")
        spec = tenants.load(path, SECRETS)
    async with session_factory(engine)() as session, session.begin():
        await CompanyRepository(session).apply_tenants(spec)
    settings = Settings(
        database_url=db_url,
        retell_api_key=RETELL_KEY,
        calcom_base_url=url,
        calcom_timeout_seconds=2.0,
        reconcile_interval_seconds=0,
    )
    with serve_in_thread(create_app(settings)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield client, emulator


async def _call(
    client: httpx.AsyncClient, name: str, args: dict[str, Any], caller: str, call_id: str
) -> dict[str, Any]:
    call = {"call_id": call_id, "agent_id": "agent_team", "from_number": caller}
    body, headers = function_request(name, call, args, RETELL_KEY)
    response = await client.post(f"/retell/functions/{name}", content=body, headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _creates(emulator: CalcomEmulator) -> list[dict[str, Any]]:
    return [r.body for r in emulator.requests.items if r.route == "POST /v2/bookings"]


class TestTeamOnCalcom:
    """Personal event types: two people at once; the rules before any Cal.com call."""

    async def test_two_stylists_two_callers(
        self, team: tuple[httpx.AsyncClient, CalcomEmulator]
    ) -> None:
        """Two callers at 10:00 are booked with Anna and Jonas through their event types."""
        client, emulator = team
        day = _open_day(TODAY + timedelta(days=2)).isoformat()
        args = {"service": "Haarschnitt", "date": day, "time": "10:00"}
        first = await _call(
            client,
            "book_appointment",
            {**args, "customer_name": "Max Muster"},
            "+4915100000001",
            "t1",
        )
        second = await _call(
            client,
            "book_appointment",
            {**args, "customer_name": "Erika Beispiel"},
            "+4915100000002",
            "t2",
        )
        assert (first["status"], second["status"]) == ("booked", "booked")
        assert (first["staff"], second["staff"]) == ("Anna", "Jonas")
        creates = _creates(emulator)
        assert [c["eventTypeId"] for c in creates] == [2001, 3001]
        assert len({c["start"] for c in creates}) == 1
        third = await _call(
            client,
            "book_appointment",
            {**args, "customer_name": "Paul Dritter"},
            "+4915100000003",
            "t3",
        )
        assert (third["status"], third["reason"]) == ("unavailable", "slot_taken")
        assert len(_creates(emulator)) == 2

    async def test_rules_refuse_before_calcom(
        self, team: tuple[httpx.AsyncClient, CalcomEmulator]
    ) -> None:
        """Closure, holiday, notice, horizon, grid and hours: refused with zero creates."""
        client, emulator = team
        open_day = _open_day(TODAY + timedelta(days=2)).isoformat()
        cases = [
            (CLOSED_FROM.isoformat(), "10:00", "closed"),
            (_holiday().isoformat(), "10:00", "closed"),
            (_open_day(TODAY + timedelta(days=120)).isoformat(), "10:00", "too_far"),
            (open_day, "10:05", "off_grid"),
            (open_day, "17:45", "out_of_bounds"),
        ]
        for index, (day, at, reason) in enumerate(cases):
            args = {
                "customer_name": "Max Muster",
                "service": "Haarschnitt",
                "date": day,
                "time": at,
            }
            for name in ("collect_appointment_data", "book_appointment"):
                reply = await _call(client, name, args, "+4915100000001", f"r{index}")
                assert (reply["status"], reply["reason"]) == ("unavailable", reason), (
                    day,
                    at,
                    reply,
                )
                assert reply["alternative_slots"], reply
        assert _creates(emulator) == []
