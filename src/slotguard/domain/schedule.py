"""A salon's booking rules: closures, public holidays, notice, buffer, horizon and start grid.

The rules decide whether a start may be offered at all, before any calendar is asked: the
same rules hold for the local calendar and for Cal.com. Opening hours (and, with staff, a
person's working hours) are the outer frame; everything here narrows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from slotguard.domain.model import OpeningHours, TimeRange
from slotguard.domain.reasons import Reason
from slotguard.domain.salon import BookingRules, ClosedDay


@dataclass(frozen=True, slots=True)
class ScheduleProblem:
    """Why a requested span cannot be booked, with the closed day when that is the cause."""

    reason: Reason
    closed: ClosedDay | None = None


def problem(
    rules: BookingRules,
    hours: OpeningHours,
    tz: ZoneInfo,
    span: TimeRange,
    now: datetime,
    *,
    known_days: dict[date, ClosedDay | None] | None = None,
    open_spans: list[TimeRange] | None = None,
) -> ScheduleProblem | None:
    """The first rule ``span`` breaks, in the order a caller would want to hear them.

    ``known_days`` and ``open_spans``: what :func:`allowed_starts` works out once for many.
    """
    for day in _local_days(span, tz):
        if known_days is None:
            closed = rules.closed(day)
        elif day in known_days:
            closed = known_days[day]
        else:
            closed = known_days[day] = rules.closed(day)
        if closed is not None:
            return ScheduleProblem(Reason.CLOSED, closed)
    if span.start < now + rules.notice:
        return ScheduleProblem(Reason.TOO_SOON)
    if rules.horizon_days is not None and span.start > now + timedelta(days=rules.horizon_days):
        return ScheduleProblem(Reason.TOO_FAR)
    covered = hours.covers(span, tz) if open_spans is None else span.inside_one(open_spans)
    if not covered:
        return ScheduleProblem(Reason.OUT_OF_BOUNDS)
    if not rules.on_grid(span.start, tz):
        return ScheduleProblem(Reason.OFF_GRID)
    return None


def allowed_starts(
    starts: Iterable[datetime],
    length: timedelta,
    rules: BookingRules,
    hours: OpeningHours,
    tz: ZoneInfo,
    now: datetime,
) -> list[datetime]:
    """The starts (from any calendar) that every rule allows, in order.

    The closed days and the open spans are worked out once for all of them: the open spans
    of a range holding every start answer ``hours.covers`` for each (a span lies inside one
    merged open interval of its own days exactly when it lies inside one of a wider range's).
    """
    given = sorted(starts)
    if not given:
        return []
    days: dict[date, ClosedDay | None] = {}
    spans = hours.open_spans(TimeRange(given[0], given[-1] + length), tz)
    return [
        s
        for s in given
        if problem(
            rules, hours, tz, TimeRange(s, s + length), now, known_days=days, open_spans=spans
        )
        is None
    ]


def grid_starts(
    window: TimeRange, step: timedelta, hours: OpeningHours, tz: ZoneInfo
) -> list[datetime]:
    """Every start on the local grid of ``step`` inside the open spans touching ``window``."""
    starts: list[datetime] = []
    minutes = max(int(step.total_seconds() // 60), 1)
    for span in hours.open_spans(window, tz):
        local = span.start.astimezone(tz)
        offset = (-(local.hour * 60 + local.minute)) % minutes
        start = span.start + timedelta(minutes=offset)
        while start < span.end:
            if window.start <= start < window.end:
                starts.append(start)
            start += step
    return starts


def blocked(span: TimeRange, buffer: timedelta) -> TimeRange:
    """The time an appointment keeps its person busy: its span plus the buffer after it."""
    return TimeRange(span.start, span.end + buffer)


def _local_days(span: TimeRange, tz: ZoneInfo) -> list[date]:
    first = span.start.astimezone(tz).date()
    # The end is exclusive: an appointment ending at midnight does not touch the next day.
    last = (span.end - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
