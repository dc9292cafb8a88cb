"""Signed webhook delivery to a real receiver, and the delivery knobs."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .conftest import CalClient, Hook, Received

SECRET = "whsec_test"


def _verified(received: Received, secret: str = SECRET) -> dict[str, Any]:
    """The decoded body after checking the signature over the exact bytes."""
    expected = hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received.headers["x-cal-signature-256"], expected)
    assert received.headers["x-cal-webhook-version"] == "2021-10-20"
    assert received.headers["content-type"] == "application/json"
    body: dict[str, Any] = json.loads(received.body)
    return body


class TestDelivery:
    """One signed POST per event, with the 2021-10-20 payload."""

    async def test_created_payload_and_signature(self, cal: CalClient, hook: Hook) -> None:
        """BOOKING_CREATED is signed with HMAC-SHA256 and carries the booking and metadata."""
        cal.emulator.subscribe_webhook(hook.url, SECRET)
        attendee = {
            "name": "Max Müller",
            "email": "max@example.de",
            "phoneNumber": "+4915112345678",
            "timeZone": "Europe/Berlin",
            "language": "de",
        }
        data = await cal.booked(
            cal.at(hour=13), attendee=attendee, metadata={"slotguard_reservation": "res-9"}
        )
        [received] = await hook.wait(1)
        body = _verified(received)
        assert set(body) == {"triggerEvent", "createdAt", "payload"}
        assert body["triggerEvent"] == "BOOKING_CREATED"
        payload = body["payload"]
        assert (payload["uid"], payload["bookingId"]) == (data["uid"], data["id"])
        assert (payload["eventTypeId"], payload["type"], payload["length"]) == (
            1001,
            "herrenhaarschnitt",
            30,
        )
        assert payload["startTime"] == data["start"].replace(".000Z", "Z")
        assert payload["status"] == "ACCEPTED"
        assert payload["metadata"] == {"slotguard_reservation": "res-9"}
        assert payload["organizer"]["email"] == "host@example.com"
        [person] = payload["attendees"]
        assert (person["name"], person["email"], person["timeZone"]) == (
            "Max Müller",
            "max@example.de",
            "Europe/Berlin",
        )
        assert person["phoneNumber"] == "+4915112345678" and person["language"] == {"locale": "de"}
        assert payload["responses"]["name"]["value"] == "Max Müller"
        assert payload["responses"]["email"]["value"] == "max@example.de"
        assert payload["responses"]["attendeePhoneNumber"]["value"] == "+4915112345678"

    async def test_without_secret_the_literal_is_sent(self, cal: CalClient, hook: Hook) -> None:
        """A subscription without a secret sends `no-secret-provided`."""
        cal.emulator.subscribe_webhook(hook.url)
        await cal.booked(cal.at())
        [received] = await hook.wait(1)
        assert received.headers["x-cal-signature-256"] == "no-secret-provided"

    async def test_reschedule_payload(self, cal: CalClient, hook: Hook) -> None:
        """BOOKING_RESCHEDULED: uid is the new booking, rescheduleUid the old one."""
        old = await cal.booked(cal.at(hour=9))
        cal.emulator.subscribe_webhook(hook.url, SECRET)
        response = await cal.post(
            f"/v2/bookings/{old['uid']}/reschedule", {"start": cal.z(cal.at(hour=14))}
        )
        new = response.json()["data"]
        [received] = await hook.wait(1)
        body = _verified(received)
        assert body["triggerEvent"] == "BOOKING_RESCHEDULED"
        payload = body["payload"]
        assert (payload["uid"], payload["rescheduleUid"]) == (new["uid"], old["uid"])
        assert payload["rescheduleId"] == old["id"]
        assert payload["rescheduleStartTime"] == old["start"].replace(".000Z", "Z")
        assert payload["startTime"] == new["start"].replace(".000Z", "Z")

    async def test_cancel_payload_and_trigger_filter(self, cal: CalClient, hook: Hook) -> None:
        """A BOOKING_CANCELLED-only subscriber gets the cancel, uppercase status, and the reason."""
        cal.emulator.subscribe_webhook(hook.url, SECRET, triggers=["BOOKING_CANCELLED"])
        data = await cal.booked(cal.at())
        await cal.post(f"/v2/bookings/{data['uid']}/cancel", {"cancellationReason": "sick"})
        [received] = await hook.wait(1)
        body = _verified(received)
        assert body["triggerEvent"] == "BOOKING_CANCELLED"
        assert body["payload"]["status"] == "CANCELLED"
        assert body["payload"]["cancellationReason"] == "sick"

    async def test_direct_booking_fires_the_webhook(self, cal: CalClient, hook: Hook) -> None:
        """A booking made "on the website" is announced like any other."""
        cal.emulator.subscribe_webhook(hook.url, SECRET)
        row = cal.emulator.book_directly(cal.at(), metadata={"origin": "web"})
        [received] = await hook.wait(1)
        payload = _verified(received)["payload"]
        assert payload["uid"] == row.uid and payload["metadata"] == {"origin": "web"}
        assert (await cal.create(cal.at())).status_code == 400  # the website booking holds the slot

    async def test_failed_delivery_is_logged_not_retried(self, cal: CalClient, hook: Hook) -> None:
        """A 500 from the subscriber is logged as failed and sent only once."""
        hook.answer(500)
        cal.emulator.subscribe_webhook(hook.url, SECRET)
        await cal.booked(cal.at())
        [delivery] = await cal.emulator.webhooks.wait_for(1)
        assert (delivery.outcome, delivery.status_code) == ("failed", 500)
        await cal.booked(cal.at(hour=15))
        await hook.wait(2)
        assert len(hook.received) == 2  # one per booking, no retries

    async def test_unreachable_subscriber_is_logged(self, cal: CalClient) -> None:
        """A subscriber that refuses connections is logged with the error."""
        cal.emulator.subscribe_webhook("http://127.0.0.1:9/hook", SECRET)
        await cal.booked(cal.at())
        [delivery] = await cal.emulator.webhooks.wait_for(1)
        assert delivery.outcome == "failed" and delivery.error


class TestKnobs:
    """drop, duplicate, delay and hold/release."""

    async def test_drop_sends_nothing(self, cal: CalClient, hook: Hook) -> None:
        """Dropped deliveries are logged as dropped and never arrive."""
        cal.emulator.subscribe_webhook(hook.url, SECRET)
        cal.emulator.webhooks.knobs.drop = True
        await cal.booked(cal.at())
        assert [d.outcome for d in cal.emulator.webhooks.deliveries] == ["dropped"]
        cal.emulator.webhooks.knobs.drop = False
        await cal.booked(cal.at(hour=15))
        [received] = await hook.wait(1)
        assert b'"length":30' in received.body and hook.received == [received]

    async def test_duplicate_sends_the_same_body_twice(self, cal: CalClient, hook: Hook) -> None:
        """Each webhook arrives twice with identical bytes and signature."""
        cal.emulator.subscribe_webhook(hook.url, SECRET)
        cal.emulator.webhooks.knobs.duplicate = True
        await cal.booked(cal.at())
        first, second = await hook.wait(2)
        assert first.body == second.body
        assert first.headers["x-cal-signature-256"] == second.headers["x-cal-signature-256"]

    async def test_delay(self, cal: CalClient, hook: Hook) -> None:
        """With delay_seconds=0.3 the webhook arrives at least 0.3 s after the response."""
        cal.emulator.subscribe_webhook(hook.url, SECRET)
        cal.emulator.webhooks.knobs.delay_seconds = 0.3
        await cal.booked(cal.at())
        answered = time.monotonic()
        [received] = await hook.wait(1)
        assert received.arrived - answered >= 0.25

    async def test_hold_and_release_in_reverse(self, cal: CalClient, hook: Hook) -> None:
        """Held deliveries are sent on release, here in reverse: cancel before create."""
        cal.emulator.subscribe_webhook(hook.url, SECRET)
        cal.emulator.webhooks.knobs.hold = True
        data = await cal.booked(cal.at())
        await cal.post(f"/v2/bookings/{data['uid']}/cancel", {})
        assert hook.received == []
        assert cal.emulator.webhooks.release("reverse") == 2
        received = await hook.wait(2)
        assert [_verified(r)["triggerEvent"] for r in received] == [
            "BOOKING_CANCELLED",
            "BOOKING_CREATED",
        ]

    async def test_knobs_and_release_over_http(self, cal: CalClient, hook: Hook) -> None:
        """Subscribe, hold and release through the admin routes."""
        await cal.http.post("/_emulator/webhooks", json={"url": hook.url, "secret": SECRET})
        await cal.http.post("/_emulator/webhooks/knobs", json={"hold": True})
        await cal.booked(cal.at())
        released = await cal.http.post("/_emulator/webhooks/release", json={"order": "fifo"})
        assert released.json() == {"released": 1}
        await hook.wait(1)
        log = (await cal.http.get("/_emulator/webhooks")).json()
        assert log["subscriptions"][0]["url"] == hook.url
        assert log["deliveries"][0]["trigger"] == "BOOKING_CREATED"

    async def test_release_by_permutation(self, cal: CalClient, hook: Hook) -> None:
        """release() takes an explicit permutation and refuses anything else without losing any."""
        cal.emulator.subscribe_webhook(hook.url, SECRET)
        cal.emulator.webhooks.knobs.hold = True
        first = await cal.booked(cal.at(hour=9))
        second = await cal.booked(cal.at(hour=10))
        with pytest.raises(ValueError, match="permutation"):
            cal.emulator.webhooks.release([0, 0])
        assert cal.emulator.webhooks.release([1, 0]) == 2
        received = await hook.wait(2)
        uids = [_verified(item)["payload"]["uid"] for item in received]
        assert uids == [second["uid"], first["uid"]]
