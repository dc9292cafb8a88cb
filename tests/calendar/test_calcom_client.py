"""CalcomCalendar against the emulator: what we send, how answers are read, lookups."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, timedelta

import structlog

from slotguard.calendar import CreateOutcome
from slotguard.domain import Reason, TimeRange
from slotguard.testing import EmulatorConfig, EventTypeConfig
from tests.calendar.conftest import API_KEY, Connect, Harness, at, booking_request


class TestCreateBooking:
    """POST /v2/bookings: the request we send and the outcome we report."""

    async def test_sends_version_key_utc_start_and_metadata(self, cal: Harness) -> None:
        """A create carries the bookings version, the key, a `Z` start and our reservation key."""
        request = booking_request(at(hour=9))
        result = await cal.calendar.create_booking(request)
        assert result.outcome is CreateOutcome.BOOKED
        [sent] = [r for r in cal.sent if r.method == "POST"]
        assert sent.headers["cal-api-version"] == "2024-08-13"
        assert sent.headers["authorization"] == f"Bearer {API_KEY}"
        [logged] = [r for r in cal.emulator.request_log if r.method == "POST"]
        body = logged.body
        assert body["start"] == at(hour=9).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert body["eventTypeId"] == 1001
        assert body["metadata"] == {"slotguard_reservation": request.reservation_key}
        assert body["attendee"] == {
            "name": "Max Müller", "email": "max@example.de", "phoneNumber": "+4915112345678",
            "timeZone": "Europe/Berlin", "language": "de",
        }  # fmt: skip

    async def test_phone_only_attendee_sends_no_email(self, cal: Harness) -> None:
        """A caller without email is sent with phoneNumber only, never a placeholder email."""
        result = await cal.calendar.create_booking(booking_request(at(), attendee_email=None))
        [logged] = [r for r in cal.emulator.request_log if r.method == "POST"]
        assert "email" not in logged.body["attendee"]
        assert result.booking is not None
        assert result.booking.attendee_phone == "+4915112345678"
        assert result.booking.attendee_email is None  # not Cal.com's <digits>@sms.cal.com

    async def test_booked_is_parsed(self, cal: Harness) -> None:
        """BOOKED carries Cal.com's uid and id, the UTC span and our reservation key."""
        request = booking_request(at(hour=11, minute=30))
        made = (await cal.calendar.create_booking(request)).booking
        [stored] = cal.emulator.bookings
        assert made is not None
        assert (made.uid, made.booking_id, made.status) == (stored.uid, stored.id, "accepted")
        assert made.span == TimeRange(stored.start, stored.end)
        assert made.span.start.tzinfo is not None
        assert made.reservation_key == request.reservation_key

    async def test_taken_slot_is_refused(self, cal: Harness) -> None:
        """Another booking at that time → REFUSED slot_taken."""
        cal.emulator.book_directly(at(hour=14))
        result = await cal.calendar.create_booking(booking_request(at(hour=14)))
        assert (result.outcome, result.refusal) == (CreateOutcome.REFUSED, Reason.SLOT_TAKEN)

    async def test_past_is_out_of_bounds(self, cal: Harness) -> None:
        """A start in the past → REFUSED out_of_bounds."""
        result = await cal.calendar.create_booking(booking_request(at(days=-1)))
        assert result.refusal is Reason.OUT_OF_BOUNDS

    async def test_unknown_event_type_is_invalid(self, cal: Harness) -> None:
        """A 404 for the event type → REFUSED invalid."""
        result = await cal.calendar.create_booking(booking_request(at(), event_type_id=4242))
        assert (result.outcome, result.refusal) == (CreateOutcome.REFUSED, Reason.INVALID)

    async def test_bad_key_is_a_loud_misconfiguration(self, connect: Connect) -> None:
        """An unknown API key → REFUSED invalid, logged as an error without the key."""
        h = await connect(api_key="cal_wrong_key")
        with structlog.testing.capture_logs() as logs:
            result = await h.calendar.create_booking(booking_request(at()))
        assert result.refusal is Reason.INVALID
        assert result.detail.startswith("misconfiguration")
        assert any(entry["log_level"] == "error" for entry in logs)
        assert "cal_wrong_key" not in json.dumps(logs, default=str)

    async def test_booker_limit(self, connect: Connect) -> None:
        """Cal.com's per-booker limit → REFUSED booker_limit."""
        limited = EventTypeConfig(1001, "herrenhaarschnitt", 30, max_active_bookings_per_booker=1)
        h = await connect(EmulatorConfig(event_types=(limited,)))
        first = await h.calendar.create_booking(booking_request(at(hour=9)))
        second = await h.calendar.create_booking(booking_request(at(hour=12)))
        assert first.outcome is CreateOutcome.BOOKED
        assert second.refusal is Reason.BOOKER_LIMIT

    async def test_incomplete_requests_are_not_sent(self, cal: Harness) -> None:
        """No event type, or neither email nor phone: REFUSED invalid without a request."""
        no_type = booking_request(at(), event_type_id=None)
        nobody = booking_request(at(), attendee_email=None, attendee_phone=None)
        for request in (no_type, nobody):
            result = await cal.calendar.create_booking(request)
            assert result.refusal is Reason.INVALID
        assert cal.emulator.count("POST", "/v2/bookings") == 0


class TestFindBooking:
    """find_booking matches on our reservation key in the booking's metadata."""

    async def test_none_when_absent(self, cal: Harness) -> None:
        """Another booking at the same time with another key is not ours: None."""
        cal.emulator.book_directly(at(), email="max@example.de", metadata={"other": "x"})
        assert await cal.calendar.find_booking(booking_request(at())) is None

    async def test_finds_by_key_never_by_attendee(self, cal: Harness) -> None:
        """The lookup lists the event type's bookings and matches our key, whoever attends."""
        request = booking_request(at(hour=16), attendee_email="Max@Example.DE")
        made = (await cal.calendar.create_booking(request)).booking
        # Known by another name and email now: the booking is still found by our key.
        later = replace(request, attendee_name="Someone Else", attendee_email="other@example.de")
        found = await cal.calendar.find_booking(later)
        assert found is not None and made is not None and found.uid == made.uid
        [query] = [r.query for r in cal.emulator.request_log if r.method == "GET"]
        assert "attendeeEmail" not in query and "attendeeName" not in query
        assert query["eventTypeId"] == "1001"

    async def test_finds_a_phone_only_booking(self, cal: Harness) -> None:
        """Without email the lookup still finds the booking by key (no email filter)."""
        request = booking_request(at(hour=8), attendee_email=None)
        await cal.calendar.create_booking(request)
        found = await cal.calendar.find_booking(request)
        assert found is not None and found.reservation_key == request.reservation_key


class TestListAndGet:
    """Paged listing for sync, and single lookups."""

    async def test_pages_through_everything(self, cal: Harness) -> None:
        """Five bookings with page size 2 come back complete in three requests."""
        starts = [at(hour=8 + i) for i in range(5)]
        for start in starts:
            cal.emulator.book_directly(start)
        window = (at(hour=0), at(hour=23))
        found = [b async for b in cal.calendar.list_bookings(*window, page_size=2)]
        assert sorted(b.span.start for b in found) == starts
        skips = [r.query["skip"] for r in cal.emulator.request_log if r.method == "GET"]
        assert skips == ["0", "2", "4"]

    async def test_get_unknown_is_none(self, cal: Harness) -> None:
        """A uid Cal.com does not know → None."""
        assert await cal.calendar.get_booking("no-such-uid") is None


class TestRescheduleAndCancel:
    """Reschedule gives a new booking; cancel is idempotent."""

    async def test_reschedule_returns_a_new_uid(self, cal: Harness) -> None:
        """The result is a new booking at the new time that points back to the old uid."""
        request = booking_request(at(hour=9))
        old = (await cal.calendar.create_booking(request)).booking
        assert old is not None
        new_span = TimeRange(at(hour=15), at(hour=15) + timedelta(minutes=30))
        result = await cal.calendar.reschedule_booking(old.uid, new_span, request)
        assert result.outcome is CreateOutcome.BOOKED and result.booking is not None
        assert result.booking.uid != old.uid
        assert result.booking.rescheduled_from_uid == old.uid
        assert result.booking.span.start == new_span.start.astimezone(UTC)
        moved = await cal.calendar.get_booking(old.uid)
        assert moved is not None and moved.status == "cancelled"

    async def test_reschedule_onto_a_taken_slot(self, cal: Harness) -> None:
        """Moving onto someone else's time → REFUSED slot_taken; the old booking stays."""
        request = booking_request(at(hour=9))
        old = (await cal.calendar.create_booking(request)).booking
        cal.emulator.book_directly(at(hour=13))
        assert old is not None
        span = TimeRange(at(hour=13), at(hour=13, minute=30))
        result = await cal.calendar.reschedule_booking(old.uid, span, request)
        assert result.refusal is Reason.SLOT_TAKEN
        kept = await cal.calendar.get_booking(old.uid)
        assert kept is not None and kept.is_active

    async def test_cancel_twice_and_unknown(self, cal: Harness) -> None:
        """Cancelling frees the slot; a second cancel and an unknown uid are not errors."""
        made = (await cal.calendar.create_booking(booking_request(at(hour=10)))).booking
        assert made is not None
        await cal.calendar.cancel_booking(made.uid, "Kunde hat abgesagt")
        await cal.calendar.cancel_booking(made.uid, "again")
        await cal.calendar.cancel_booking("no-such-uid", "")
        gone = await cal.calendar.get_booking(made.uid)
        assert gone is not None and gone.status == "cancelled"
        assert cal.emulator.count("POST", "/v2/bookings/{uid}/cancel") == 3
