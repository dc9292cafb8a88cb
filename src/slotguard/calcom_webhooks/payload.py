"""The parts of Cal.com's webhook body (version 2021-10-20) that slotguard applies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from slotguard.calendar.provider import RESERVATION_METADATA_KEY

# Cal.com gives phone-only attendees this made-up address; it identifies nobody.
SMS_EMAIL_SUFFIX = "@sms.cal.com"


class Attendee(BaseModel):
    """A booking attendee."""

    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    email: str | None = None
    phoneNumber: str | None = None
    timeZone: str | None = None


class BookingPayload(BaseModel):
    """``payload`` of BOOKING_* events."""

    model_config = ConfigDict(extra="ignore")
    uid: str | None = None
    bookingId: int | None = None
    eventTypeId: int | None = None
    title: str | None = None
    length: int | None = None
    startTime: datetime | None = None
    endTime: datetime | None = None
    status: str | None = None
    attendees: list[Attendee] = Field(default_factory=list)
    responses: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    rescheduleUid: str | None = None

    @field_validator("metadata", "responses", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return value or {}

    @property
    def booker(self) -> Attendee | None:
        """The person who booked (Cal.com lists the booker first, then guests)."""
        return self.attendees[0] if self.attendees else None

    @property
    def phone(self) -> str | None:
        """The booker's phone number, from the attendee or the booking form."""
        if self.booker is not None and self.booker.phoneNumber:
            return self.booker.phoneNumber
        field = self.responses.get("attendeePhoneNumber")
        value = field.get("value") if isinstance(field, dict) else field
        return value if isinstance(value, str) and value else None

    @property
    def email(self) -> str | None:
        """The booker's real email, never Cal.com's placeholder for phone-only bookers."""
        email = self.booker.email if self.booker is not None else None
        if not email or email.lower().endswith(SMS_EMAIL_SUFFIX):
            return None
        return email

    @property
    def reservation_key(self) -> str | None:
        """Our reservation key, when we made this booking."""
        value = self.metadata.get(RESERVATION_METADATA_KEY)
        return value if isinstance(value, str) and value else None


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
