"""Free slots from the shared cache: one Cal.com lookup per window, never wrong about our writes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from slotguard.testing.calcom_emulator import DEFAULT_API_KEY
from tests.calcom.conftest import Stack

BERLIN = ZoneInfo("Europe/Berlin")
SLOTS = "/v2/slots"


def a_monday_ahead() -> date:
    """A Monday at least ten days ahead, so its whole week lies in one cache window or two."""
    day = datetime.now(BERLIN).date() + timedelta(days=10)
    return day - timedelta(days=day.weekday())


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` in Berlin on ``day``, as aware UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def question(day: date, time: str | None = "10:00", service: str = "Haarschnitt") -> dict[str, Any]:
    """check_availability's arguments."""
    args = {"service": service, "date": day.isoformat()}
    return args | ({"time": time} if time else {})


def spend_key_elsewhere(stack: Stack) -> None:
    """Another integration of the salon uses up the key's 120 requests of this minute."""
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}", "cal-api-version": "2024-08-13"}
    with httpx.Client(base_url=stack.emulator_url, headers=headers) as client:
        for _ in range(120):
            client.get("/v2/bookings/somebody-elses")


class TestOneLookupPerWindow:
    """A question inside a cached window costs no Cal.com request."""

    async def test_concurrent_identical_questions_make_one_request(self, stack: Stack) -> None:
        """16 callers ask at once about the same time: one slots request, 16 equal answers."""
        day = a_monday_ahead()
        replies = await asyncio.gather(
            *(stack.call("check_availability", question(day), f"c-{i}") for i in range(16))
        )
        assert {r["status"] for r in replies} == {"available"}
        assert {r["message"] for r in replies} == {replies[0]["message"]}
        assert "um 10 Uhr" in replies[0]["message"]
        assert stack.emulator.count("GET", SLOTS) == 1

    async def test_questions_inside_the_window_are_free(self, stack: Stack) -> None:
        """Five days of one week, with and without a time, after one question: no request more.

        (Asked together, so they all fall inside the TTL even on a slow machine.)
        """
        day = a_monday_ahead()
        assert (await stack.call("check_availability", question(day)))["status"] == "available"
        asked = [day + timedelta(days=offset) for offset in range(5)]
        timed = await asyncio.gather(
            *(stack.call("check_availability", question(d), f"t-{d}") for d in asked)
        )
        listed = await asyncio.gather(
            *(stack.call("check_availability", question(d, None), f"l-{d}") for d in asked)
        )
        assert {r["status"] for r in timed + listed} == {"available"}
        assert all(r["alternative_slots"] for r in listed)
        assert stack.emulator.count("GET", SLOTS) == 1


class TestNeverWrongAboutWhatWeKnow:
    """Our bookings and Cal.com's webhooks take effect at once, cache or not."""

    async def test_our_booking_is_not_offered_again(self, stack: Stack) -> None:
        """Asked, booked by one caller, asked again by another: unavailable, other times offered."""
        day = a_monday_ahead()
        first = await stack.call("check_availability", question(day), "asker")
        assert first["status"] == "available"
        booked = await stack.call(
            "book_appointment",
            {"customer_name": "Max Müller", **question(day)},
            "booker",
        )
        assert booked["status"] == "booked", booked
        again = await stack.call("check_availability", question(day), "asker-2", "+4915199999999")
        assert again["status"] == "unavailable", again
        offered = [datetime.fromisoformat(t) for t in again["alternative_slots"]]
        assert offered and at(day, 10) not in offered
        collect = await stack.call(
            "collect_appointment_data",
            {"customer_name": "Eva Schmidt", **question(day)},
            "asker-3",
            "+4915188888888",
        )
        assert collect["status"] == "unavailable", collect
        assert stack.creates() == 1

    async def test_website_booking_webhook_takes_the_slot_at_once(self, stack: Stack) -> None:
        """A booking made on the website is unavailable as soon as its webhook arrived."""
        day = a_monday_ahead()
        assert (await stack.call("check_availability", question(day)))["status"] == "available"
        stack.emulator.book_directly(at(day, 10), name="Website Kundin")
        await stack.deliveries(1)
        reply = await stack.call("check_availability", question(day), "later")
        assert reply["status"] == "unavailable", reply
        assert reply["reason"] == "slot_taken"
        assert stack.emulator.count("GET", SLOTS) == 2  # the webhook invalidated the window

    async def test_cancel_frees_the_slot_at_once(self, stack: Stack) -> None:
        """Booked, cancelled in the same call, asked again: the time is free again."""
        day = a_monday_ahead()
        args = {"customer_name": "Max Müller", **question(day)}
        assert (await stack.call("book_appointment", args))["status"] == "booked"
        taken = await stack.call("check_availability", question(day), "other", "+4915177777777")
        assert taken["status"] == "unavailable"
        cancelled = await stack.call("cancel_appointment", {"date": day.isoformat()})
        assert cancelled["status"] == "cancelled", cancelled
        free = await stack.call("check_availability", question(day), "other-2", "+4915177777777")
        assert free["status"] == "available", free


class TestWithoutBudget:
    """When the key's minute is used up a question is answered from what we know, or says so."""

    async def test_no_budget_and_nothing_cached(self, stack: Stack) -> None:
        """The key was spent elsewhere: the agent hears availability cannot be checked now."""
        spend_key_elsewhere(stack)
        reply = await stack.call("check_availability", question(a_monday_ahead()))
        assert (reply["status"], reply["reason"]) == ("error", "availability_unknown"), reply
        assert "nicht prüfen" in reply["message"]
        collect = await stack.call(
            "collect_appointment_data",
            {"customer_name": "Max Müller", **question(a_monday_ahead())},
        )
        assert collect["status"] == "ok", collect  # noted; never "free" without knowing
        assert collect["availability"] == "unknown" and "erst beim Buchen" in collect["message"]
        assert stack.emulator.count("GET", SLOTS) <= 1  # one 429 taught us; nothing after it

    async def test_no_budget_answers_from_the_last_window(self, stack: Stack) -> None:
        """A stale window still answers (minus what we booked) while the key is spent."""
        day = a_monday_ahead()
        assert (await stack.call("check_availability", question(day)))["status"] == "available"
        booked = await stack.call(
            "book_appointment", {"customer_name": "Max Müller", **question(day, "11:00")}, "b"
        )
        assert booked["status"] == "booked"
        spend_key_elsewhere(stack)
        free = await stack.call("check_availability", question(day, "12:00"), "q1", "+491511")
        assert free["status"] == "available", free
        taken = await stack.call("check_availability", question(day, "11:00"), "q2", "+491512")
        assert taken["status"] == "unavailable", taken
        assert stack.creates() == 1
