"""The local calendar: bookings kept in our own database, opening hours, staff and buffers.

It is the embedded default, so a demo salon works with no account anywhere. A host is one
person of the company's staff (or the whole company when it names none); a slot is taken
when another appointment of that host that the calendar has confirmed overlaps it, each
appointment keeping its host busy for its service's buffer after it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from slotguard.calendar.provider import (
    RESERVATION_METADATA_KEY,
    CalendarBooking,
    CreateBooking,
    CreateOutcome,
    CreateResult,
)
from slotguard.domain import Company, OpeningHours, Reason, TimeRange
from slotguard.domain.schedule import blocked, grid_starts
from slotguard.store.appointments import AppointmentRepository, calendar_busy_by_host
from slotguard.store.driver import Driver, Lane

LOCAL_UID_PREFIX = "local-"
# Offered start times lie on this grid (or the service length, if shorter).
SLOT_STEP = timedelta(minutes=30)
# The longest buffer the tenants file allows: how far before a window a neighbour may reach.
MAX_BUFFER = timedelta(days=1)


class LocalCalendar:
    """CalendarProvider over our own appointments table."""

    name = "local"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        company: Company,
        clock: Callable[[], datetime],
        *,
        reads: async_sessionmaker[AsyncSession] | None = None,
        driver: Driver | None = None,
    ) -> None:
        self.sessions = sessions
        # Lookups are one statement each: sessions that commit per statement save the BEGIN
        # and ROLLBACK round trips (store.db.statement_session_factory).
        self.reads = reads or sessions
        self.driver = driver or Driver(sessions.kw["bind"], self.reads)
        self.company = company
        self.clock = clock
        # Made per use (Context.calendar): the hosts asked about one window in that use share
        # one read of it (offer.offers_in asks each person in turn).
        self._near: dict[TimeRange, list[tuple[str | None, TimeRange]]] = {}

    async def free_slots(
        self,
        *,
        window: TimeRange,
        duration_minutes: int,
        event_type_id: int | None,
        staff_key: str | None = None,
        buffer: timedelta = timedelta(0),
    ) -> list[datetime]:
        """Starts on the grid inside the host's hours, not in the past, where the booking and
        its buffer overlap no held slot of the host (with that slot's own buffer)."""
        length = timedelta(minutes=duration_minutes)
        grid = self.company.rules.grid_minutes
        step = timedelta(minutes=grid) if grid else min(SLOT_STEP, length)
        hours = self._hours(staff_key)
        busy = await self._busy_near(window, staff_key)
        earliest = max(self.clock(), window.start)
        # The grid, plus the window's own start: a caller may ask for 10:15 exactly.
        candidates = {*grid_starts(window, step, hours, self.company.tz), window.start}
        # The host's open spans once for the window (hours.covers per start would redo them).
        open_spans = hours.open_spans(TimeRange(window.start, window.end + length), self.company.tz)
        return sorted(
            start
            for start in candidates
            if start >= earliest
            and TimeRange(start, start + length).inside_one(open_spans)
            and not _collides(blocked(TimeRange(start, start + length), buffer), busy)
        )

    async def span_free(self, span: TimeRange, *, staff_key: str | None, buffer: timedelta) -> bool:
        """Whether the host could take exactly ``span``: inside its hours, not in the past, and
        with its buffer clear of every held slot — what booking it will check, without listing
        the other starts of a window (:meth:`free_slots` for one start, off the grid too)."""
        if span.start < self.clock() or not self._hours(staff_key).covers(span, self.company.tz):
            return False
        needed = blocked(span, buffer)
        return not _collides(needed, await self._busy_near(needed, staff_key))

    async def create_booking(self, request: CreateBooking) -> CreateResult:
        """Confirm the pending row of ``request`` unless hours or another booking forbid it."""
        return await self._book(request, ignore_uid=None)

    async def find_booking(self, request: CreateBooking) -> CalendarBooking | None:
        """The local booking made for this reservation, if it was confirmed."""
        async with self.reads() as session:
            row = await AppointmentRepository(session).by_reservation_key(request.reservation_key)
        if row is None or row.calcom_booking_uid is None:
            return None
        return _booking(row.calcom_booking_uid, row.span, request.reservation_key)

    async def get_booking(self, uid: str) -> CalendarBooking | None:
        """The local booking with this uid (its row's status decides whether it is active)."""
        async with self.reads() as session:
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
        hosts = [h for h in self._hosts(request) if self._hours(h).covers(span, self.company.tz)]
        if not hosts:
            return _refused(Reason.OUT_OF_BOUNDS, "outside opening hours")
        uid = LOCAL_UID_PREFIX + request.reservation_key
        needed = blocked(span, timedelta(minutes=request.buffer_minutes))
        async with self.sessions() as session, session.begin():
            repo = AppointmentRepository(session)
            await repo.lock_company_calendar(self.company.id)
            for host in hosts:
                busy = await self._busy(
                    repo, needed, host, confirmed_only=True, ignore_uid=ignore_uid
                )
                if not _collides(needed, busy):
                    break
            else:
                return _refused(Reason.SLOT_TAKEN, "slot taken")
            if not await repo.confirm_in_calendar(request.reservation_key, uid, host):
                return _refused(Reason.INVALID, "no pending reservation")
        booking = _booking(uid, span, request.reservation_key)
        return CreateResult(CreateOutcome.BOOKED, replace(booking, staff_key=host))

    def _hosts(self, request: CreateBooking) -> list[str | None]:
        """Who may take the booking: the person chosen first, then (unless the caller wished
        for that person) everyone else who offers the service — a parallel booking may have
        taken the chosen person a moment ago."""
        if request.staff_key is None or request.staff_wished:
            return [request.staff_key]
        others = [
            p.key
            for p in self.company.staff
            if p.key != request.staff_key and p.offers(request.service_name)
        ]
        return [request.staff_key, *others]

    def _hours(self, staff_key: str | None) -> OpeningHours:
        """The host's hours: the person's working hours, else the company's opening hours."""
        person = self.company.person(staff_key)
        if person is None or person.hours is None:
            return self.company.opening_hours
        return person.hours

    def lanes(self) -> AbstractAsyncContextManager[Lane]:
        """A lane for one read (store.driver: the driver's own connection on PostgreSQL)."""
        return self.driver.lane()

    async def _busy_near(self, window: TimeRange, staff_key: str | None) -> list[TimeRange]:
        """:meth:`_busy` for offering slots: one read per window for every host of the company."""
        near = self._near.get(window)
        if near is None:
            reach = TimeRange(window.start - MAX_BUFFER, window.end)
            async with self.lanes() as lane:
                rows = await calendar_busy_by_host(lane, self.company.id, reach)
            near = self._near[window] = [(key, self._blocked(span, r)) for key, span, r in rows]
        return [span for key, span in near if staff_key is None or key == staff_key]

    def _blocked(self, span: TimeRange, service_rules: dict[str, Any] | None) -> TimeRange:
        """``span`` with its service's buffer after it (the company's when it sets none)."""
        own = (service_rules or {}).get("buffer_minutes")
        return blocked(span, self.company.rules.buffer if own is None else timedelta(minutes=own))

    async def _busy(
        self,
        repo: AppointmentRepository,
        window: TimeRange,
        staff_key: str | None,
        *,
        confirmed_only: bool = False,
        ignore_uid: str | None = None,
    ) -> list[TimeRange]:
        """What keeps the host busy near ``window``: each held slot plus its service's buffer."""
        # A neighbour's buffer reaches into the window from before it.
        reach = TimeRange(window.start - MAX_BUFFER, window.end)
        rows = await repo.calendar_busy(
            self.company.id,
            reach,
            staff_key=staff_key,
            confirmed_only=confirmed_only,
            ignore_uid=ignore_uid,
        )
        return [self._blocked(span, service_rules) for span, service_rules in rows]


def _collides(span: TimeRange, busy: list[TimeRange]) -> bool:
    return any(span.overlaps(other) for other in busy)


def _booking(uid: str, span: TimeRange, key: str) -> CalendarBooking:
    return CalendarBooking(
        uid=uid, span=span, status="accepted", metadata={RESERVATION_METADATA_KEY: key}
    )


def _refused(kind: Reason, detail: str) -> CreateResult:
    return CreateResult(CreateOutcome.REFUSED, refusal=kind, detail=detail)
