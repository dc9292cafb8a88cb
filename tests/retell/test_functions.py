"""The remaining functions and their reply codes: availability, collect, query, tools."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.booking import idempotency
from slotguard.booking.context import Context
from slotguard.retell.tools import tool_definitions
from slotguard.store.db import session_factory
from slotguard.store.tables import IdempotencyKeyRow
from tests.retell.conftest import NOW, Phone

CUT = {"customer_name": "Max Müller", "service": "Herrenhaarschnitt"}


class TestCheckAvailability:
    """check_availability: available, unavailable with alternatives, and a day's slots."""

    async def test_free_time_is_available(self, phone: Phone) -> None:
        """A free time is available and echoed in the company zone."""
        reply = await phone.call(
            "check_availability", {"service": "Haarschnitt", "date": "morgen", "time": "9 Uhr"}
        )
        assert (reply["status"], reply["requested_start"]) == (
            "available",
            "2026-11-26T09:00:00+01:00",
        )

    async def test_off_grid_time_is_available(self, phone: Phone) -> None:
        """A free time off the half-hour grid ("Viertel nach zehn") is available as asked."""
        reply = await phone.call(
            "check_availability",
            {"service": "Haarschnitt", "date": "morgen", "time": "Viertel nach zehn"},
        )
        assert (reply["status"], reply["requested_start"]) == (
            "available",
            "2026-11-26T10:15:00+01:00",
        )

    async def test_taken_time_offers_nearest_alternatives(self, phone: Phone) -> None:
        """A taken time is unavailable with up to three nearby free slots."""
        await phone.call("book_appointment", {**CUT, "date": "morgen", "time": "9 Uhr"})
        reply = await phone.call(
            "check_availability",
            {"service": "Haarschnitt", "date": "morgen", "time": "9 Uhr"},
            call_id="c2",
            from_number="+4915100000001",
        )
        assert reply["status"] == "unavailable"
        assert reply["alternative_slots"] == [
            "2026-11-26T08:00:00+01:00",
            "2026-11-26T08:30:00+01:00",
            "2026-11-26T09:30:00+01:00",
        ]
        assert "Frei wäre" in reply["message"]

    async def test_day_without_time_lists_slots(self, phone: Phone) -> None:
        """Without a time the free slots of the day are listed."""
        reply = await phone.call("check_availability", {"service": "Färben", "date": "Freitag"})
        assert reply["status"] == "available"
        assert reply["alternative_slots"][0] == "2026-11-27T08:00:00+01:00"

    async def test_closed_day_is_unavailable(self, phone: Phone) -> None:
        """A day without opening hours has no slots (the English practice is closed Fridays)."""
        reply = await phone.call(
            "check_availability", {"service": "checkup", "date": "Friday"}, agent_id="agent_en"
        )
        assert (reply["status"], reply["reason"]) == ("unavailable", "day_full")
        assert reply["alternative_slots"]


class TestCollect:
    """collect_appointment_data reports what booking would run into, and books nothing."""

    async def test_refused_when_layer2_would_refuse(self, phone: Phone) -> None:
        """An exact duplicate is reported as refused already while collecting."""
        args = {**CUT, "date": "2026-11-27", "time": "11:00"}
        await phone.call("book_appointment", args)
        reply = await phone.call("collect_appointment_data", args, call_id="c2")
        assert (reply["status"], reply["reason"]) == ("refused", "exact_duplicate")

    async def test_unavailable_slot(self, phone: Phone) -> None:
        """A slot taken by someone else is unavailable with alternatives."""
        await phone.call("book_appointment", {**CUT, "date": "2026-11-27", "time": "11:00"})
        other = {
            "customer_name": "Eva",
            "service": "Bartpflege",
            "date": "2026-11-27",
            "time": "11:00",
        }
        reply = await phone.call(
            "collect_appointment_data", other, call_id="c2", from_number="+4915100000002"
        )
        assert (reply["status"], reply["reason"]) == ("unavailable", "slot_taken")

    async def test_closed_time_is_out_of_bounds(self, phone: Phone) -> None:
        """A time outside opening hours is unavailable with reason out_of_bounds, not slot_taken."""
        args = {"customer_name": "Ann", "service": "checkup", "date": "Friday", "time": "10am"}
        reply = await phone.call("collect_appointment_data", args, agent_id="agent_en")
        assert (reply["status"], reply["reason"]) == ("unavailable", "out_of_bounds")
        assert reply["message"].startswith("Sorry, that time cannot be booked.")

    async def test_same_service_upcoming_is_informative(self, phone: Phone) -> None:
        """Another haircut within 30 days warns with same_service_upcoming; booking still works."""
        await phone.call("book_appointment", {**CUT, "date": "2026-11-27", "time": "11:00"})
        later = {**CUT, "date": "2026-12-10", "time": "11:00"}
        reply = await phone.call("collect_appointment_data", later, call_id="c2")
        assert (reply["status"], reply["reason"]) == ("warning", "same_service_upcoming")
        booked = await phone.call("book_appointment", later, call_id="c2")
        assert booked["status"] == "booked"


class TestQuery:
    """query_appointment lists the caller's active upcoming appointments."""

    async def test_empty_and_by_date(self, phone: Phone) -> None:
        """No appointments → ok with an empty list; a date filters the list."""
        empty = await phone.call("query_appointment")
        assert (empty["status"], empty["appointments"]) == ("ok", [])
        await phone.call("book_appointment", {**CUT, "date": "2026-11-27", "time": "11:00"})
        await phone.call(
            "book_appointment", {**CUT, "date": "2026-12-01", "time": "11:00"}, call_id="c2"
        )
        friday = await phone.call("query_appointment", {"date": "2026-11-27"}, call_id="c3")
        assert [a["start"] for a in friday["appointments"]] == ["2026-11-27T11:00:00+01:00"]


class TestIdempotencyKeys:
    """Keys expire after 72 hours and are purged."""

    async def test_purge_expired(self, phone: Phone, engine: AsyncEngine) -> None:
        """A key older than its expiry is deleted by the periodic purge; a fresh one stays."""
        await phone.call("book_appointment", {**CUT, "date": "2026-11-27", "time": "11:00"})
        sessions = session_factory(engine)
        later = Context(engine=engine, sessions=sessions, clock=lambda: NOW + timedelta(hours=2))
        fresh = Context(engine=engine, sessions=sessions, clock=lambda: NOW + timedelta(minutes=30))
        assert await idempotency.purge_expired(fresh) == 0
        assert await idempotency.purge_expired(later) == 1
        async with sessions() as s:
            assert await s.scalar(select(func.count()).select_from(IdempotencyKeyRow)) == 0

    def test_canonical_args_hash_contacts(self) -> None:
        """Keys ignore case and spacing and never contain a phone number or email."""
        a = idempotency.canonical_args({"service": " Haar schnitt", "customer_email": "A@B.de"})
        b = idempotency.canonical_args({"service": "haar  schnitt", "customer_email": "a@b.de"})
        assert a == b
        assert "a@b.de" not in a


class TestRetellTools:
    """slotguard retell-tools prints paste-ready tool definitions."""

    def test_definitions_cover_every_function(self) -> None:
        """Every function of the contract has a tool with URL, POST and a JSON schema."""
        tools = {t["name"]: t for t in tool_definitions("https://sg.example/", "en")}
        assert set(tools) == {
            "check_customer", "check_availability", "collect_appointment_data",
            "book_appointment", "query_appointment", "reschedule_appointment", "cancel_appointment",
        }  # fmt: skip
        book = tools["book_appointment"]
        assert book["url"] == "https://sg.example/retell/functions/book_appointment"
        assert book["parameters"]["required"] == ["customer_name", "service", "date", "time"]
        assert book["parameters"]["properties"]["confirm_duplicate"]["type"] == "boolean"

    @pytest.mark.parametrize("language", ["de", "en"])
    def test_changes_tell_the_agent_to_ask_which_one(self, language: str) -> None:
        """Cancel and reschedule name the not_found and ambiguous answers; check the household."""
        tools = {t["name"]: t for t in tool_definitions("https://sg.example/", language)}
        for name in ("cancel_appointment", "reschedule_appointment"):
            assert "ambiguous" in tools[name]["description"]
            assert "not_found" in tools[name]["description"]
        assert "household" in tools["check_customer"]["description"]

    def test_cli_prints_json(self) -> None:
        """The command prints valid JSON in German by default."""
        done = subprocess.run(
            [sys.executable, "-m", "slotguard.cli", "retell-tools", "--base-url", "https://x"],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        tools = json.loads(done.stdout)
        assert tools[0]["description"].startswith("Prüft")
