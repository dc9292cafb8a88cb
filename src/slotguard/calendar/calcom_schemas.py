"""Cal.com API v2 on the wire: the shapes we send and read, and what an answer means.

Field names follow Cal.com (camelCase on the wire, snake_case here). Responses ignore extra
fields, so a Cal.com release that adds output fields does not break us; requests forbid them,
because Cal.com's ``ValidationPipe({whitelist: true})`` would silently drop a misspelt one
(docs/calcom-and-retell-facts.md §2.1). Shapes are those of ``cal-api-version`` 2024-08-13
(bookings), 2024-09-04 (slots) and 2024-06-14 (event types). ``classify_create`` turns a
create or reschedule answer into a ``CreateResult`` from its status and message text
(docs/calcom-and-retell-facts.md §2.4), as a pure function over Cal.com's wording, which is
why it lives next to the shapes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from slotguard.calendar.provider import (
    CalendarBooking,
    CreateOutcome,
    CreateResult,
)
from slotguard.domain import Reason, TimeRange

# Cal.com's stand-in email for phone-only bookers (docs/calcom-and-retell-facts.md §2.2)
SMS_EMAIL_SUFFIX = "@sms.cal.com"


def real_email(email: str | None) -> str | None:
    """The booker's real email, never Cal.com's placeholder for phone-only bookers."""
    if not email or email.lower().endswith(SMS_EMAIL_SUFFIX):
        return None
    return email


class _Output(BaseModel):
    """A response shape: camelCase aliases, unknown fields ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class _Input(BaseModel):
    """A request shape: camelCase on the wire, unknown fields refused, ``None`` left out."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def wire(self) -> dict[str, Any]:
        """The JSON body Cal.com expects: aliases, no unset optional fields."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


# -- requests ---------------------------------------------------------------------------------


class AttendeeIn(_Input):
    """``attendee`` of a create: email or phone number (never a placeholder email)."""

    name: str
    time_zone: str
    language: str
    email: str | None = None
    phone_number: str | None = None


class CreateBookingIn(_Input):
    """``POST /v2/bookings`` body; ``start`` is UTC with a ``Z`` (docs/calcom-and-retell-facts.md
    §2.2)."""

    start: str
    event_type_id: int
    attendee: AttendeeIn
    # string values only (docs/calcom-and-retell-facts.md §0.11)
    metadata: dict[str, str] = Field(default_factory=dict)


class RescheduleIn(_Input):
    """``POST /v2/bookings/{uid}/reschedule`` body."""

    start: str
    rescheduling_reason: str | None = None


class CancelIn(_Input):
    """``POST /v2/bookings/{uid}/cancel`` body."""

    cancellation_reason: str | None = None


# -- responses --------------------------------------------------------------------------------


class AttendeeOut(_Output):
    """One attendee of a booking as Cal.com reports it."""

    name: str = ""
    email: str | None = None
    time_zone: str | None = None
    phone_number: str | None = None


class EventTypeRef(_Output):
    """``eventType`` inside a booking."""

    id: int
    slug: str | None = None


class BookingOut(_Output):
    """``BookingOutput_2024_08_13`` (docs/calcom-and-retell-facts.md §2.3), the fields we use."""

    id: int | None = None
    uid: str
    start: datetime
    end: datetime
    status: str
    event_type_id: int | None = None
    event_type: EventTypeRef | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    attendees: list[AttendeeOut] = Field(default_factory=list)
    rescheduled_from_uid: str | None = None
    rescheduled_to_uid: str | None = None

    @field_validator("metadata", mode="before")
    @classmethod
    def _strings_only(cls, value: Any) -> dict[str, str]:
        """String values only, as Cal.com promises; anything else is dropped, not fatal."""
        if not isinstance(value, dict):
            return {}
        return {str(k): v for k, v in value.items() if isinstance(v, str)}

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        """Cal.com writes UTC; a naive time would be a bug we refuse to guess around."""
        if value.tzinfo is None:
            raise ValueError("booking times must carry an offset")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> BookingOut:
        """A booking ends after it starts, so ``to_booking`` cannot fail later."""
        if self.end <= self.start:
            raise ValueError("booking ends before it starts")
        return self

    def to_booking(self) -> CalendarBooking:
        """Our view of this booking (times in UTC, Cal.com's sms stand-in email dropped)."""
        person = self.attendees[0] if self.attendees else None
        return CalendarBooking(
            uid=self.uid,
            span=TimeRange(self.start.astimezone(UTC), self.end.astimezone(UTC)),
            status=self.status.lower(),
            booking_id=self.id,
            event_type_id=self.event_type.id if self.event_type else self.event_type_id,
            metadata=dict(self.metadata),
            attendee_name=person.name if person else None,
            attendee_email=real_email(person.email if person else None),
            attendee_phone=person.phone_number if person else None,
            rescheduled_from_uid=self.rescheduled_from_uid,
            rescheduled_to_uid=self.rescheduled_to_uid,
        )


class BookingEnvelope(_Output):
    """``{"status": "success", "data": Booking}``; a recurring create returns a list."""

    data: BookingOut | list[BookingOut]

    @property
    def first(self) -> BookingOut:
        """The booking, or the first of a recurring series."""
        if isinstance(self.data, list):
            if not self.data:
                raise ValueError("empty booking list")
            return self.data[0]
        return self.data


class Pagination(_Output):
    """The ``pagination`` object of ``GET /v2/bookings``."""

    total_items: int | None = None
    returned_items: int | None = None
    has_next_page: bool | None = None


class BookingListEnvelope(_Output):
    """``GET /v2/bookings`` response."""

    data: list[BookingOut]
    pagination: Pagination | None = None


class SlotOut(_Output):
    """One slot; ``start`` carries the offset of the requested ``timeZone``."""

    start: datetime


class SlotsEnvelope(_Output):
    """``GET /v2/slots`` response: local date → slots (``{}`` when none)."""

    data: dict[str, list[SlotOut]]


class EventTypeOut(_Output):
    """One event type of ``GET /v2/event-types`` (2024-06-14)."""

    id: int
    slug: str = ""
    title: str = ""
    length_in_minutes: int | None = Field(
        default=None, validation_alias=AliasChoices("lengthInMinutes", "length")
    )


class EventTypesEnvelope(_Output):
    """``GET /v2/event-types`` response."""

    data: list[EventTypeOut]


def _strings(value: Any, depth: int = 0) -> list[str]:
    if isinstance(value, str):
        return [value]
    if depth > 4:
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for item in value for s in _strings(item, depth + 1)]
    return []


def error_text(payload: Any) -> str:
    """The text of an error answer, however nested (at most 500 characters).

    Cal.com's envelope is ``{"status": "error", "error": {"code", "message", "details"}}``
    (docs/calcom-and-retell-facts.md §2.4); a core ``HttpError`` may surface as ``{"statusCode",
    "message"}``.
    """
    if not isinstance(payload, dict):
        return ""
    found = _strings(payload.get("error")) + _strings(payload.get("message"))
    return " | ".join(dict.fromkeys(found))[:500]


# -- what an answer to a create or reschedule means (pure) ------------------------------------

_HOST_LIMITS = ("booking_limit_reached", "duration_limit_reached")  # v2 status UNVERIFIED
_BOOKER_LIMIT = ("maximum number of active bookings", "booker_limit_exceeded")
_OUT_OF_BOUNDS = ("can't be booked at the", "in the past", "minimum booking notice",
                  "too soon", "out_of_bounds")  # fmt: skip
# The attendee's contact was refused or missing: only an email address or a phone number helps.
_CONTACT = ("email or phonenumber is required", "isemailorphone", "email must be an email",
            "attendee.email", "invalid phone number", "attendee.phonenumber")  # fmt: skip
_SLOT_TAKEN = ("already has booking", "not available", "someone else reserved",
               "no_available_users", "unavailable_for_booking", *_HOST_LIMITS)  # fmt: skip


def refused(kind: Reason, detail: str) -> CreateResult:
    """A definite refusal: Cal.com did not book."""
    return CreateResult(CreateOutcome.REFUSED, refusal=kind, detail=detail)


def _refusal_of_400(text: str) -> Reason:
    low = text.lower()
    for markers, kind in (
        (_BOOKER_LIMIT, Reason.BOOKER_LIMIT),
        (_CONTACT, Reason.NEEDS_CONTACT),
        (_OUT_OF_BOUNDS, Reason.OUT_OF_BOUNDS),
        (_SLOT_TAKEN, Reason.SLOT_TAKEN),
    ):
        if any(marker in low for marker in markers):
            return kind
    return Reason.INVALID


def classify_create(status: int, payload: Any) -> CreateResult:
    """How a create or reschedule answer ends, on status and message text
    (docs/calcom-and-retell-facts.md §2.4)."""
    if 200 <= status < 300:
        try:
            booking = BookingEnvelope.model_validate(payload).first.to_booking()
        except ValueError as problem:  # pydantic's ValidationError is a ValueError
            return CreateResult(CreateOutcome.AMBIGUOUS, detail=f"unparseable {status}: {problem}")
        return CreateResult(CreateOutcome.BOOKED, booking=booking)
    text = error_text(payload)
    if status in (400, 401, 403, 422) and any(m in text.lower() for m in _HOST_LIMITS):
        return refused(Reason.SLOT_TAKEN, text)
    if status in (400, 422):
        return refused(_refusal_of_400(text), text)
    if status == 404:
        return refused(Reason.INVALID, text)
    if status in (401, 403):
        return refused(Reason.INVALID, f"misconfiguration: HTTP {status}: {text}")
    return CreateResult(CreateOutcome.AMBIGUOUS, detail=f"HTTP {status}: {text}")
