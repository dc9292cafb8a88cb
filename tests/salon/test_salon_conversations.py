"""A real salon over HTTP: two stylists, a wished person, days off, closures, holidays,
notice, buffer, horizon and grid — what the caller hears and what is booked."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard import tenants
from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.store.companies import CompanyRepository
from slotguard.store.db import session_factory
from slotguard.store.tables import AppointmentRow
from slotguard.testing.asgi import lifespan_client
from tests.signing import function_request

RETELL_KEY = "key_salon_rules_0123456789"
# Wednesday 25 November 2026, 10:00 in Berlin.
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
THURSDAY = "2026-11-26"
MONDAY = "2026-11-30"

SALON = """
[[companies]]
slug = "salon-staff"
name = "Salon mit Team"
timezone = "Europe/Berlin"
language = "de"
retell_agent_ids = ["agent_staff"]
calendar = "local"
max_appointments_per_day = 5
notice_minutes = 120
horizon_days = 90
grid_minutes = 15
public_holidays = "DE-BY"
closures = [{ from = 2026-12-24, to = 2027-01-01, label = "Betriebsferien" }]
[companies.opening_hours]
mon = "09:00-18:00"
tue = "09:00-18:00"
wed = "09:00-18:00"
thu = "09:00-18:00"
fri = "09:00-18:00"
sat = "09:00-14:00"

[[companies.services]]
name = "Herrenhaarschnitt"
aliases = ["Haarschnitt"]
duration_minutes = 30

[[companies.services]]
name = "Färben"
duration_minutes = 90
buffer_minutes = 30

[[companies.staff]]
name = "Anna"

[[companies.staff]]
name = "Jonas"
services = ["Herrenhaarschnitt"]
working_hours = { tue = "09:00-18:00", wed = "09:00-18:00", thu = "09:00-18:00" }
"""


class Phone:
    """Signed Retell calls from a given number."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self, name: str, args: dict[str, Any], *, caller: str, call_id: str = "call_1"
    ) -> dict[str, Any]:
        call = {
            "call_id": call_id,
            "agent_id": "agent_staff",
            "call_type": "phone_call",
            "call_status": "ongoing",
            "from_number": caller,
            "to_number": "+4930111111",
            "start_timestamp": int(NOW.timestamp() * 1000),
        }
        body, headers = function_request(name, call, args, RETELL_KEY)
        response = await self.client.post(
            f"/retell/functions/{name}", content=body, headers=headers
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture
async def phone(db_url: str, engine: AsyncEngine) -> AsyncIterator[Phone]:
    """The app on a database holding the salon with staff and rules."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "tenants.toml"
        path.write_text(SALON, encoding="utf-8")
        spec = tenants.load(path)
    async with session_factory(engine)() as session, session.begin():
        await CompanyRepository(session).apply_tenants(spec)
    settings = Settings(
        database_url=db_url, retell_api_key=RETELL_KEY, reconcile_interval_seconds=0
    )
    clock: Callable[[], datetime] = lambda: NOW  # noqa: E731
    async with lifespan_client(create_app(settings, clock=clock)) as client:
        yield Phone(client)


async def _rows(engine: AsyncEngine) -> list[AppointmentRow]:
    async with session_factory(engine)() as s:
        return list(await s.scalars(select(AppointmentRow).order_by(AppointmentRow.id)))


def _book(
    name: str, date: str, time_: str, service: str = "Herrenhaarschnitt", **more: Any
) -> dict[str, Any]:
    return {"customer_name": name, "service": service, "date": date, "time": time_, **more}


class TestStaff:
    """Two stylists, a wished person, a day off."""

    async def test_two_stylists_serve_two_callers_at_once(
        self, phone: Phone, engine: AsyncEngine
    ) -> None:
        """Two callers get 10:00 with Anna and with Jonas; a third hears alternatives."""
        first = await phone(
            "book_appointment", _book("Max Muster", THURSDAY, "10:00"), caller="+4915100000001"
        )
        second = await phone(
            "book_appointment",
            _book("Erika Beispiel", THURSDAY, "10:00"),
            caller="+4915100000002",
            call_id="c2",
        )
        third = await phone(
            "book_appointment",
            _book("Paul Dritter", THURSDAY, "10:00"),
            caller="+4915100000003",
            call_id="c3",
        )
        assert (first["status"], second["status"]) == ("booked", "booked")
        assert {first["staff"], second["staff"]} == {"Anna", "Jonas"}
        assert f"bei {first['staff']}" in first["message"]
        assert third["status"] == "unavailable" and third["reason"] == "slot_taken"
        assert third["alternative_slots"] and "10:00" not in " ".join(third["alternative_slots"])
        rows = await _rows(engine)
        booked = [(r.staff_key, r.starts_at) for r in rows if r.status == "booked"]
        assert sorted(k for k, _ in booked) == ["anna", "jonas"]
        assert len({s for _, s in booked}) == 1

    async def test_wished_person_is_honoured_or_alternatives_name_who(
        self, phone: Phone, engine: AsyncEngine
    ) -> None:
        """'bei Anna' books Anna; when Anna is taken the agent hears Anna's and Jonas' times."""
        anna = await phone(
            "book_appointment",
            _book("Max Muster", THURSDAY, "10:00", staff="bei Anna"),
            caller="+4915100000001",
        )
        assert anna["status"] == "booked" and anna["staff"] == "Anna"
        again = await phone(
            "check_availability",
            {"service": "Haarschnitt", "date": THURSDAY, "time": "10:00", "staff": "Anna"},
            caller="+4915100000002",
            call_id="c2",
        )
        assert again["status"] == "unavailable" and again["reason"] == "slot_taken"
        people = again["alternative_staff"]
        assert "Anna" in people and "Jonas" in people
        assert "bei Anna" in again["message"] and "bei Jonas" in again["message"]
        jonas_at = again["alternative_slots"][people.index("Jonas")]
        assert jonas_at.startswith(f"{THURSDAY}T10:00")  # Jonas is free at the wished time
        anyone = await phone(
            "check_availability",
            {"service": "Haarschnitt", "date": THURSDAY, "time": "10:00", "staff": "egal"},
            caller="+4915100000002",
            call_id="c2",
        )
        assert anyone["status"] == "available" and anyone["staff"] == "Jonas"
        assert [r.staff_key for r in await _rows(engine)] == ["anna"]

    async def test_unknown_person_lists_who_offers_the_service(self, phone: Phone) -> None:
        """A name nobody has (or someone who does not colour) lists the staff who do."""
        nobody = await phone(
            "collect_appointment_data",
            _book("Max Muster", THURSDAY, "10:00", staff="Kevin"),
            caller="+4915100000001",
        )
        assert (nobody["status"], nobody["reason"]) == ("error", "unknown_staff")
        assert nobody["offered_staff"] == ["Anna", "Jonas"]
        assert "Anna" in nobody["message"] and "Jonas" in nobody["message"]
        colour = await phone(
            "collect_appointment_data",
            _book("Max Muster", THURSDAY, "10:00", service="Färben", staff="Jonas"),
            caller="+4915100000001",
        )
        assert (colour["reason"], colour["offered_staff"]) == ("unknown_staff", ["Anna"])

    async def test_day_off(self, phone: Phone, engine: AsyncEngine) -> None:
        """Jonas does not work on Mondays: the caller hears it and gets Anna's times."""
        reply = await phone(
            "book_appointment",
            _book("Max Muster", MONDAY, "10:00", staff="Jonas"),
            caller="+4915100000001",
        )
        assert (reply["status"], reply["reason"]) == ("unavailable", "staff_off")
        assert reply["message"].startswith("Jonas arbeitet zu dieser Zeit nicht.")
        assert set(reply["alternative_staff"]) <= {"Anna", "Jonas"}
        assert "Anna" in reply["alternative_staff"]
        assert await _rows(engine) == []


class TestRules:
    """Closures, holidays, notice, horizon, grid and buffer refuse with help."""

    @pytest.mark.parametrize(
        ("date", "time_", "reason", "spoken"),
        [
            (
                "2026-12-28",
                "10:00",
                "closed",
                "Am Montag, 28. Dezember haben wir geschlossen: Betriebsferien.",
            ),
            (
                "2027-01-06",
                "10:00",
                "closed",
                "Am Mittwoch, 6. Januar ist Feiertag, Heilige Drei Könige, da haben wir "
                "geschlossen.",
            ),
            ("2026-11-25", "11:00", "too_soon", "So kurzfristig können wir leider nicht buchen."),
            (
                "2027-03-01",
                "10:00",
                "too_far",
                "So weit im Voraus nehmen wir leider noch keine Termine an.",
            ),
            (THURSDAY, "10:10", "off_grid", "Zu dieser genauen Uhrzeit beginnt kein Termin."),
            (
                THURSDAY,
                "17:45",
                "out_of_bounds",
                "Zu dieser Zeit kann leider nicht gebucht werden.",
            ),
        ],
    )
    async def test_refused_with_reason_and_alternatives(
        self, phone: Phone, engine: AsyncEngine, date: str, time_: str, reason: str, spoken: str
    ) -> None:
        """check, collect and book all answer the same reason; alternatives keep every rule."""
        replies = [
            await phone(
                "check_availability",
                {"service": "Haarschnitt", "date": date, "time": time_},
                caller="+4915100000001",
            ),
            await phone(
                "collect_appointment_data",
                _book("Max Muster", date, time_),
                caller="+4915100000001",
            ),
            await phone(
                "book_appointment", _book("Max Muster", date, time_), caller="+4915100000001"
            ),
        ]
        for reply in replies:
            assert (reply["status"], reply["reason"]) == ("unavailable", reason), reply
            assert reply["message"].startswith(spoken)
            assert reply["alternative_slots"], reply
            for slot in reply["alternative_slots"]:
                start = datetime.fromisoformat(slot)
                assert start.minute % 15 == 0
                assert (start - NOW).total_seconds() >= 2 * 3600
                assert not ("2026-12-24" <= slot[:10] <= "2027-01-01") and slot[:10] != "2027-01-06"
        assert await _rows(engine) == []

    async def test_holiday_alternatives_come_after_it(self, phone: Phone) -> None:
        """The alternatives for a holiday lie after it, on the next open day."""
        reply = await phone(
            "check_availability",
            {"service": "Haarschnitt", "date": "2027-01-06", "time": "10:00"},
            caller="+4915100000001",
        )
        assert all(slot[:10] == "2027-01-07" for slot in reply["alternative_slots"])

    async def test_whole_closed_day_without_time(self, phone: Phone) -> None:
        """Asking for a closed day without a time says why and offers the next open day."""
        reply = await phone(
            "check_availability",
            {"service": "Haarschnitt", "date": "2026-12-28"},
            caller="+4915100000001",
        )
        assert (reply["status"], reply["reason"]) == ("unavailable", "closed")
        assert "Betriebsferien" in reply["message"]
        assert all(slot[:10] == "2027-01-02" for slot in reply["alternative_slots"])

    async def test_buffer_after_colouring(self, phone: Phone, engine: AsyncEngine) -> None:
        """Anna colours 10:00–11:30 and then needs 30 minutes: 11:30 is taken, 12:00 is free."""
        colour = await phone(
            "book_appointment",
            _book("Erika Beispiel", MONDAY, "10:00", service="Färben"),
            caller="+4915100000002",
        )
        assert colour["status"] == "booked" and colour["staff"] == "Anna"
        soon = await phone(
            "check_availability",
            {"service": "Haarschnitt", "date": MONDAY, "time": "11:30", "staff": "Anna"},
            caller="+4915100000001",
        )
        later = await phone(
            "check_availability",
            {"service": "Haarschnitt", "date": MONDAY, "time": "12:00", "staff": "Anna"},
            caller="+4915100000001",
        )
        assert (soon["status"], soon["reason"]) == ("unavailable", "slot_taken")
        assert later["status"] == "available" and later["staff"] == "Anna"
        assert [r.staff_key for r in await _rows(engine)] == ["anna"]


class TestParallel:
    """Callers at the same moment: each stylist is booked once, nobody twice."""

    async def test_eight_callers_two_stylists(self, phone: Phone, engine: AsyncEngine) -> None:
        """Eight callers ask for Thursday 10:00 at once: two are booked (Anna and Jonas),
        six hear 'taken' with alternatives; the calendar holds exactly those two."""
        import asyncio

        replies = await asyncio.gather(
            *(
                phone(
                    "book_appointment",
                    _book(f"Kunde {n}", THURSDAY, "10:00"),
                    caller=f"+49151000001{n:02d}",
                    call_id=f"p{n}",
                )
                for n in range(8)
            )
        )
        booked = [r for r in replies if r["status"] == "booked"]
        taken = [r for r in replies if r["status"] == "unavailable"]
        assert len(booked) == 2 and len(taken) == 6, [r["status"] for r in replies]
        assert sorted(r["staff"] for r in booked) == ["Anna", "Jonas"]
        assert all(r["reason"] == "slot_taken" and r["alternative_slots"] for r in taken)
        rows = [r for r in await _rows(engine) if r.status == "booked"]
        assert sorted(r.staff_key or "" for r in rows) == ["anna", "jonas"]


class TestCollectAgreesWithBook:
    """What collect says of a time is what the booking right after it finds."""

    async def test_every_quarter_hour_of_a_filling_morning(
        self, phone: Phone, engine: AsyncEngine
    ) -> None:
        """Thursday 9:00–11:45, a new caller each quarter hour asks, then books (every third
        one colouring, which only Anna does and which keeps her 30 minutes longer): "frei"
        exactly when the booking succeeds, with the person collect named; the caller hears the
        time and the person, and the calendar holds exactly the bookings announced."""
        outcomes = []
        for n in range(12):
            hour, minute = 9 + n // 4, 15 * (n % 4)
            hhmm = f"{hour:02d}:{minute:02d}"
            said = f"um {hour} Uhr" if minute == 0 else f"um {hour}:{minute:02d} Uhr"
            service = "Färben" if n % 3 == 0 else "Herrenhaarschnitt"
            ask = _book(f"Kunde {n}", THURSDAY, hhmm, service=service)
            caller, call_id = f"+49151000200{n:02d}", f"call_q{n}"
            asked = await phone("collect_appointment_data", ask, caller=caller, call_id=call_id)
            booked = await phone("book_appointment", ask, caller=caller, call_id=call_id)
            free = asked["status"] == "ok" and asked.get("availability") == "free"
            assert free == (booked["status"] == "booked"), (hhmm, service, asked, booked)
            if free:
                assert asked["staff"] == booked["staff"], (hhmm, asked, booked)
                assert f"{said} bei {asked['staff']} ist frei" in asked["message"], asked
                assert "gebucht" in booked["message"] and said in booked["message"], booked
                assert f"{service} bei {booked['staff']}" in booked["message"], booked
            else:
                assert asked["status"] == "unavailable", (hhmm, asked)
                assert f"{said} ist leider schon vergeben" in asked["message"], asked
            outcomes.append((hhmm, booked["status"], booked.get("staff")))
        assert outcomes[:5] == [
            ("09:00", "booked", "Anna"),  # colouring until 10:30, Anna then free at 11:00
            ("09:15", "booked", "Jonas"),
            ("09:30", "unavailable", None),  # Anna colours, Jonas cuts until 09:45
            ("09:45", "unavailable", None),  # colouring: only Anna, who is busy
            ("10:00", "booked", "Jonas"),
        ], outcomes
        assert {status for _, status, _ in outcomes} == {"booked", "unavailable"}
        berlin = ZoneInfo("Europe/Berlin")
        held = [
            (f"{r.starts_at.astimezone(berlin):%H:%M}", r.status, (r.staff_key or "").title())
            for r in await _rows(engine)
        ]
        assert held == [o for o in outcomes if o[1] == "booked"], held
