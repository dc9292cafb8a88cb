"""What callers say, understood: services by what they call them, spoken email addresses, and
date and time together in the date argument. Asserted as the caller hears it and as stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.store.db import session_factory
from slotguard.store.tables import AppointmentRow, CustomerRow
from tests.retell.conftest import Phone

BASE = {"customer_name": "Max Müller", "date": "morgen", "time": "14 Uhr"}


async def _count(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as s:
        return int(await s.scalar(select(func.count()).select_from(AppointmentRow)) or 0)


async def _emails(engine: AsyncEngine) -> list[str | None]:
    async with session_factory(engine)() as s:
        return list(await s.scalars(select(CustomerRow.email).order_by(CustomerRow.id)))


class TestServicesByWhatCallersSay:
    """Word parts, inflections and slips find the service; two close ones are asked about."""

    @pytest.mark.parametrize(
        ("said", "booked"),
        [
            ("Farbe", "Färben"),
            ("Haare färben lassen", "Färben"),
            ("Herrenschnitt", "Herrenhaarschnitt"),
            ("Haarschnitt für Herren", "Herrenhaarschnitt"),
            ("Bart", "Bartpflege"),
            ("Herrenhaarschnit", "Herrenhaarschnitt"),
        ],
    )
    async def test_books_the_service_meant(
        self, phone: Phone, engine: AsyncEngine, said: str, booked: str
    ) -> None:
        """The caller's words book the offered service they mean."""
        reply = await phone.call("book_appointment", {**BASE, "service": said})
        assert reply["status"] == "booked", reply
        assert reply["appointment"]["service"] == booked
        assert booked in reply["message"]
        assert await _count(engine) == 1

    async def test_two_close_services_ask_which(self, phone: Phone, engine: AsyncEngine) -> None:
        """'Haare' fits colouring and the haircut: the agent asks which, nothing is booked."""
        reply = await phone.call("book_appointment", {**BASE, "service": "Haare"})
        assert (reply["status"], reply["reason"]) == ("error", "ambiguous_service"), reply
        assert reply["candidates"] == ["Färben", "Herrenhaarschnitt"]
        assert reply["offered_services"] == ["Bartpflege", "Färben", "Herrenhaarschnitt"]
        assert reply["message"] == "Meinen Sie Färben oder Herrenhaarschnitt?"
        assert await _count(engine) == 0

    async def test_check_availability_understands_too(self, phone: Phone) -> None:
        """check_availability matches the same way."""
        reply = await phone.call("check_availability", {**BASE, "service": "Herrenschnitt"})
        assert reply["status"] == "available", reply


class TestSpokenEmail:
    """Spoken addresses are stored and sent written out; a wrong one is asked again."""

    @pytest.mark.parametrize(
        "said",
        ["max at example dot com", "Max ät Example Punkt com", "max@example.com"],
    )
    async def test_spoken_address_is_stored_written(
        self, phone: Phone, engine: AsyncEngine, said: str
    ) -> None:
        """The customer's email is the written address."""
        reply = await phone.call(
            "book_appointment",
            {**BASE, "service": "Bartpflege", "customer_email": said},
            from_number=None,
        )
        assert reply["status"] == "booked", reply
        assert await _emails(engine) == ["max@example.com"]

    @pytest.mark.parametrize("function", ["book_appointment", "collect_appointment_data"])
    async def test_unreadable_address_is_asked_again(
        self, phone: Phone, engine: AsyncEngine, function: str
    ) -> None:
        """invalid_argument / customer_email / invalid_email, a sentence that asks again."""
        args = {**BASE, "service": "Bartpflege", "customer_email": "max at example"}
        reply = await phone.call(function, args)
        assert (reply["status"], reply["reason"]) == ("error", "invalid_argument")
        assert (reply["field"], reply["problem"]) == ("customer_email", "invalid_email")
        assert "E-Mail-Adresse" in reply["message"]
        assert "customer_email" not in reply["message"]
        assert reply["message"].endswith("?")
        assert await _count(engine) == 0
        assert await _emails(engine) == []


class TestDateAndTimeInOneArgument:
    """A time said inside `date` with no `time` argument is understood."""

    @pytest.mark.parametrize(
        ("date", "start"),
        [
            ("morgen um 14 Uhr", "2026-11-26T14:00:00+01:00"),
            ("2026-11-26T14:00", "2026-11-26T14:00:00+01:00"),
            ("morgen in einer Woche um halb drei", "2026-12-03T14:30:00+01:00"),
            ("am 9. um 10 Uhr", "2026-12-09T10:00:00+01:00"),
        ],
    )
    @pytest.mark.parametrize("function", ["collect_appointment_data", "book_appointment"])
    async def test_time_in_date(self, phone: Phone, function: str, date: str, start: str) -> None:
        """The reply's requested_start is the moment said."""
        args = {"customer_name": "Max", "service": "Bartpflege", "date": date}
        reply = await phone.call(function, args)
        assert reply["status"] in ("ok", "booked"), reply
        assert reply["requested_start"] == start

    async def test_english_in_one_argument(self, phone: Phone) -> None:
        """'tomorrow at 2pm' for an English-speaking practice."""
        args = {"customer_name": "Ann", "service": "Checkup", "date": "tomorrow at 2pm"}
        reply = await phone.call("book_appointment", args, agent_id="agent_en")
        assert reply["status"] == "booked", reply
        assert reply["requested_start"] == "2026-11-26T14:00:00-05:00"

    async def test_no_time_anywhere_asks_for_it(self, phone: Phone, engine: AsyncEngine) -> None:
        """A date without any time is invalid_argument / time / missing; nothing booked."""
        args = {"customer_name": "Max", "service": "Bartpflege", "date": "morgen"}
        reply = await phone.call("book_appointment", args)
        assert (reply["status"], reply["reason"]) == ("error", "invalid_argument")
        assert (reply["field"], reply["problem"]) == ("time", "missing")
        assert await _count(engine) == 0
