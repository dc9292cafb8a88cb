"""Calendars of record behind one protocol: the local calendar and Cal.com API v2."""

from slotguard.calendar.provider import (
    AvailabilityUnknown,
    CalendarBooking,
    CalendarProvider,
    CalendarUnreachable,
    CreateBooking,
    CreateOutcome,
    CreateResult,
    RateLimited,
)

__all__ = [
    "AvailabilityUnknown",
    "CalendarBooking",
    "CalendarProvider",
    "CalendarUnreachable",
    "CreateBooking",
    "CreateOutcome",
    "CreateResult",
    "RateLimited",
]
