"""classify_create: a create or reschedule answer → BOOKED / REFUSED(kind) / AMBIGUOUS."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotguard.calendar import CreateOutcome
from slotguard.calendar.calcom_schemas import classify_create, error_text
from slotguard.domain import Reason

UNAVAILABLE = "User either already has booking at this time or is not available"
HOSTS_UNAVAILABLE = "One of the hosts either already has booking at this time or is not available"
RESERVED = (
    "Someone else reserved this booking time slot before you. This time slot will be freed up "
    "in 120 seconds."
)
OUT_OF_BOUNDS = (
    'The event type can\'t be booked at the "start" time provided. This could be because '
    "it's too soon (violating the minimum booking notice) or too far in the future"
)
PAST = "Attempting to book a meeting in the past."
BOOKER_LIMIT = (
    "Attendee with this email can't book because the maximum number of active bookings "
    "has been reached."
)
BOOKER_LIMIT_RESCHEDULE = (
    f"{BOOKER_LIMIT} You can reschedule your existing booking (abc123) to a new timeslot instead."
)


def envelope(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Cal.com's error envelope (docs/calcom-and-retell-facts.md §2.4)."""
    return {
        "status": "error",
        "timestamp": "2026-11-25T09:00:00.000Z",
        "path": "/v2/bookings",
        "error": {"code": code, "message": message, "details": details},
    }


def bad_request(message: str) -> dict[str, Any]:
    """Nest's BadRequestException in the envelope."""
    details = {"message": message, "error": "Bad Request", "statusCode": 400}
    return envelope(400, "BadRequestException", message, details)


def booking(**overrides: Any) -> dict[str, Any]:
    """A minimal 2024-08-13 booking output."""
    data: dict[str, Any] = {
        "id": 7,
        "uid": "bk_7",
        "start": "2026-12-01T09:00:00.000Z",
        "end": "2026-12-01T09:30:00.000Z",
        "status": "accepted",
        "eventType": {"id": 1001, "slug": "herrenhaarschnitt"},
        "metadata": {"slotguard_reservation": "rk1", "videoCallUrl": "https://x"},
        "attendees": [{"name": "Max", "email": "4915112345678@sms.cal.com",
                       "timeZone": "Europe/Berlin", "phoneNumber": "+4915112345678"}],
        "someFutureField": {"ignored": True},
    }  # fmt: skip
    data.update(overrides)
    return {"status": "success", "data": data}


VALIDATION = envelope(
    400,
    "BadRequestException",
    "Bad Request Exception",
    {"errors": [{"property": "attendee", "constraints": {"x": "bad"}}]},
)
NO_EVENT_TYPE = envelope(404, "NotFoundException", "Event type with id 5 not found.")
BAD_KEY = envelope(401, "UnauthorizedException", "CustomThrottlerGuard - Invalid API Key")
PRISMA_CONFLICT = envelope(
    409, "CONFLICT", "Invalid Input: Trying to create a record that already exists."
)

REFUSALS = [
    (400, bad_request(UNAVAILABLE), Reason.SLOT_TAKEN),
    (400, bad_request(HOSTS_UNAVAILABLE), Reason.SLOT_TAKEN),
    (400, bad_request(RESERVED), Reason.SLOT_TAKEN),
    (400, bad_request(OUT_OF_BOUNDS), Reason.OUT_OF_BOUNDS),
    (400, bad_request(PAST), Reason.OUT_OF_BOUNDS),
    (400, bad_request(BOOKER_LIMIT), Reason.BOOKER_LIMIT),
    (400, bad_request(BOOKER_LIMIT_RESCHEDULE), Reason.BOOKER_LIMIT),
    (400, VALIDATION, Reason.INVALID),
    (400, bad_request("email or phoneNumber is required"), Reason.NEEDS_CONTACT),
    (400, bad_request("attendee.email must be an email"), Reason.NEEDS_CONTACT),
    (400, bad_request("attendee.phoneNumber invalid phone number"), Reason.NEEDS_CONTACT),
    (400, bad_request("responses - {title}error_required_field"), Reason.INVALID),
    (400, bad_request("Something Cal.com says that we do not know yet"), Reason.INVALID),
    (422, {"message": "Unprocessable"}, Reason.INVALID),
    (404, NO_EVENT_TYPE, Reason.INVALID),
    (401, BAD_KEY, Reason.INVALID),
    (403, envelope(403, "ForbiddenException", "Forbidden"), Reason.INVALID),
    (403, {"statusCode": 403, "message": "booking_limit_reached"}, Reason.SLOT_TAKEN),
    (400, bad_request("duration_limit_reached"), Reason.SLOT_TAKEN),
]

AMBIGUOUS = [
    (409, {"statusCode": 409, "message": "booking_conflict_error"}),
    (409, PRISMA_CONFLICT),
    (429, envelope(429, "ThrottlerException", "Too many requests. Please try again later.")),
    (500, envelope(500, "INTERNAL_SERVER_ERROR", "Internal server error.")),
    (502, None),
    (503, "<html>Service Unavailable</html>"),
    (504, None),
    (408, None),
    (201, None),
    (201, "not json at all"),
    (201, {"status": "success", "data": {"uid": "x"}}),
    (201, booking(end="2026-12-01T08:00:00.000Z")),
    (201, booking(start="2026-12-01T09:00:00")),
    (201, {"status": "success", "data": []}),
]


class TestClassifyCreate:
    """Status and message text decide the outcome (docs/calcom-and-retell-facts.md §2.4)."""

    @pytest.mark.parametrize(("status", "payload", "kind"), REFUSALS)
    def test_refusals(self, status: int, payload: Any, kind: Reason) -> None:
        """Definite refusals carry the refusal kind their status and text imply."""
        result = classify_create(status, payload)
        assert (result.outcome, result.refusal) == (CreateOutcome.REFUSED, kind)

    @pytest.mark.parametrize(("status", "payload"), AMBIGUOUS)
    def test_ambiguous(self, status: int, payload: Any) -> None:
        """409, 429, 5xx, 408 and unparseable 2xx answers may hide a booking: AMBIGUOUS."""
        result = classify_create(status, payload)
        assert result.outcome is CreateOutcome.AMBIGUOUS
        assert result.booking is None

    def test_booked_parses_the_booking(self) -> None:
        """A 201 becomes BOOKED with uid, UTC span, metadata and the attendee's phone."""
        result = classify_create(201, booking())
        assert result.outcome is CreateOutcome.BOOKED
        made = result.booking
        assert made is not None
        assert (made.uid, made.booking_id, made.event_type_id) == ("bk_7", 7, 1001)
        assert made.span.start == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        assert made.reservation_key == "rk1"
        assert made.attendee_phone == "+4915112345678"

    def test_sms_stand_in_email_is_not_reported(self) -> None:
        """Cal.com's `<digits>@sms.cal.com` is not the caller's email, so it is dropped."""
        made = classify_create(201, booking()).booking
        assert made is not None and made.attendee_email is None

    def test_recurring_list_books_the_first(self) -> None:
        """A recurring create answers a list; its first booking is reported."""
        series = {"status": "success", "data": [booking()["data"], booking(uid="bk_8")["data"]]}
        made = classify_create(201, series).booking
        assert made is not None and made.uid == "bk_7"

    def test_misconfiguration_is_flagged(self) -> None:
        """401/403 refusals say 'misconfiguration' so they are logged loudly."""
        result = classify_create(401, envelope(401, "UnauthorizedException", "Invalid API Key"))
        assert result.detail.startswith("misconfiguration")

    @given(status=st.integers(100, 599).filter(lambda s: s in (408, 409, 429) or s >= 500))
    def test_never_refused_when_it_may_exist(self, status: int) -> None:
        """No answer that may hide a booking is ever classified as a refusal."""
        assert classify_create(status, bad_request(UNAVAILABLE)).outcome is CreateOutcome.AMBIGUOUS


class TestErrorText:
    """error_text reads Cal.com's error answers however they are nested."""

    def test_envelope(self) -> None:
        """Message, code and detail texts are joined without repeats."""
        text = error_text(bad_request(UNAVAILABLE))
        assert UNAVAILABLE in text and "BadRequestException" in text
        assert text.count(UNAVAILABLE) == 1

    def test_plain_message(self) -> None:
        """A core HttpError's `{statusCode, message}` is read too."""
        assert error_text({"statusCode": 409, "message": "booking_conflict_error"}) == (
            "booking_conflict_error"
        )

    @pytest.mark.parametrize("payload", [None, "text", [1, 2], {"status": "error"}])
    def test_not_an_envelope(self, payload: Any) -> None:
        """Anything else yields an empty text instead of an error."""
        assert error_text(payload) == ""
