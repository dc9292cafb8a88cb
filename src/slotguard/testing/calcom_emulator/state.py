"""The bookings of one emulator and Cal.com's booking rules over them (no HTTP).

Every read and write of the booking table happens inside one lock, in short synchronous
critical sections with no `await` inside. It is a `threading.Lock` rather than an
`asyncio.Lock` on purpose: the server's event loop runs in one thread while tests call
`book_directly()`/`reset()` from another, and an asyncio lock held only across
synchronous code would protect nothing. A create runs Cal.com's two phases, the
availability check and then the insert guarded by the unique `idempotencyKey`; the
`race_window` sleep between them lets tests widen the race Cal.com has
(docs/calcom-and-retell-facts.md §4.1).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from .config import EmulatorConfig, EventTypeConfig
from .drafts import create_draft, find_event_type, reschedule_draft
from .model import Booking, CalcomError, bad_request, booking_conflict, idempotency_key, not_found
from .schedule import Interval, intervals_between, overlaps, slot_grid, within_hours
from .validation import CreateInput, RescheduleInput

UNAVAILABLE = "User either already has booking at this time or is not available"
IN_THE_PAST = "Attempting to book a meeting in the past."
OUT_OF_BOUNDS = (
    'The event type can\'t be booked at the "start" time provided. This could be because '
    "it's too soon (violating the minimum booking notice) or too far in the future (outside "
    "the event's scheduling window). Try fetching available slots first using the GET "
    '/v2/slots endpoint and then make a booking with "start" time equal to one of the '
    "available slots: https://cal.com/docs/api-reference/v2/slots"
)
BOOKER_LIMIT = (
    "Attendee with this email can't book because the maximum number of active bookings "
    "has been reached."
)
ALREADY_CANCELLED = "This booking has already been cancelled."  # UNVERIFIED upstream
RESCHEDULE_CANCELLED = "Cannot reschedule a cancelled booking"  # UNVERIFIED upstream


def _copy(booking: Booking) -> Booking:
    return replace(booking, metadata=dict(booking.metadata), responses=dict(booking.responses))


class BookingStore:
    """All bookings of one emulator; callers get copies, never the live rows."""

    def __init__(self, config: EmulatorConfig, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._rows: dict[str, Booking] = {}
        self._keys: dict[str, str] = {}  # idempotencyKey → uid, like the unique index
        self._ids = itertools.count(1)  # never reset, so ids stay unique across reset()

    @property
    def bookings(self) -> list[Booking]:
        """Every booking, oldest first (copies)."""
        with self._lock:
            return [_copy(row) for row in self._rows.values()]

    def get(self, uid: str) -> Booking:
        """The booking with this uid, or Cal.com's 404."""
        with self._lock:
            return _copy(self._row(uid))

    def clear(self) -> None:
        """Forget every booking."""
        with self._lock:
            self._rows.clear()
            self._keys.clear()

    async def create(
        self, request: CreateInput, *, race_window: float = 0.0, check: bool = True
    ) -> Booking:
        """Check availability, optionally wait `race_window` seconds, then insert."""
        event_type = find_event_type(self.config, request)
        draft = create_draft(event_type, request, self.clock())
        if check:
            with self._lock:
                self._check_new(draft)
        if race_window > 0:
            await asyncio.sleep(race_window)
        with self._lock:
            return _copy(self._insert(draft))

    def create_now(self, request: CreateInput, *, check: bool = True) -> Booking:
        """Both create phases in one critical section (for bookings made "on the website")."""
        event_type = find_event_type(self.config, request)
        draft = create_draft(event_type, request, self.clock())
        with self._lock:
            if check:
                self._check_new(draft)
            return _copy(self._insert(draft))

    async def reschedule(
        self, uid: str, request: RescheduleInput, *, race_window: float = 0.0
    ) -> tuple[Booking, Booking]:
        """Book the new time and cancel the old booking; returns (new, old)."""
        with self._lock:
            draft = reschedule_draft(self._live(uid), request, self.clock())
            self._check_time(draft.event_type, draft.start)
            self._check_available(draft, ignore_uid=uid)
        if race_window > 0:
            await asyncio.sleep(race_window)
        with self._lock:
            old = self._live(uid)  # a concurrent cancel or reschedule may have won
            saved_key = old.idempotency_key
            self._release_key(old)  # so a same-time reschedule does not collide with itself
            try:
                new = self._insert(draft)
            except CalcomError:
                old.idempotency_key = saved_key
                self._claim_key(old)
                raise
            old.status, old.rescheduled_to_uid = "cancelled", new.uid
            old.rescheduled_by_email, old.updated_at = request.rescheduled_by, self.clock()
            return _copy(new), _copy(old)

    def cancel(self, uid: str, reason: str | None, by_email: str | None = None) -> Booking:
        """Cancel and free the slot; a second cancel is a 400 (UNVERIFIED upstream)."""
        with self._lock:
            row = self._row(uid)
            if row.status == "cancelled":
                raise bad_request(ALREADY_CANCELLED)
            row.status, row.cancellation_reason = "cancelled", reason
            row.cancelled_by_email, row.updated_at = by_email, self.clock()
            self._release_key(row)
            return _copy(row)

    def free_slots(
        self, event_type: EventTypeConfig, start: datetime, end: datetime, length: int
    ) -> list[Interval]:
        """Slots of `length` minutes starting in [start, end) that a create would accept."""
        earliest, latest = self._bounds(event_type)
        schedule = intervals_between(event_type.schedule, event_type.schedule_zone, start, end)
        with self._lock:
            busy = self._busy(event_type.host.id, ignore_uid=None)
        return sorted(
            slot
            for slot in slot_grid(schedule, timedelta(minutes=length))
            if start <= slot[0] < end
            and earliest <= slot[0]
            and (latest is None or slot[0] <= latest)
            and not overlaps(slot[0], slot[1], busy)
        )

    # -- private helpers; callers hold the lock -------------------------------------------

    def _row(self, uid: str) -> Booking:
        row = self._rows.get(uid)
        if row is None:
            raise not_found(f"Booking with uid={uid} was not found in the database")
        return row

    def _live(self, uid: str) -> Booking:
        row = self._row(uid)
        if row.status == "cancelled":
            raise bad_request(RESCHEDULE_CANCELLED)
        return row

    def _bounds(self, event_type: EventTypeConfig) -> tuple[datetime, datetime | None]:
        notice = event_type.minimum_notice_minutes
        if notice is None:
            notice = self.config.minimum_notice_minutes
        now = self.clock()
        window = event_type.booking_window_days
        return now + timedelta(minutes=notice), (
            None if window is None else now + timedelta(days=window)
        )

    def _check_new(self, draft: Booking) -> None:
        self._check_time(draft.event_type, draft.start)
        self._check_booker_limit(draft)
        self._check_available(draft, ignore_uid=None)

    def _check_time(self, event_type: EventTypeConfig, start: datetime) -> None:
        if start < self.clock():
            raise bad_request(IN_THE_PAST)
        earliest, latest = self._bounds(event_type)
        if start < earliest or (latest is not None and start > latest):
            raise bad_request(OUT_OF_BOUNDS)

    def _check_booker_limit(self, draft: Booking) -> None:
        limit = draft.event_type.max_active_bookings_per_booker
        if limit is None:
            return
        email, now = draft.attendees[0].email.lower(), self.clock()
        active = [
            row
            for row in self._rows.values()
            if row.event_type.id == draft.event_type.id
            and row.status == "accepted"
            and row.start >= now
            and any(person.email.lower() == email for person in row.attendees)
        ]
        if len(active) < limit:
            return
        if not draft.event_type.offer_reschedule:
            raise bad_request(BOOKER_LIMIT)
        latest = max(active, key=lambda row: row.start)
        raise bad_request(
            f"{BOOKER_LIMIT} You can reschedule your existing booking ({latest.uid}) "
            "to a new timeslot instead."
        )

    def _check_available(self, draft: Booking, ignore_uid: str | None) -> None:
        event_type = draft.event_type
        inside = within_hours(event_type.schedule, event_type.schedule_zone, draft.start, draft.end)
        busy = self._busy(event_type.host.id, ignore_uid)
        if not inside or overlaps(draft.start, draft.end, busy):
            raise bad_request(UNAVAILABLE)

    def _busy(self, host_id: int, ignore_uid: str | None) -> list[Interval]:
        return [
            (row.start, row.end)
            for row in self._rows.values()
            if row.host_id == host_id and row.is_busy and row.uid != ignore_uid
        ]

    def _insert(self, draft: Booking) -> Booking:
        key = idempotency_key(draft.start, draft.end, draft.host_id) if draft.is_busy else None
        if key is not None and key in self._keys:
            raise booking_conflict()
        row = replace(draft, id=next(self._ids), uid=uuid.uuid4().hex[:22], idempotency_key=key)
        self._rows[row.uid] = row
        self._claim_key(row)
        return row

    def _claim_key(self, row: Booking) -> None:
        if row.idempotency_key is not None:
            self._keys[row.idempotency_key] = row.uid

    def _release_key(self, row: Booking) -> None:
        if row.idempotency_key is not None:
            self._keys.pop(row.idempotency_key, None)
            row.idempotency_key = None
