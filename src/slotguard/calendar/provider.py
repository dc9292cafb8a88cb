"""The CalendarProvider seam: what the booking use cases need from a calendar of record.

Two implementations: ``local`` (bookings kept in our database, opening hours from the tenants
file) and ``calcom`` (Cal.com API v2). Outcomes of a create are values, because the booking
state machine branches on them; transport failures are ``CalendarUnreachable``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from slotguard.domain import Reason, TimeRange

# Our key in a booking's metadata (docs/architecture.md §6): every create carries our reservation
# key here,
# so a webhook, the reconciler or a sync can match the booking to our pending row.
RESERVATION_METADATA_KEY = "slotguard_reservation"


class CreateOutcome(enum.StrEnum):
    """How a create (or reschedule) ended, as far as we can know."""

    BOOKED = "booked"  # the calendar holds the booking
    REFUSED = "refused"  # the calendar definitely did not book (slot taken, out of bounds, limit)
    AMBIGUOUS = "ambiguous"  # timeout, 409, 429, 5xx, connection error: it may or may not exist


class CalendarUnreachable(Exception):
    """The calendar could not be asked (network, 5xx, rate limit exhausted) for a read."""


class RateLimited(CalendarUnreachable):
    """Not sent: the API key's request budget has no room within the wait allowed."""


class AvailabilityUnknown(CalendarUnreachable):
    """Free slots cannot be told now: no budget for a lookup and no earlier answer to use.

    The agent says availability cannot be checked right now; nothing suggests the calendar
    is down (a distinct reason from ``calendar_unreachable``).
    """


@dataclass(frozen=True, slots=True)
class CreateBooking:
    """Everything a calendar needs to book one appointment, in its own terms."""

    reservation_key: str  # carried as metadata.slotguard_reservation
    company_id: int
    service_name: str
    span: TimeRange
    time_zone: str
    language: str
    attendee_name: str
    attendee_email: str | None = None
    attendee_phone: str | None = None
    event_type_id: int | None = None
    api_key: str | None = None
    staff_key: str | None = None  # the person booked (local calendar; Cal.com: the event type)
    # The caller asked for this person: the local calendar may not hand the booking to another.
    staff_wished: bool = False
    buffer_minutes: int = 0  # time the person stays busy after it (local calendar)


@dataclass(frozen=True, slots=True)
class CalendarBooking:
    """A booking as the calendar reports it."""

    uid: str
    span: TimeRange
    status: str  # accepted | pending | cancelled | rejected (Cal.com's lowercase REST values)
    booking_id: int | None = None
    event_type_id: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    attendee_name: str | None = None
    attendee_email: str | None = None
    attendee_phone: str | None = None
    rescheduled_from_uid: str | None = None
    rescheduled_to_uid: str | None = None  # set on the old booking once it was moved
    staff_key: str | None = None  # the person who serves it (local calendar)

    @property
    def reservation_key(self) -> str | None:
        """Our reservation key, when we made this booking."""
        return self.metadata.get(RESERVATION_METADATA_KEY)

    @property
    def is_active(self) -> bool:
        """True unless cancelled or rejected."""
        return self.status in ("accepted", "pending")


@dataclass(frozen=True, slots=True)
class CreateResult:
    """The value a create or reschedule returns."""

    outcome: CreateOutcome
    booking: CalendarBooking | None = None
    refusal: Reason | None = None  # one of domain.CALENDAR_REFUSALS
    detail: str = ""


class CalendarProvider(Protocol):
    """A calendar of record for one company."""

    name: str

    async def free_slots(
        self,
        *,
        window: TimeRange,
        duration_minutes: int,
        event_type_id: int | None,
        staff_key: str | None = None,
        buffer: timedelta = timedelta(0),
    ) -> list[datetime]:
        """Start times (aware UTC) inside ``window`` where a booking of that length fits.

        ``staff_key`` names the person (local calendar; on Cal.com the event type does) and
        ``buffer`` the time they stay busy after it (Cal.com: the event type's own buffer).
        """
        ...

    async def create_booking(self, request: CreateBooking) -> CreateResult:
        """Book once. Never retried blindly by callers: AMBIGUOUS is settled by ``find_booking``.

        Raises CalendarUnreachable only when the request was never sent (nothing booked).
        """
        ...

    async def find_booking(self, request: CreateBooking) -> CalendarBooking | None:
        """The booking carrying ``request.reservation_key``, or None when it definitely is absent.

        Raises CalendarUnreachable when the calendar cannot tell.
        """
        ...

    async def get_booking(self, uid: str) -> CalendarBooking | None:
        """The booking with this uid, or None when the calendar does not know it.

        Raises CalendarUnreachable when the calendar cannot tell.
        """
        ...

    async def reschedule_booking(
        self, uid: str, new_span: TimeRange, request: CreateBooking
    ) -> CreateResult:
        """Move a booking; the result carries the new booking (Cal.com gives it a new uid)."""
        ...

    async def cancel_booking(self, uid: str, reason: str) -> None:
        """Cancel a booking; cancelling an already cancelled one is not an error."""
        ...
