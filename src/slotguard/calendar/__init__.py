"""Calendars of record behind one protocol: the local calendar and Cal.com API v2."""

from slotguard.calendar.provider import (
    CalendarBooking,
    CalendarProvider,
    CalendarUnreachable,
    CreateBooking,
    CreateOutcome,
    CreateResult,
)

__all__ = [
    "CalendarBooking",
    "CalendarProvider",
    "CalendarUnreachable",
    "CreateBooking",
    "CreateOutcome",
    "CreateResult",
]
