"""Free slots from a cache shared by every process, never wrong about what we know.

Cal.com allows an API key 120 requests a minute, so free slots are read per company and
event type in **windows** of seven local days (aligned on the company's calendar, so every
question about those days meets the same window) and kept in the database:

* a window is fresh for ``ttl`` seconds and while its version is the window's current
  version; every change we learn of (our own create, reschedule or cancel, every Cal.com
  webhook) bumps that version, so the next question in any process looks it up again;
* one lookup per window at a time (single flight): in this process concurrent questions
  await one task, across processes a lease row lets one of them ask Cal.com while the
  others wait for its answer;
* the mirror's slot-holding appointments are subtracted from every answer, cached or not:
  a slot held a moment ago (even still pending at Cal.com) is never offered;
* when the key's budget has no room for a lookup within a short wait, the last answer for
  the window is used with its age logged and counted; without one the question fails with
  :class:`AvailabilityUnknown` ("availability cannot be checked right now").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from slotguard.calendar.calcom import CalcomCalendar
from slotguard.calendar.provider import (
    AvailabilityUnknown,
    CalendarBooking,
    CalendarProvider,
    CreateBooking,
    CreateResult,
    RateLimited,
)
from slotguard.calendar.ratelimit import Clock, Sleep
from slotguard.calendar.waiting import waiting
from slotguard.domain import Company, TimeRange
from slotguard.observability import Metrics, get_logger
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.calcom_state import CachedWindow, SlotWindowRepository

WINDOW_DAYS = 7
DEFAULT_TTL_SECONDS = 20.0
MAX_TTL_SECONDS = 30.0
# A lookup holds its window's lease this long at most (a crashed process's lease expires).
LEASE_SECONDS = 10.0
# A question waits this long at most for another process's lookup of the same window.
PEER_WAIT_SECONDS = 2.5
POLL_SECONDS = 0.05
# An answer older than this is not used even when no lookup is possible.
STALE_MAX_SECONDS = 900.0

Fetch = Callable[[TimeRange], Awaitable[list[datetime]]]
_log = get_logger("slot_cache")


def window_starts(span: TimeRange, zone: Company) -> list[date]:
    """The first local days of the windows that ``span`` touches, in order."""
    first = span.start.astimezone(zone.tz).date()
    last = (span.end - timedelta(microseconds=1)).astimezone(zone.tz).date()
    begin = date.fromordinal(first.toordinal() - first.toordinal() % WINDOW_DAYS)
    starts = []
    while begin <= last:
        starts.append(begin)
        begin += timedelta(days=WINDOW_DAYS)
    return starts


def window_span(start: date, zone: Company) -> TimeRange:
    """From local midnight of ``start`` to local midnight ``WINDOW_DAYS`` later."""
    begin = datetime.combine(start, datetime.min.time(), tzinfo=zone.tz)
    end = datetime.combine(start + timedelta(days=WINDOW_DAYS), datetime.min.time(), zone.tz)
    return TimeRange(begin.astimezone(UTC), end.astimezone(UTC))


async def invalidate(session: AsyncSession, company: Company, spans: Iterable[TimeRange]) -> None:
    """Every process looks the windows touching ``spans`` up again (in the caller's transaction)."""
    starts = sorted({s.isoformat() for span in spans for s in window_starts(span, company)})
    await SlotWindowRepository(session).invalidate(company.id, starts)


class SlotCache:
    """The process's door to the shared windows (see the module docstring)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        metrics: Metrics | None = None,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.sessions, self.ttl = sessions, min(ttl, MAX_TTL_SECONDS)
        self.metrics = metrics or Metrics()
        self._clock, self._sleep = clock, sleep
        self._flights: dict[tuple[int, int, str], asyncio.Task[list[str]]] = {}

    async def slots(
        self, company: Company, event_type_id: int, span: TimeRange, fetch: Fetch
    ) -> list[datetime]:
        """Cal.com's free starts (aware UTC) of the event type in the windows of ``span``."""
        found: list[datetime] = []
        for start in window_starts(span, company):
            window = window_span(start, company)
            found += await self._window(company.id, event_type_id, start.isoformat(), window, fetch)
        return found

    async def _window(
        self, company_id: int, event_type_id: int, start: str, window: TimeRange, fetch: Fetch
    ) -> list[datetime]:
        key = (company_id, event_type_id, start)
        task = self._flights.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load(key, window, fetch))
            self._flights[key] = task
            task.add_done_callback(lambda _t: self._flights.pop(key, None))
            return [datetime.fromisoformat(s) for s in await asyncio.shield(task)]
        self.metrics.slot_lookups.labels("shared").inc()
        with waiting():  # for another request's lookup (this one's own is counted inside)
            starts = await asyncio.shield(task)
        return [datetime.fromisoformat(s) for s in starts]

    async def _load(self, key: tuple[int, int, str], window: TimeRange, fetch: Fetch) -> list[str]:
        company_id, _event_type, start = key
        give_up = self._clock() + PEER_WAIT_SECONDS
        while True:
            now = self._clock()
            async with self.sessions() as session, session.begin():
                repo = SlotWindowRepository(session)
                cached = await repo.read(*key)
                if cached is not None and self._fresh(cached.version, cached.current_version,
                                                      cached.fetched_at, now):  # fmt: skip
                    self.metrics.slot_lookups.labels("hit").inc()
                    return cached.slots or []
                version = (
                    cached.current_version
                    if cached
                    else await repo.current_version(company_id, start)
                )
                claimed = await repo.claim(
                    *key, now, now + LEASE_SECONDS, fresh_since=now - self.ttl, version=version
                )
            if claimed:
                return await self._fetch(key, window, fetch, version, cached)
            if now >= give_up:
                return self._stale(key, cached, "another lookup takes too long")
            with waiting():  # for another process's lookup of the same window
                await self._sleep(POLL_SECONDS)

    def _fresh(self, version: int, current: int, fetched_at: float | None, now: float) -> bool:
        return version == current and fetched_at is not None and now - fetched_at < self.ttl

    async def _fetch(
        self,
        key: tuple[int, int, str],
        window: TimeRange,
        fetch: Fetch,
        version: int,
        cached: CachedWindow | None,
    ) -> list[str]:
        try:
            starts = await fetch(window)
        except BaseException as problem:
            async with self.sessions() as session, session.begin():
                await SlotWindowRepository(session).release(*key)
            if isinstance(problem, RateLimited):
                return self._stale(key, cached, str(problem))
            raise
        slots = [s.astimezone(UTC).isoformat() for s in starts]
        async with self.sessions() as session, session.begin():
            await SlotWindowRepository(session).store(
                *key, version=version, slots=slots, fetched_at=self._clock()
            )
        self.metrics.slot_lookups.labels("fetched").inc()
        return slots

    def _stale(self, key: tuple[int, int, str], cached: CachedWindow | None, why: str) -> list[str]:
        age = None
        if cached is not None and cached.fetched_at is not None:
            age = self._clock() - cached.fetched_at
        if cached is None or age is None or age > STALE_MAX_SECONDS:
            self.metrics.slot_lookups.labels("unknown").inc()
            _log.warning("slots_unknown", window=key[2], event_type=key[1], reason=why)
            raise AvailabilityUnknown(f"free slots of {key[2]} cannot be looked up: {why}")
        self.metrics.slot_lookups.labels("stale").inc()
        self.metrics.stale_slot_age.observe(age)
        _log.warning("slots_stale", window=key[2], event_type=key[1], age_seconds=round(age, 1),
                     reason=why)  # fmt: skip
        return cached.slots or []


class CachedCalendar:
    """A company's Cal.com calendar whose free slots come from the :class:`SlotCache`.

    Writes go straight through and then invalidate the windows they touched.
    """

    name = "calcom"

    def __init__(self, inner: CalcomCalendar, cache: SlotCache, company: Company) -> None:
        self.inner, self.cache, self.company = inner, cache, company

    async def free_slots(
        self,
        *,
        window: TimeRange,
        duration_minutes: int,
        event_type_id: int | None,
        staff_key: str | None = None,
        buffer: timedelta = timedelta(0),
    ) -> list[datetime]:
        """Starts in ``window`` where ``duration_minutes`` fit and none of the host's held
        appointments is (the host: ``staff_key``, else the whole company)."""
        if event_type_id is None:
            return await self.inner.free_slots(
                window=window, duration_minutes=duration_minutes, event_type_id=None
            )

        async def fetch(span: TimeRange) -> list[datetime]:
            # The event type's own length: any duration is filtered below.
            return await self.inner.free_slots(
                window=span, duration_minutes=1, event_type_id=event_type_id
            )

        starts = await self.cache.slots(self.company, event_type_id, window, fetch)
        async with self.cache.sessions() as session:
            held = await AppointmentRepository(session).calendar_busy(
                self.company.id, window, staff_key=staff_key
            )
        busy = [span for span, _rules in held]
        length = timedelta(minutes=duration_minutes)
        return sorted(
            s
            for s in set(starts)
            if window.start <= s
            and s + length <= window.end
            and not any(TimeRange(s, s + length).overlaps(b) for b in busy)
        )

    async def create_booking(self, request: CreateBooking) -> CreateResult:
        """Book through Cal.com; then every process looks the slot's window up again."""
        try:
            return await self.inner.create_booking(request)
        finally:
            await self._invalidate([request.span])

    async def find_booking(self, request: CreateBooking) -> CalendarBooking | None:
        """As the inner calendar."""
        return await self.inner.find_booking(request)

    async def get_booking(self, uid: str) -> CalendarBooking | None:
        """As the inner calendar."""
        return await self.inner.get_booking(uid)

    async def reschedule_booking(
        self, uid: str, new_span: TimeRange, request: CreateBooking
    ) -> CreateResult:
        """Move through Cal.com; then the old and the new time are looked up again."""
        try:
            return await self.inner.reschedule_booking(uid, new_span, request)
        finally:
            await self._invalidate([new_span, *await self._span_of(uid)])

    async def cancel_booking(self, uid: str, reason: str) -> None:
        """Cancel through Cal.com; then the freed time is looked up again."""
        try:
            await self.inner.cancel_booking(uid, reason)
        finally:
            await self._invalidate(await self._span_of(uid))

    async def _span_of(self, uid: str) -> list[TimeRange]:
        async with self.cache.sessions() as session:
            row = await AppointmentRepository(session).by_calcom_uid(uid)
        return [] if row is None else [row.span]

    async def _invalidate(self, spans: list[TimeRange]) -> None:
        if not spans:
            return
        async with self.cache.sessions() as session, session.begin():
            await invalidate(session, self.company, spans)


def calcom_of(calendar: CalendarProvider) -> CalcomCalendar | None:
    """The Cal.com calendar itself, behind its cache if it has one; None for other calendars."""
    if isinstance(calendar, CachedCalendar):
        return calendar.inner
    return calendar if isinstance(calendar, CalcomCalendar) else None


__all__ = ["CachedCalendar", "SlotCache", "calcom_of", "invalidate", "window_span", "window_starts"]
