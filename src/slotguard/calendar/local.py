"""The local calendar: bookings kept in our own database, one host per company, opening hours.

It is the embedded default, so a demo salon works with no account anywhere. A slot is taken
when another appointment of the company that the calendar has confirmed overlaps it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from slotguard.calendar.provider import (
    RESERVATION_METADATA_KEY,
    CalendarBooking,
    CreateBooking,
    CreateOutcome,
    CreateResult,
)
from slotguard.domain import Company, Reason, TimeRange
from slotguard.store.appointments import AppointmentRepository

LOCAL_UID_PREFIX = "local-"
# Offered start times lie on this grid (or the service length, if shorter).
SLOT_STEP = timedelta(minutes=30)


class LocalCalendar:
    """CalendarProvider over our own appointments table."""

    name = "local"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        company: Company,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.company = company
        self.clock = clock

    async def free_slots(
        self, *, window: TimeRange, duration_minutes: int, event_type_id: int | None
    ) -> list[datetime]:
        """Starts inside opening hours, not in the past, not overlapping a held slot."""
        length = timedelta(minutes=duration_minutes)
        step = min(SLOT_STEP, length)
        async with self.sessions() as session:
            busy = await AppointmentRepository(session).company_busy(self.company.id, window)
        earliest = self.clock()
        slots: set[datetime] = set()
        for open_span in self.company.opening_hours.open_spans(window, self.company.tz):
            # The grid, plus the window's own start: a caller may ask for 10:15 exactly.
            candidates = [window.start]
            start = open_span.start
            while start + length <= open_span.end:
                candidates.append(start)
                start += step
            for begin in candidates:
                candidate = TimeRange(begin, begin + length)
                if (
                    begin >= max(earliest, window.start)
                    and open_span.start <= begin
                    and candidate.end <= open_span.end
                    and not any(candidate.overlaps(b) for b in busy)
                ):
                    slots.add(begin)
        return sorted(slots)

    async def create_booking(self, request: CreateBooking) -> CreateResult:
        """Confirm the pending row of ``request`` unless hours or another booking forbid it."""
        return await self._book(request, ignore_uid=None)

    async def find_booking(self, request: CreateBooking) -> CalendarBooking | None:
        """The local booking made for this reservation, if it was confirmed."""
        async with self.sessions() as session:
            row = await AppointmentRepository(session).by_reservation_key(request.reservation_key)
        if row is None or row.calcom_booking_uid is None:
            return None
        return _booking(row.calcom_booking_uid, row.span, request.reservation_key)

    async def get_booking(self, uid: str) -> CalendarBooking | None:
        """The local booking with this uid (its row's status decides whether it is active)."""
        async with self.sessions() as session:
            row = await AppointmentRepository(session).by_calcom_uid(uid)
        if row is None:
            return None
        status = "accepted" if row.is_active else "cancelled"
        return CalendarBooking(uid=uid, span=row.span, status=status)

    async def reschedule_booking(
        self, uid: str, new_span: TimeRange, request: CreateBooking
    ) -> CreateResult:
        """Confirm the new row; the old booking's own time does not block its move."""
        return await self._book(request, ignore_uid=uid)

    async def cancel_booking(self, uid: str, reason: str) -> None:
        """Nothing to do: the use case's status change frees the slot."""

    async def _book(self, request: CreateBooking, ignore_uid: str | None) -> CreateResult:
        span = request.span
        if span.start < self.clock():
            return _refused(Reason.OUT_OF_BOUNDS, "in the past")
        if not self.company.opening_hours.covers(span, self.company.tz):
            return _refused(Reason.OUT_OF_BOUNDS, "outside opening hours")
        uid = LOCAL_UID_PREFIX + request.reservation_key
        async with self.sessions() as session, session.begin():
            repo = AppointmentRepository(session)
            await repo.lock_company_calendar(self.company.id)
            taken = await repo.calendar_conflicts(self.company.id, span, ignore_uid=ignore_uid)
            if taken:
                return _refused(Reason.SLOT_TAKEN, "slot taken")
            if not await repo.confirm_in_calendar(request.reservation_key, uid):
                return _refused(Reason.INVALID, "no pending reservation")
        return CreateResult(CreateOutcome.BOOKED, _booking(uid, span, request.reservation_key))


def _booking(uid: str, span: TimeRange, key: str) -> CalendarBooking:
    return CalendarBooking(
        uid=uid, span=span, status="accepted", metadata={RESERVATION_METADATA_KEY: key}
    )


def _refused(kind: Reason, detail: str) -> CreateResult:
    return CreateResult(CreateOutcome.REFUSED, refusal=kind, detail=detail)
