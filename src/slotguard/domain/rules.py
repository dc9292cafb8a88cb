"""Layers 1 and 2 as pure functions: plain values in, a Decision out; time is an argument."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from slotguard.domain.decisions import Action, BookingRequest, Decision, Layer, Result
from slotguard.domain.model import Appointment, TimeRange, local_day, local_day_bounds
from slotguard.domain.reasons import Reason

# Overlap needs appointments that start before the requested day; none is longer than this.
MAX_APPOINTMENT_LENGTH = timedelta(hours=12)

CLEAR_L1 = Decision(Layer.EARLY_WARNING, Result.CLEAR, Reason.NONE, Action.ALLOWED)
CLEAR_L2 = Decision(Layer.PRE_BOOKING, Result.CLEAR, Reason.NONE, Action.ALLOWED)


def _utc(instant: datetime) -> datetime:
    """The same instant in UTC: rules compare instants, never wall clocks.

    Python compares and subtracts two datetimes of the same zone by wall clock (02:30 before
    and after a fall-back are "equal"), and ``==`` across zones is always False for a time in
    a repeated hour; a request arrives in the company zone, so everything goes through UTC.
    """
    return instant.astimezone(UTC)


def relevant(request: BookingRequest, existing: Iterable[Appointment]) -> list[Appointment]:
    """The person's appointments that may count: active, not deleted, not the one being moved.

    Appointments of people who gave the same email count too.
    """
    return sorted(
        (
            a
            for a in existing
            if a.is_active
            and (a.customer_id == request.customer_id or a.customer_id in request.same_email)
            and a.id != request.ignore_appointment_id
        ),
        key=lambda a: (_utc(a.span.start), a.id),
    )


def search_window(
    request: BookingRequest, *, now: datetime, tz: ZoneInfo, window_days: int
) -> TimeRange:
    """The span of appointment starts the rules can ever look at for ``request``.

    The requested local day (same day, daily limit, overlap) plus the same-service window
    around the request that is still upcoming; the store fetches exactly this span.
    """
    day = local_day_bounds(local_day(request.start, tz), tz)
    window = timedelta(days=window_days)
    wanted_start, wanted_end = _utc(request.start), _utc(request.end)
    start = min(day.start, max(_utc(now), wanted_start - window))
    # An appointment starting before the requested day can still overlap the request.
    start = min(start, wanted_start - MAX_APPOINTMENT_LENGTH)
    # The window is inclusive and the span half-open: one microsecond past its last instant.
    end = max(day.end, wanted_end, wanted_start + window + timedelta(microseconds=1))
    return TimeRange(start, end)


def early_warning(
    request: BookingRequest,
    existing: Iterable[Appointment],
    *,
    now: datetime,
    tz: ZoneInfo,
    window_days: int,
) -> Decision:
    """Layer 1: warn about an appointment that local day, else about an upcoming same service.

    ``same_day`` must be resolved by the agent; ``same_service_upcoming`` is informative.
    """
    mine = relevant(request, existing)
    day = local_day(request.start, tz)
    same_day = tuple(a for a in mine if local_day(a.span.start, tz) == day)
    if same_day:
        return Decision(
            Layer.EARLY_WARNING, Result.WARNING, Reason.SAME_DAY, Action.WARNING, same_day
        )
    window = timedelta(days=window_days)
    upcoming = tuple(
        a
        for a in mine
        if a.service_id == request.service_id
        and a.span.start >= now
        and abs(_utc(a.span.start) - _utc(request.start)) <= window
    )
    if upcoming:
        return Decision(
            Layer.EARLY_WARNING,
            Result.WARNING,
            Reason.SAME_SERVICE_UPCOMING,
            Action.WARNING,
            upcoming,
        )
    return CLEAR_L1


def refusal(
    request: BookingRequest,
    existing: Iterable[Appointment],
    *,
    tz: ZoneInfo,
    daily_limit: int,
) -> Decision:
    """Layer 2: refuse an exact duplicate, an overlap (any service) or a full day; else clear."""
    mine = relevant(request, existing)
    wanted = TimeRange(_utc(request.start), _utc(request.end))
    exact = tuple(
        a for a in mine if a.service_id == request.service_id and _utc(a.span.start) == wanted.start
    )
    if exact:
        return _blocked(Reason.EXACT_DUPLICATE, exact)
    overlapping = tuple(a for a in mine if a.span.overlaps(wanted))
    if overlapping:
        return _blocked(Reason.OVERLAPPING, overlapping)
    day = local_day(request.start, tz)
    that_day = tuple(a for a in mine if local_day(a.span.start, tz) == day)
    if len(that_day) >= daily_limit:
        return _blocked(Reason.DAILY_LIMIT, that_day)
    return CLEAR_L2


def _blocked(reason: Reason, existing: tuple[Appointment, ...]) -> Decision:
    return Decision(Layer.PRE_BOOKING, Result.BLOCKED, reason, Action.BLOCKED, existing)
