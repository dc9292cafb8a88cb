"""`resolve` and `localize`: date and time phrases to an aware datetime in the company's zone.

The reference instant is always an argument; nothing here reads the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from slotguard.nlp_time.dates import parse_date
from slotguard.nlp_time.errors import TimeParseError, TimeParseErrorKind
from slotguard.nlp_time.numbers import cardinal
from slotguard.nlp_time.text import MAX_TOKENS, normalize
from slotguard.nlp_time.times import BusinessHours, Clock, parse_clock
from slotguard.nlp_time.words import (
    DATE_FILLERS,
    MONTHS,
    PERIODS,
    RELATIVE_DAYS,
    WEEKDAYS,
    Period,
)

__all__ = ["localize", "resolve"]

_ISO_DATETIME = re.compile(
    r"\s*(\d{4}-\d{2}-\d{2})[Tt ]"  # date
    r"(\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,6})?)?)\s*"  # wall time
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?\s*"  # offset
)
_Kind = TimeParseErrorKind
_DATE_LIKE = re.compile(r"\d{1,2}\.\d{1,2}\.\d*|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}(?:/\d+)?")
_TIME_WORDS = frozenset(["uhr", "halb", "viertel", "dreiviertel", "half", "quarter", "mitternacht"])


@dataclass(frozen=True)
class _DatePart:
    """What a date phrase said: the day, and perhaps a time or an exact instant."""

    day: date
    clock: Clock | None = None
    exact: datetime | None = None  # an ISO datetime with an offset, already converted to tz
    period: Period | None = None  # "morgen abend": settles AM/PM of a separate time phrase


def localize(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at wall time `at` (its tzinfo ignored) in `tz`; the earlier one in a fall-back fold.

    Raises TimeParseError(nonexistent_time) for a wall time the clock springs over.
    """
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=tz)
    phrase = f"{day.isoformat()} {at.isoformat()}"
    try:
        round_trip = wall.astimezone(UTC).astimezone(tz)
    except OverflowError:  # within hours of year 1 or 9999
        raise TimeParseError(_Kind.UNPARSEABLE_DATE, phrase) from None
    if round_trip.replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise TimeParseError(_Kind.NONEXISTENT_TIME, phrase)
    return wall


def resolve(
    date_text: str,
    time_text: str | None,
    *,
    now: datetime,
    tz: ZoneInfo,
    hours: BusinessHours | None = None,
    allow_past: bool = False,
    require_time: bool = True,
) -> datetime | date:
    """The moment the phrases name, in `tz`, as seen from `now` (the call's start).

    A time inside `date_text` ("morgen um 14 Uhr", ISO datetimes) is used when `time_text` is
    None or blank; a non-blank `time_text` wins. Returns a date only when no time was said and
    `require_time` is False. Results before `now` (dates before today) raise in_past.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(tz).date()
    part = _read_date(date_text, today, tz, hours)
    if time_text is not None and time_text.strip():
        clock = parse_clock(time_text, hours=hours, period=part.period)
        moment = _moment(part.day, clock, tz, time_text)
    elif part.exact is not None:
        moment = part.exact
    elif part.clock is not None:
        moment = _moment(part.day, part.clock, tz, date_text)
    else:
        return _day_only(part.day, today, date_text, allow_past=allow_past, require=require_time)
    if moment < now and not allow_past:
        raise TimeParseError(_Kind.IN_PAST, f"{date_text} {time_text or ''}".strip())
    return moment


def _day_only(day: date, today: date, phrase: str, *, allow_past: bool, require: bool) -> date:
    """The bare date, when a date is all the caller needs."""
    if require:
        raise TimeParseError(_Kind.MISSING_TIME, phrase)
    if day < today and not allow_past:
        raise TimeParseError(_Kind.IN_PAST, phrase)
    return day


def _moment(day: date, clock: Clock, tz: ZoneInfo, phrase: str) -> datetime:
    """Localize, reporting failures against the caller's phrase."""
    try:
        return localize(day + timedelta(days=clock.next_day), clock.at, tz)
    except OverflowError:
        raise TimeParseError(_Kind.UNPARSEABLE_DATE, phrase) from None
    except TimeParseError as error:
        raise TimeParseError(error.kind, phrase) from None


# Pure in its arguments (today, not now, is one of them), and agents say the same few
# phrases all day: kept per process, bounded.
@lru_cache(maxsize=4096)
def _read_date(text: str, today: date, tz: ZoneInfo, hours: BusinessHours | None) -> _DatePart:
    """An ISO datetime, a plain date phrase, or a date phrase with a time in it."""
    if match := _ISO_DATETIME.fullmatch(text):
        return _iso(match, text, tz)
    try:
        return _DatePart(parse_date(text, today=today), period=_period_in(normalize(text)))
    except TimeParseError:
        return _split(text, today, hours)


def _iso(match: re.Match[str], text: str, tz: ZoneInfo) -> _DatePart:
    """'2026-12-02T14:00' is a wall time in tz; '2026-12-02T13:00:00Z' an instant."""
    try:
        parsed = datetime.fromisoformat(f"{match[1]}T{match[2]}{(match[3] or '').upper()}")
        if parsed.tzinfo is None:
            return _DatePart(parsed.date(), clock=Clock(parsed.time()))
        exact = parsed.astimezone(UTC).astimezone(tz)
    except (ValueError, OverflowError):  # "T25:00", or an instant beyond year 1..9999 in tz
        raise TimeParseError(_Kind.UNPARSEABLE_DATE, text) from None
    return _DatePart(exact.date(), exact=exact)


def _split(text: str, today: date, hours: BusinessHours | None) -> _DatePart:
    """'morgen um 14 Uhr', '14 Uhr morgen': the first cut where both halves parse.

    Date-first cuts are tried before time-first ones, shortest date first, so that period
    words ("morgen abend um 8") stay with the time.
    """
    words = normalize(text)
    cuts = [(words[:i], words[i:]) for i in range(1, len(words))]
    cuts += [(words[i:], words[:i]) for i in range(1, len(words))]
    time_failed = False
    for date_words, time_words in cuts if len(words) <= MAX_TOKENS else ():
        try:
            day = parse_date(" ".join(date_words), today=today)
        except TimeParseError:
            continue
        time_failed = time_failed or _looks_like_time(time_words)
        try:
            clock = parse_clock(" ".join(time_words), hours=hours, period=_period_in(date_words))
        except TimeParseError:
            continue
        return _DatePart(day, clock=clock)
    raise TimeParseError(_Kind.UNPARSEABLE_TIME if time_failed else _Kind.UNPARSEABLE_DATE, text)


def _looks_like_time(words: list[str]) -> bool:
    """Whether words next to a good date try to be a time, so the time is what to ask again."""
    timeish = any(
        w in _TIME_WORDS or w in PERIODS or cardinal(w) is not None or re.search(r"\d", w)
        for w in words
    )
    return timeish and not any(
        _DATE_LIKE.fullmatch(w) or w in MONTHS or w in WEEKDAYS or w in RELATIVE_DAYS for w in words
    )


def _period_in(words: list[str]) -> Period | None:
    """The one part of the day a date phrase names ('heute abend'), if any."""
    found = {PERIODS[w] for w in words if w in PERIODS and w not in DATE_FILLERS}
    return found.pop() if len(found) == 1 else None
