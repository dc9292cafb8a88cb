"""Working hours → UTC intervals, and the slot grid inside them (no bookings, no HTTP)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .config import WorkingHours

Interval = tuple[datetime, datetime]


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _pairs(value: tuple[str, str] | Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    if len(value) == 2 and all(isinstance(item, str) for item in value):  # one pair
        return [(str(value[0]), str(value[1]))]
    return [(str(pair[0]), str(pair[1])) for pair in value]


def day_intervals(hours: WorkingHours, zone: str, day: date) -> list[Interval]:
    """The UTC intervals in which `day` (a local date in `zone`) is bookable."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    result: list[Interval] = []
    for opens, closes in _pairs(hours.get(day.weekday(), ())):
        start = midnight + timedelta(minutes=_minutes(opens))  # wall-clock arithmetic
        end = midnight + timedelta(minutes=_minutes(closes))
        result.append((start.astimezone(UTC), end.astimezone(UTC)))
    return result


def intervals_between(
    hours: WorkingHours, zone: str, start: datetime, end: datetime
) -> list[Interval]:
    """Every working interval of the local days that touch [start, end], in order."""
    tz = ZoneInfo(zone)
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    result: list[Interval] = []
    day = first
    while day <= last:
        result.extend(day_intervals(hours, zone, day))
        day += timedelta(days=1)
    return result


def _merged(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def within_hours(hours: WorkingHours, zone: str, start: datetime, end: datetime) -> bool:
    """Whether [start, end) lies inside working time (touching intervals count as one)."""
    intervals = _merged(intervals_between(hours, zone, start, end))
    return any(opens <= start and end <= closes for opens, closes in intervals)


def slot_grid(intervals: Iterable[Interval], length: timedelta) -> Iterator[Interval]:
    """Slots stepping by `length` from each interval's opening, each fitting inside it."""
    for opens, closes in intervals:
        start = opens
        while start + length <= closes:
            yield start, start + length
            start += length


def overlaps(start: datetime, end: datetime, busy: Iterable[Interval]) -> bool:
    """Whether [start, end) overlaps any busy half-open interval."""
    return any(start < busy_end and busy_start < end for busy_start, busy_end in busy)
