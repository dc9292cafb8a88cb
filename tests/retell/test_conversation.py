"""Whole phone conversations over HTTP with signed requests, on the local calendar."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.store.db import session_factory
from slotguard.store.tables import DuplicateDecisionRow
from tests.factories import count_active
from tests.retell.conftest import Phone

CUT = {"customer_name": "Max Müller", "service": "Herrenhaarschnitt"}


async def _decisions(engine: AsyncEngine, reason: str) -> int:
    async with session_factory(engine)() as s:
        query = (
            select(func.count())
            .select_from(DuplicateDecisionRow)
            .where(DuplicateDecisionRow.reason == reason)
        )
        return int(await s.scalar(query) or 0)


class TestNewCaller:
    """A first-time caller books an appointment."""

    async def test_new_caller_books(self, phone: Phone, engine: AsyncEngine) -> None:
        """check_customer says new, collect says ok, book says booked, query lists it."""
        assert (await phone.call("check_customer"))["status"] == "new"
        args = {**CUT, "date": "morgen", "time": "14 Uhr"}
        collected = await phone.call("collect_appointment_data", args)
        assert collected["status"] == "ok"
        assert collected["requested_start"] == "2026-11-26T14:00:00+01:00"
        booked = await phone.call("book_appointment", args)
        assert booked["status"] == "booked", booked
        assert booked["appointment"]["start"] == "2026-11-26T14:00:00+01:00"
        assert "Donnerstag, 26. November um 14 Uhr" in booked["message"]
        listed = await phone.call("query_appointment", call_id="call_2")
        assert [a["service"] for a in listed["appointments"]] == ["Herrenhaarschnitt"]
        known = await phone.call("check_customer", call_id="call_3")
        assert (known["status"], known["customer_name"]) == ("known", "Max Müller")
        assert await count_active(engine) == 1

    async def test_function_name_in_body(self, phone: Phone) -> None:
        """POST /retell/functions with the name in the body works like the path form."""
        reply = await phone.call("check_customer", in_body=True)
        assert reply["status"] == "new"

    async def test_english_company_replies_in_english(self, phone: Phone) -> None:
        """A company with language en gets English sentences in its own zone."""
        args = {"customer_name": "Ann", "service": "checkup", "date": "tomorrow", "time": "2pm"}
        booked = await phone.call("book_appointment", args, agent_id="agent_en")
        assert booked["status"] == "booked", booked
        assert booked["requested_start"] == "2026-11-26T14:00:00-05:00"
        assert booked["message"].startswith("Your appointment is booked: on Thursday, November 26")


class TestDuplicates:
    """Layers 1 and 2 in conversation."""

    async def test_same_day_warning_then_confirm(self, phone: Phone, engine: AsyncEngine) -> None:
        """A second appointment that day warns at collect and book, and books when confirmed."""
        await phone.call("book_appointment", {**CUT, "date": "morgen", "time": "10:00"})
        later = {
            "customer_name": "Max Müller",
            "service": "Färben",
            "date": "morgen",
            "time": "15 Uhr",
        }
        collected = await phone.call("collect_appointment_data", later, call_id="call_2")
        assert (collected["status"], collected["reason"]) == ("warning", "same_day")
        assert collected["suggested_action"] == "confirm_or_reschedule"
        assert collected["existing_appointments"][0]["start"] == "2026-11-26T10:00:00+01:00"
        warned = await phone.call("book_appointment", later, call_id="call_2")
        assert (warned["status"], warned["reason"]) == ("warning", "same_day")
        assert await count_active(engine) == 1
        confirmed = await phone.call(
            "book_appointment", {**later, "confirm_duplicate": True}, call_id="call_2"
        )
        assert confirmed["status"] == "booked", confirmed
        assert await count_active(engine) == 2
        assert await _decisions(engine, "same_day") == 3

    async def test_exact_duplicate_refused(self, phone: Phone, engine: AsyncEngine) -> None:
        """The same service at the same time from a new call is refused, even when confirmed."""
        args = {**CUT, "date": "2026-11-27", "time": "11:00"}
        await phone.call("book_appointment", args)
        again = await phone.call(
            "book_appointment", {**args, "confirm_duplicate": True}, call_id="call_2"
        )
        assert (again["status"], again["reason"]) == ("refused", "exact_duplicate")
        assert "Diesen Termin haben Sie bereits" in again["message"]
        assert await count_active(engine) == 1

    async def test_overlap_refused(self, phone: Phone, engine: AsyncEngine) -> None:
        """An overlapping appointment for another service is refused."""
        await phone.call(
            "book_appointment", {**CUT, "service": "Färben", "date": "2026-11-27", "time": "11:00"}
        )
        overlap = {**CUT, "date": "2026-11-27", "time": "12:00", "confirm_duplicate": True}
        reply = await phone.call("book_appointment", overlap, call_id="call_2")
        assert (reply["status"], reply["reason"]) == ("refused", "overlapping")

    async def test_back_to_back_allowed(self, phone: Phone) -> None:
        """An appointment starting when the previous one ends is fine."""
        await phone.call("book_appointment", {**CUT, "date": "2026-11-27", "time": "11:00"})
        nxt = {
            **CUT,
            "service": "Bartpflege",
            "date": "2026-11-27",
            "time": "11:30",
            "confirm_duplicate": True,
        }
        assert (await phone.call("book_appointment", nxt, call_id="call_2"))["status"] == "booked"

    async def test_daily_limit(self, phone: Phone) -> None:
        """The fourth appointment of a day is refused with daily_limit."""
        for i, hour in enumerate(("09:00", "11:00", "13:00")):
            args = {**CUT, "date": "2026-11-27", "time": hour, "confirm_duplicate": True}
            reply = await phone.call("book_appointment", args, call_id=f"c{i}")
            assert reply["status"] == "booked", reply
        fourth = {**CUT, "date": "2026-11-27", "time": "15:00", "confirm_duplicate": True}
        reply = await phone.call("book_appointment", fourth, call_id="c9")
        assert (reply["status"], reply["reason"]) == ("refused", "daily_limit")
        assert len(reply["existing_appointments"]) == 3

    async def test_retry_returns_first_reply(self, phone: Phone, engine: AsyncEngine) -> None:
        """The same call id and arguments replay the first reply and book once."""
        args = {**CUT, "date": "übermorgen", "time": "halb drei"}
        first = await phone.call("book_appointment", args)
        second = await phone.call("book_appointment", args)
        assert first == second
        assert first["requested_start"] == "2026-11-27T14:30:00+01:00"
        assert await count_active(engine) == 1


class TestRescheduleCancel:
    """Moving and cancelling free the old slot."""

    async def test_reschedule_then_cancel(self, phone: Phone, engine: AsyncEngine) -> None:
        """Reschedule moves the appointment; cancel frees it; a new booking may take the slot."""
        await phone.call("book_appointment", {**CUT, "date": "2026-11-27", "time": "10:00"})
        moved = await phone.call(
            "reschedule_appointment", {"new_date": "2026-11-27", "new_time": "10:15"}, call_id="c2"
        )
        assert moved["status"] == "rescheduled", moved
        assert moved["appointment"]["start"] == "2026-11-27T10:15:00+01:00"
        cancelled = await phone.call("cancel_appointment", {"date": "2026-11-27"}, call_id="c3")
        assert cancelled["status"] == "cancelled"
        assert await count_active(engine) == 0
        again = await phone.call(
            "book_appointment", {**CUT, "date": "2026-11-27", "time": "10:15"}, call_id="c4"
        )
        assert again["status"] == "booked"
        nothing = await phone.call("cancel_appointment", {"date": "2026-12-24"}, call_id="c5")
        assert nothing["status"] == "not_found"

    async def test_other_caller_gets_alternatives(self, phone: Phone) -> None:
        """A slot taken by another caller is unavailable, with alternatives offered."""
        await phone.call("book_appointment", {**CUT, "date": "2026-11-27", "time": "10:00"})
        other = {
            "customer_name": "Eva",
            "service": "Haarschnitt",
            "date": "2026-11-27",
            "time": "10:00",
        }
        reply: dict[str, Any] = await phone.call(
            "book_appointment", other, call_id="c2", from_number="+4915199999999"
        )
        assert reply["status"] == "unavailable", reply
        assert reply["alternative_slots"]
        assert "2026-11-27T10:00:00+01:00" not in reply["alternative_slots"]
