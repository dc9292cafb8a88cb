"""A brute-force oracle for Layers 1 and 2, written from docs/architecture.md §5 without reading
rules.py.

Deliberately naive: every instant becomes an integer UTC minute, an appointment becomes the
set of minutes it covers, overlap is a non-empty set intersection, and the local day is
``astimezone(zone).date()``. No ordering or arithmetic on datetimes is done, so wall-clock
comparisons of same-zone datetimes (which Python performs) can never leak in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slotguard.domain import Appointment, BookingRequest, Decision

# Written out by hand (docs/architecture.md §4) rather than imported, so a wrong ACTIVE_STATUSES
# shows.
ACTIVE = frozenset({"pending", "scheduled", "confirmed", "booked"})
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Verdict:
    """What a layer must answer: result, reason and the ids of the appointments named."""

    result: str
    reason: str
    ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, decision: Decision) -> Verdict:
        """The verdict a real Decision expresses, for comparison."""
        ids = frozenset(a.id for a in decision.existing)
        return cls(decision.result.value, decision.reason.value, ids)


CLEAR = Verdict("clear", "none")


def _seconds(instant: datetime) -> int:
    exact = instant.timestamp()
    assert exact == int(exact), f"oracle needs whole seconds, got {instant!r}"
    return int(exact)


def _minute(instant: datetime) -> int:
    seconds = _seconds(instant)
    assert seconds % 60 == 0, f"oracle needs whole minutes, got {instant!r}"
    return seconds // 60


def _minutes(start: datetime, end: datetime) -> set[int]:
    """Every UTC minute in the half-open span: the last minute is not included."""
    return set(range(_minute(start), _minute(end)))


def _day(instant: datetime, zone: str) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


def _counting(request: BookingRequest, existing: Iterable[Appointment]) -> list[Appointment]:
    return [
        a
        for a in existing
        if a.status.value in ACTIVE
        and not a.deleted
        and a.customer_id == request.customer_id
        and a.id != request.ignore_appointment_id
    ]


def _blocked(reason: str, found: list[Appointment]) -> Verdict:
    return Verdict("blocked", reason, frozenset(a.id for a in found))


def _warning(reason: str, found: list[Appointment]) -> Verdict:
    return Verdict("warning", reason, frozenset(a.id for a in found))


def refusal(
    request: BookingRequest, existing: Iterable[Appointment], *, zone: str, daily_limit: int
) -> Verdict:
    """Layer 2: exact duplicate, else overlap with any service, else a full local day."""
    mine = _counting(request, existing)
    exact = [
        a
        for a in mine
        if a.service_id == request.service_id and _minute(a.span.start) == _minute(request.start)
    ]
    if exact:
        return _blocked("exact_duplicate", exact)
    wanted = _minutes(request.start, request.end)
    overlapping = [a for a in mine if wanted & _minutes(a.span.start, a.span.end)]
    if overlapping:
        return _blocked("overlapping", overlapping)
    day = _day(request.start, zone)
    that_day = [a for a in mine if _day(a.span.start, zone) == day]
    if len(that_day) >= daily_limit:
        return _blocked("daily_limit", that_day)
    return CLEAR


def early_warning(
    request: BookingRequest,
    existing: Iterable[Appointment],
    *,
    now: datetime,
    zone: str,
    window_days: int,
) -> Verdict:
    """Layer 1: any appointment that local day, else an upcoming same service in the window.

    "Within the window" is read as at most ``window_days`` × 24 h away (inclusive), before or
    after the requested start; "upcoming" as starting at or after ``now``.
    """
    mine = _counting(request, existing)
    day = _day(request.start, zone)
    same_day = [a for a in mine if _day(a.span.start, zone) == day]
    if same_day:
        return _warning("same_day", same_day)
    reach = window_days * SECONDS_PER_DAY
    wanted = _seconds(request.start)
    upcoming = [
        a
        for a in mine
        if a.service_id == request.service_id
        and _seconds(a.span.start) >= _seconds(now)
        and abs(_seconds(a.span.start) - wanted) <= reach
    ]
    if upcoming:
        return _warning("same_service_upcoming", upcoming)
    return CLEAR
