"""Failures told as they are, against the Cal.com emulator on both databases: a withheld
number without email, a refusal no retry fixes, and slots that cannot be read."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.calcom.conftest import Stack

# A Tuesday ahead of any run, inside the emulator's default schedule.
ARGS = {
    "customer_name": "Max Müller",
    "service": "Herrenschnitt",
    "date": "nächsten Dienstag",
    "time": "10:00",
}
RETRY_PROMISES = ("noch einmal", "gleich wieder", "später")


class TestWithheldNumber:
    """Cal.com needs an email or a phone number for the attendee."""

    async def test_needs_contact_then_books_with_email(self, stack: Stack) -> None:
        """No number, no email: needs_contact, Cal.com untouched, nothing held; with a spoken
        email the same call books once."""
        asked = await stack.call("book_appointment", ARGS, caller="anonymous")
        assert (asked["status"], asked["reason"]) == ("error", "needs_contact"), asked
        assert asked["requested_start"].endswith("T10:00:00+01:00")
        assert "E-Mail-Adresse oder eine Rückrufnummer" in asked["message"]
        assert stack.creates() == 0
        assert await stack.appointments() == []
        again = await stack.call("book_appointment", ARGS, caller="anonymous")
        assert again["reason"] == "needs_contact"
        with_email = {**ARGS, "customer_email": "max at example punkt de"}
        booked = await stack.call("book_appointment", with_email, caller="anonymous")
        assert booked["status"] == "booked", booked
        assert stack.creates() == 1
        [request] = [r for r in stack.emulator.request_log if r.method == "POST"]
        assert request.body["attendee"]["email"] == "max@example.de"
        assert request.body["attendee"]["name"] == "Max Müller"


class TestCalendarRefused:
    """A 400 or 404 no other time would fix is calendar_refused, promising no retry."""

    async def test_unknown_event_type(self, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
        """The event type was deleted in Cal.com: refused, nothing booked, text kept."""
        state = stack.emulator.state
        kept = tuple(et for et in state.config.event_types if et.id != 1001)
        monkeypatch.setattr(state, "config", replace(state.config, event_types=kept))
        reply = await stack.call("book_appointment", ARGS)
        assert (reply["status"], reply["reason"]) == ("error", "calendar_refused"), reply
        assert reply["requested_start"].endswith("T10:00:00+01:00")
        assert "nichts gebucht" in reply["message"]
        assert not any(word in reply["message"] for word in RETRY_PROMISES)
        [row] = await stack.appointments()
        assert row.status == "failed"
        assert "1001" in (row.failure_reason or "")
        assert stack.emulator.bookings == []


class TestSlotsUnreadable:
    """When the free slots cannot be read, nobody hears "frei"."""

    async def test_collect_says_availability_unknown(self, stack: Stack) -> None:
        """collect_appointment_data: ok with availability unknown, and no 'ist frei'."""
        stack.emulator.faults.fail_next(count=50, status=500, route="GET /v2/slots")
        reply = await stack.call("collect_appointment_data", ARGS)
        assert (reply["status"], reply["availability"]) == ("ok", "unknown"), reply
        assert "ist frei" not in reply["message"]
        assert "beim Buchen" in reply["message"]
        assert reply["requested_start"].endswith("T10:00:00+01:00")

    async def test_check_availability_names_what_it_understood(self, stack: Stack) -> None:
        """check_availability: calendar_unreachable with requested_start; says the free
        times could not be read, not that nothing was booked."""
        stack.emulator.faults.fail_next(count=50, status=500, route="GET /v2/slots")
        reply = await stack.call("check_availability", ARGS)
        assert (reply["status"], reply["reason"]) == ("error", "calendar_unreachable"), reply
        assert reply["requested_start"].endswith("T10:00:00+01:00")
        assert "freien Termine" in reply["message"]
        assert "gebucht" not in reply["message"]
