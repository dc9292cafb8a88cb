"""Nothing promised is lost: pending creates after timeouts and 500s, found by our key only."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from tests.conversations.conftest import OTHER_PHONE, Talk, day_ahead, local

from slotguard.booking import reconcile
from slotguard.runtime import open_context

DAY = day_ahead(4)  # a Friday at least a week ahead
ISO = DAY.isoformat()
TEN = {
    "customer_name": "Nina Neu",
    "service": "Haarschnitt",
    "date": ISO,
    "time": "10:00",
    "customer_email": "nina@example.com",
}


ADMIN_TOKEN = "admin-token-for-the-conversation-tests-0123456789"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """The admin API is on, so the salon's view can be asserted."""
    return {"admin_token": ADMIN_TOKEN}


async def _reconcile(talk: Talk) -> reconcile.Report:
    async with open_context(talk.settings) as ctx:
        return await reconcile.run_once(ctx, grace=timedelta(0))


class TestFoundByOurKey:
    """The reconciler finds our booking by the reservation key, never by attendee."""

    async def test_first_time_caller_timeout_no_webhook(self, talk: Talk) -> None:
        """Create committed, answer lost, webhook lost: the reconciler settles it as booked."""
        talk.emulator.webhooks.knobs.drop = True
        talk.emulator.faults.timeout_after_commit(seconds=5)
        reply = await talk.say("book_appointment", TEN)
        assert reply["status"] == "pending", reply
        report = await _reconcile(talk)
        assert (report.booked, report.failed) == (1, 0)
        [row] = await talk.rows()
        [booking] = talk.active()
        assert (row.status, row.calcom_booking_uid) == ("booked", booking.uid)
        assert len(talk.creates()) == 1
        assert (booking.attendees[0].name, booking.attendees[0].email) == (
            "Nina Neu",
            "nina@example.com",
        )
        lists = [r for r in talk.emulator.request_log if r.route == "GET /v2/bookings"]
        assert lists and all(
            "attendeeEmail" not in r.query and "attendeeName" not in r.query for r in lists
        )
        asked = await talk.say("query_appointment", {}, call_id="call_2")
        assert [a["start"] for a in asked["appointments"]] == [local(DAY, "10:00").isoformat()]


class TestPendingThatNeverReachedCalcom:
    """A pending create that verifiably never reached Cal.com is sent again, once."""

    async def test_500_then_resent_with_the_same_key(self, talk: Talk) -> None:
        """500 on create (nothing booked): the reconciler sends it again and it is booked."""
        talk.emulator.faults.fail_next(status=500, route="POST /v2/bookings")
        reply = await talk.say("book_appointment", TEN)
        assert reply["status"] == "pending", reply
        report = await _reconcile(talk)
        assert report.booked == 1, report
        first, second = talk.creates()
        assert first["metadata"] == second["metadata"]
        [row] = await talk.rows()
        [booking] = talk.active()
        assert row.status == "booked"
        assert booking.metadata["slotguard_reservation"] == row.reservation_key
        assert booking.attendees[0].name == "Nina Neu"
        again = await talk.say("book_appointment", TEN)
        assert again["status"] == "booked", again
        assert len(talk.creates()) == 2

    async def test_slot_gone_fails_and_the_salon_and_caller_learn(self, talk: Talk) -> None:
        """500, then someone else takes the slot: failed, told to the caller and the salon."""
        talk.emulator.faults.fail_next(status=500, route="POST /v2/bookings")
        reply = await talk.say("book_appointment", TEN)
        assert reply["status"] == "pending", reply
        talk.emulator.book_directly(local(DAY, "10:00"), name="Website Booker")
        await talk.deliveries(1)
        report = await _reconcile(talk)
        assert report.failed == 1, report
        [ours] = await talk.rows("failed")
        assert ours.reservation_key
        nxt = await talk.say("query_appointment", {})
        assert nxt["failed_booking"]["start"] == local(DAY, "10:00").isoformat(), nxt
        assert "nicht bestätigt" in nxt["message"] and "um 10 Uhr" in nxt["message"]
        again = await talk.say("check_customer", {})
        assert "failed_booking" not in again, again  # said once
        # The resend found the slot taken: two creates, one booking, and it is not ours.
        assert len(talk.creates()) == 2
        [booking] = talk.active()
        assert booking.metadata.get("slotguard_reservation") != ours.reservation_key
        auth = {"authorization": f"Bearer {ADMIN_TOKEN}"}
        listed = (await talk.client.get("/api/v1/callbacks?reveal=true", headers=auth)).json()
        assert [(c["appointment_id"], c["customer_name"], c["email"]) for c in listed] == [
            (ours.id, "Nina Neu", "nina@example.com")
        ]
        done = await talk.client.post(f"/api/v1/callbacks/{ours.id}/done", headers=auth)
        assert done.status_code == 200, done.text
        assert (await talk.client.get("/api/v1/callbacks", headers=auth)).json() == []
        other = await talk.say("query_appointment", {}, call_id="call_9", caller=OTHER_PHONE)
        assert "failed_booking" not in other

    async def test_told_once_when_asked_at_once(self, talk: Talk) -> None:
        """The caller's next questions arrive together: exactly one reply tells the failure."""
        talk.emulator.faults.fail_next(status=500, route="POST /v2/bookings")
        assert (await talk.say("book_appointment", TEN))["status"] == "pending"
        talk.emulator.book_directly(local(DAY, "10:00"), name="Website Booker")
        await talk.deliveries(1)
        assert (await _reconcile(talk)).failed == 1
        replies = await asyncio.gather(
            *(talk.say("check_customer", {}) for _ in range(8)),
            *(talk.say("query_appointment", {}) for _ in range(8)),
        )
        told = [r for r in replies if "failed_booking" in r]
        assert len(told) == 1, [r.get("failed_booking") for r in replies]
        assert told[0]["failed_booking"]["start"] == local(DAY, "10:00").isoformat()
