"""The parts of Cal.com's webhook body (version 2021-10-20) that slotguard applies.

A booking event's payload is parsed here and handed on as the one type for a Cal.com
booking, ``calendar.CalendarBooking`` (``BookingPayload.to_booking``); what Layer 3 does with
it is ``booking.layer3``'s.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from slotguard.calendar import CalendarBooking
from slotguard.calendar.calcom_schemas import real_email
from slotguard.domain import TimeRange

# Cal.com omits endTime only in old payloads; its default event length is 30 minutes.
DEFAULT_LENGTH_MINUTES = 30
# The widths of the columns these values end up in (BIGINT ids, booking uid, customer name
# and email), so a payload that cannot be stored is refused at the edge, not while applying.
_ID = Field(default=None, ge=0, le=2**63 - 1)
_UID = Field(default=None, max_length=128)


class Attendee(BaseModel):
    """A booking attendee."""

    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phoneNumber: str | None = Field(default=None, max_length=64)
    timeZone: str | None = Field(default=None, max_length=64)


class BookingPayload(BaseModel):
    """``payload`` of BOOKING_* events, read into a CalendarBooking by ``to_booking``."""

    model_config = ConfigDict(extra="ignore")
    uid: str | None = _UID
    bookingId: int | None = _ID
    eventTypeId: int | None = _ID
    title: str | None = None
    length: int | None = Field(default=None, ge=0, le=100_000)
    startTime: datetime | None = None
    endTime: datetime | None = None
    status: str | None = None
    attendees: list[Attendee] = Field(default_factory=list)
    responses: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    rescheduleUid: str | None = _UID

    @field_validator("metadata", "responses", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return value or {}

    def to_booking(self) -> CalendarBooking | None:
        """The booking, or None when the payload lacks a uid or a usable start and end."""
        span = self._span()
        if self.uid is None or span is None:
            return None
        booker = self.attendees[0] if self.attendees else None  # the booker first, then guests
        return CalendarBooking(
            uid=self.uid,
            span=span,
            status=(self.status or "accepted").lower(),
            booking_id=self.bookingId,
            event_type_id=self.eventTypeId,
            metadata={k: v for k, v in self.metadata.items() if isinstance(v, str)},
            attendee_name=booker.name if booker else None,
            attendee_email=real_email(booker.email if booker else None),
            attendee_phone=self._phone(booker),
            rescheduled_from_uid=self.rescheduleUid,
        )

    def _phone(self, booker: Attendee | None) -> str | None:
        """The booker's phone number, from the attendee or the booking form."""
        if booker is not None and booker.phoneNumber:
            return booker.phoneNumber
        field = self.responses.get("attendeePhoneNumber")
        value = field.get("value") if isinstance(field, dict) else field
        return value if isinstance(value, str) and value else None

    def _span(self) -> TimeRange | None:
        if self.startTime is None:
            return None
        length = timedelta(minutes=self.length or DEFAULT_LENGTH_MINUTES)
        end = self.endTime or self.startTime + length
        if self.startTime.tzinfo is None or end.tzinfo is None or end <= self.startTime:
            return None
        return TimeRange(self.startTime, end)


class WebhookBody(BaseModel):
    """``{"triggerEvent", "createdAt", "payload"}``."""

    model_config = ConfigDict(extra="ignore")
    triggerEvent: str = Field(min_length=1, max_length=64)
    createdAt: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("payload", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return value or {}

    def booking(self) -> BookingPayload:
        """The payload as a booking (PING and others have none of its fields)."""
        return BookingPayload.model_validate(self.payload)
