"""Bookings through Cal.com (the emulator, over HTTP): once, never lost, never doubled."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from slotguard import tenants
from slotguard.api.calcom import NOT_FOUND
from slotguard.booking import reconcile
from slotguard.booking.sync import sync_company
from slotguard.runtime import open_context
from slotguard.store.companies import CompanyRepository
from slotguard.store.db import session_factory
from slotguard.store.tables import DuplicateDecisionRow
from slotguard.testing.calcom_emulator import DEFAULT_API_KEY
from tests.calcom.conftest import CALCOM_TENANTS, CALLER, SECRETS, WEBHOOK_SECRET, Stack

ARGS = {
    "customer_name": "Max Müller",
    "service": "Haarschnitt",
    "date": "2027-01-15",
    "time": "10:00",
}
START = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


async def _reasons(stack: Stack) -> list[str]:
    async with session_factory(stack.engine)() as s:
        rows = await s.scalars(
            select(DuplicateDecisionRow.reason).where(DuplicateDecisionRow.layer == 3)
        )
        return list(rows)


class TestBooking:
    """One booking through the Retell functions and Cal.com."""

    async def test_reaches_calcom_once_with_our_metadata(self, stack: Stack) -> None:
        """The create carries our reservation key; the webhook after it adds no second row."""
        reply = await stack.call("book_appointment", ARGS)
        assert reply["status"] == "booked", reply
        await stack.deliveries(1)
        [booking] = stack.emulator.bookings
        [row] = await stack.appointments()
        assert stack.creates() == 1
        assert booking.metadata == {"slotguard_reservation": row.reservation_key}
        assert (row.status, row.calcom_booking_uid) == ("booked", booking.uid)
        assert booking.attendees[0].phone_number == CALLER
        assert await _reasons(stack) == ["known_booking_uid"]

    async def test_webhook_before_response(self, stack: Stack) -> None:
        """Cal.com's webhook overtakes its own API answer: still one appointment, booked."""
        stack.emulator.faults.timeout_after_commit(seconds=0.7)
        reply = await stack.call("book_appointment", ARGS)
        assert reply["status"] == "booked", reply
        [row] = await stack.appointments()
        assert row.status == "booked"
        assert await _reasons(stack) == ["reservation_matched"]
        assert stack.creates() == 1

    async def test_timeout_after_commit_then_webhook(self, stack: Stack) -> None:
        """The create times out after Cal.com booked: pending, then the webhook settles it."""
        stack.emulator.faults.timeout_after_commit(seconds=5)
        stack.emulator.webhooks.knobs.hold = True
        reply = await stack.call("book_appointment", ARGS)
        assert reply["status"] == "pending", reply
        assert "wird gerade vom Kalender bestätigt" in reply["message"]
        stack.emulator.webhooks.knobs.hold = False
        stack.emulator.webhooks.release()
        await stack.deliveries(1)
        [row] = await stack.appointments()
        assert row.status == "booked"
        again = await stack.call("book_appointment", ARGS)
        assert again["status"] == "booked"
        assert stack.creates() == 1

    async def test_webhook_never_arrives(self, stack: Stack) -> None:
        """Timeout after commit and no webhook: the reconciler finds the booking by our key."""
        stack.emulator.webhooks.knobs.drop = True
        stack.emulator.faults.timeout_after_commit(seconds=5)
        assert (await stack.call("book_appointment", ARGS))["status"] == "pending"
        async with open_context(stack.settings) as ctx:
            report = await reconcile.run_once(ctx, grace=timedelta(0))
        assert (report.booked, report.failed) == (1, 0)
        [row] = await stack.appointments()
        assert (row.status, row.calcom_booking_uid) == ("booked", stack.emulator.bookings[0].uid)
        assert stack.creates() == 1

    async def test_500_on_create_is_sent_once_more_with_the_same_key(self, stack: Stack) -> None:
        """A 500 is ambiguous: pending; no booking carries our key, so the create goes once more."""
        stack.emulator.faults.fail_next(status=500, route="POST /v2/bookings")
        reply = await stack.call("book_appointment", ARGS)
        assert reply["status"] == "pending"
        async with open_context(stack.settings) as ctx:
            report = await reconcile.run_once(ctx, grace=timedelta(0))
        assert (report.booked, report.failed) == (1, 0)
        [booking] = stack.emulator.bookings
        [row] = await stack.appointments()
        assert stack.creates() == 2
        assert booking.metadata == {"slotguard_reservation": row.reservation_key}
        assert (row.status, row.calcom_booking_uid) == ("booked", booking.uid)
        retry = await stack.call("book_appointment", ARGS, call_id="call_2")
        assert (retry["status"], retry["reason"]) == ("refused", "exact_duplicate")
        assert stack.creates() == 2

    async def test_429_storm(self, stack: Stack) -> None:
        """A burst of 429s on create leads to one attempt, a clear reply, and no duplicate."""
        stack.emulator.faults.fail_next(count=20, status=429, route="POST /v2/bookings")
        reply = await stack.call("book_appointment", ARGS)
        assert (reply["status"], reply["reason"]) == ("error", "calendar_unreachable"), reply
        assert "nichts gebucht" in reply["message"]
        async with open_context(stack.settings) as ctx:
            await reconcile.run_once(ctx, grace=timedelta(0))
        assert stack.creates() == 1
        assert stack.emulator.bookings == []
        assert await stack.count_active() == 0


class TestExternalBookings:
    """Bookings made directly in Cal.com arrive by webhook (Layer 3)."""

    async def test_external_booking_blocks_agent_duplicate(self, stack: Stack) -> None:
        """A website booking is mirrored; the agent's request for it is refused, no create."""
        stack.emulator.book_directly(START, phone_number=CALLER, email=None, name="Max Müller")
        await stack.deliveries(1)
        [row] = await stack.appointments()
        assert (row.source, row.status) == ("webhook", "booked")
        reply = await stack.call("book_appointment", ARGS)
        assert (reply["status"], reply["reason"]) == ("refused", "exact_duplicate")
        assert stack.creates() == 0

    async def test_colliding_external_booking_is_flagged(self, stack: Stack) -> None:
        """An external booking overlapping the caller's appointment is kept and flagged."""
        assert (await stack.call("book_appointment", ARGS))["status"] == "booked"
        stack.emulator.book_directly(
            START + timedelta(minutes=15),
            event_type_id=1002,
            name=ARGS["customer_name"],  # the same person, booking again on the website
            phone_number=CALLER,
            email=None,
            check=False,
        )
        await stack.deliveries(2)
        rows = await stack.appointments()
        assert len(rows) == 2
        assert rows[1].duplicate_of_id == rows[0].id
        assert "external_duplicate" in await _reasons(stack)

    async def test_cancel_overtaking_create(self, stack: Stack) -> None:
        """Deliveries out of order (cancel before create) end cancelled."""
        stack.emulator.webhooks.knobs.hold = True
        booking = stack.emulator.book_directly(START, email="eva@example.com", name="Eva")
        async with httpx.AsyncClient(base_url=stack.emulator_url) as cal:
            response = await cal.post(
                f"/v2/bookings/{booking.uid}/cancel",
                json={"cancellationReason": "changed mind"},
                headers={
                    "cal-api-version": "2024-08-13",
                    "authorization": f"Bearer {DEFAULT_API_KEY}",
                },
            )
        assert response.status_code == 200
        stack.emulator.webhooks.knobs.hold = False
        assert stack.emulator.webhooks.release("reverse") == 2
        await stack.deliveries(2)
        [row] = await stack.appointments()
        assert row.status == "cancelled"


class TestWebhookEndpoint:
    """Signature checks and replays."""

    async def test_bad_signature_refused_and_replay_ignored(self, stack: Stack) -> None:
        """A wrong or non-ASCII signature gets the uniform 404; a replay changes nothing."""
        stack.emulator.book_directly(START, email="eva@example.com", name="Eva")
        await stack.deliveries(1)
        delivery = stack.emulator.webhooks.deliveries[0]
        url = "/calcom/webhook/salon-cal"
        for header in ("0" * 64, "no-secret-provided", "ä" * 64, "\u00ff" * 64):
            bad = await stack.client.post(
                url,
                content=delivery.body,
                headers={"x-cal-signature-256": header.encode("latin-1")},
            )
            assert (bad.status_code, bad.json()["detail"]) == (404, NOT_FOUND), header
        signature = hmac.new(WEBHOOK_SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
        replay = await stack.client.post(
            url, content=delivery.body, headers={"x-cal-signature-256": signature}
        )
        assert (replay.status_code, replay.json()["status"]) == (200, "duplicate")
        assert len(await stack.appointments()) == 1

    async def test_unknown_company_and_ping(self, stack: Stack) -> None:
        """Unknown, odd and secret-less slugs get the same 404 as a bad signature; PING is 200."""
        body = b'{"triggerEvent":"PING","createdAt":"2027-01-01T00:00:00Z","payload":{}}'
        signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        signed = {"x-cal-signature-256": signature}
        for slug in ("nobody", "x" * 5000, "salon-cal%C3%A4", "salon-cal%20"):
            refused = await stack.client.post(
                f"/calcom/webhook/{slug}", content=body, headers=signed
            )
            assert (refused.status_code, refused.json()) == (404, {"detail": NOT_FOUND}), slug
        nul = await stack.client.post("/calcom/webhook/acc-a%00", content=body, headers=signed)
        assert (nul.status_code, nul.json()) == (
            400,
            {"detail": "the path contains a NUL character"},
        )
        ping = await stack.client.post("/calcom/webhook/salon-cal", content=body, headers=signed)
        assert (ping.status_code, ping.json()["status"]) == (200, "ping")


class TestSync:
    """slotguard calcom sync."""

    async def test_sync_twice_same_database(self, stack: Stack) -> None:
        """Bookings whose webhooks never came are mirrored once; a second sync changes nothing."""
        stack.emulator.webhooks.knobs.drop = True
        for hour in (8, 10, 12):
            stack.emulator.book_directly(
                START.replace(hour=hour), email=f"p{hour}@example.com", name=f"P{hour}"
            )
        async with open_context(stack.settings) as ctx:
            async with ctx.sessions() as s:
                company = await CompanyRepository(s).by_slug("salon-cal")
            assert company is not None
            since, until = START - timedelta(days=1), START + timedelta(days=2)
            first = await sync_company(ctx, company, since, until)
            second = await sync_company(ctx, company, since, until)
        assert first == {"mirrored": 3}
        assert second == {"known": 3}
        assert len(await stack.appointments("booked")) == 3


# A second salon on the same Cal.com account: it books "Färben" (event type 1003), which the
# first salon's file no longer names.
SHARED_ACCOUNT = (
    CALCOM_TENANTS.replace(
        """
[[companies.services]]
name = "Färben"
duration_minutes = 45
calcom_event_type_id = 1003
""",
        "",
    )
    + """
[[companies]]
slug = "salon-zwei"
name = "Salon Zwei"
timezone = "Europe/Berlin"
language = "de"
retell_agent_ids = ["agent_zwei"]
calendar = "calcom"
calcom_api_key_env = "CALCOM_KEY_SALON_CAL"
calcom_webhook_secret_env = "CALCOM_SECRET_SALON_CAL"

[[companies.services]]
name = "Färben"
duration_minutes = 45
calcom_event_type_id = 1003
"""
)


class TestSharedAccount:
    """Two salons on one Cal.com account: each mirrors only its own event types' bookings."""

    async def test_webhook_and_sync_leave_the_other_salons_booking_alone(
        self, stack: Stack, tmp_path: Path
    ) -> None:
        """A website booking of salon-zwei's event type reaches salon-cal's webhook URL (an
        account-wide webhook) and salon-cal's sync: ignored there, mirrored by salon-zwei."""
        path = tmp_path / "tenants.toml"
        path.write_text(SHARED_ACCOUNT, encoding="utf-8")
        spec = tenants.load(path, SECRETS)
        async with session_factory(stack.engine)() as session, session.begin():
            await CompanyRepository(session).apply_tenants(spec)
        stack.emulator.book_directly(START, event_type_id=1003, name="Vera Web")
        await stack.deliveries(1)
        assert await stack.appointments() == []  # the webhook came to salon-cal: not its own
        async with open_context(stack.settings) as ctx:
            async with ctx.sessions() as s:
                mine = await CompanyRepository(s).by_slug("salon-cal")
                other = await CompanyRepository(s).by_slug("salon-zwei")
            assert mine is not None and other is not None
            since, until = START - timedelta(days=1), START + timedelta(days=1)
            assert await sync_company(ctx, mine, since, until) == {"ignored": 1}
            assert await sync_company(ctx, other, since, until) == {"mirrored": 1}
        [row] = await stack.appointments()
        assert (row.company_id, row.status) == (other.id, "booked")


class TestRescheduleCancel:
    """Reschedule and cancel go to Cal.com once and the webhooks add nothing."""

    async def test_reschedule_and_cancel(self, stack: Stack) -> None:
        """Reschedule gives a new uid and retires the old row; cancel frees the slot."""
        await stack.call("book_appointment", ARGS)
        moved = await stack.call(
            "reschedule_appointment", {"new_date": "2027-01-15", "new_time": "12:00"}, call_id="c2"
        )
        assert moved["status"] == "rescheduled", moved
        await stack.deliveries(2)
        rows = await stack.appointments()
        assert [r.status for r in rows] == ["rescheduled", "booked"]
        assert rows[1].calcom_booking_uid != rows[0].calcom_booking_uid
        cancelled = await stack.call("cancel_appointment", {"date": "2027-01-15"}, call_id="c3")
        assert cancelled["status"] == "cancelled"
        await stack.deliveries(3)
        assert [r.status for r in await stack.appointments()] == ["rescheduled", "cancelled"]
        assert [b.status for b in stack.emulator.bookings] == ["cancelled", "cancelled"]


MOVE = {"new_date": "2027-01-15", "new_time": "12:00"}
RESCHEDULE = "POST /v2/bookings/{uid}/reschedule"


class TestUnansweredMoves:
    """A reschedule or cancel whose calendar answer is lost still ends in one true booking."""

    async def test_reschedule_500_gives_the_old_appointment_back(self, stack: Stack) -> None:
        """Cal.com never moved it: the reconciler fails the new row and restores the old one."""
        await stack.call("book_appointment", ARGS)
        stack.emulator.faults.fail_next(status=500, route=RESCHEDULE)
        assert (await stack.call("reschedule_appointment", MOVE, call_id="c2"))[
            "status"
        ] == "pending"
        async with open_context(stack.settings) as ctx:
            report = await reconcile.run_once(ctx, grace=timedelta(0))
        assert report.failed == 1
        assert [r.status for r in await stack.appointments()] == ["booked", "failed"]
        assert [b.status for b in stack.emulator.bookings] == ["accepted"]

    async def test_reschedule_timeout_found_through_the_old_booking(self, stack: Stack) -> None:
        """Cal.com moved it but the answer and webhook were lost: found via rescheduledToUid."""
        await stack.call("book_appointment", ARGS)
        await stack.deliveries(1)
        stack.emulator.webhooks.knobs.drop = True
        stack.emulator.faults.timeout_after_commit(seconds=5, route=RESCHEDULE)
        assert (await stack.call("reschedule_appointment", MOVE, call_id="c2"))[
            "status"
        ] == "pending"
        async with open_context(stack.settings) as ctx:
            report = await reconcile.run_once(ctx, grace=timedelta(0))
        assert report.booked == 1
        rows = await stack.appointments()
        assert [r.status for r in rows] == ["rescheduled", "booked"]
        assert rows[1].calcom_booking_uid == stack.emulator.bookings[1].uid

    async def test_reschedule_timeout_settled_by_webhook(self, stack: Stack) -> None:
        """The late BOOKING_RESCHEDULED webhook settles our open move; no second row appears."""
        await stack.call("book_appointment", ARGS)
        await stack.deliveries(1)
        stack.emulator.webhooks.knobs.hold = True
        stack.emulator.faults.timeout_after_commit(seconds=5, route=RESCHEDULE)
        assert (await stack.call("reschedule_appointment", MOVE, call_id="c2"))[
            "status"
        ] == "pending"
        stack.emulator.webhooks.knobs.hold = False
        stack.emulator.webhooks.release()
        await stack.deliveries(2)
        rows = await stack.appointments()
        assert [r.status for r in rows] == ["rescheduled", "booked"]
        assert rows[1].calcom_booking_uid == stack.emulator.bookings[1].uid

    async def test_cancel_of_unanswered_booking_cancels_in_calcom(self, stack: Stack) -> None:
        """Cancelling a booking whose create answer was lost cancels Cal.com's booking too."""
        stack.emulator.webhooks.knobs.hold = True
        stack.emulator.faults.timeout_after_commit(seconds=5)
        assert (await stack.call("book_appointment", ARGS))["status"] == "pending"
        cancelled = await stack.call("cancel_appointment", {"date": "2027-01-15"}, call_id="c2")
        assert cancelled["status"] == "cancelled", cancelled
        assert [b.status for b in stack.emulator.bookings] == ["cancelled"]
        assert [r.status for r in await stack.appointments()] == ["cancelled"]

    async def test_cancel_while_create_in_flight_is_busy(self, stack: Stack) -> None:
        """A pending booking the calendar does not know yet is not cancelled blindly."""
        stack.emulator.faults.fail_next(status=500, route="POST /v2/bookings")
        assert (await stack.call("book_appointment", ARGS))["status"] == "pending"
        reply = await stack.call("cancel_appointment", {"date": "2027-01-15"}, call_id="c2")
        assert (reply["status"], reply["reason"]) == ("pending", "busy")
        assert [r.status for r in await stack.appointments()] == ["pending"]
