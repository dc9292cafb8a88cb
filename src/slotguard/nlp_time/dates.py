"""`parse_date`: a spoken or written date, German or English, resolved against today.

Rules for the ambiguous cases:

* A day and month without a year is the next such date on or after today.
* A bare weekday ("Dienstag", "on Tuesday") or "diesen"/"this" + weekday is the next such day
  on or after today: said on a Tuesday, "Dienstag" is today.
* "nächsten"/"kommenden"/"next"/"coming" + weekday is the first such day strictly after today
  (said on a Monday, "nächsten Dienstag" is tomorrow; said on a Tuesday, it is in a week).
  "übernächsten Dienstag" is one week after that. German speakers who mean the following
  week's day say "Dienstag nächster Woche", which is supported: "nächste Woche Dienstag",
  "next week Tuesday", "Tuesday next week" are that weekday in the next Monday-to-Sunday week.
* Slash dates are accepted only when they cannot be misread: "25/12" is day/month,
  "12/25/2026" month/day, and "12/02/2026" is refused so that the agent asks again. German
  callers use dots ("2.12."), which are always day.month.
* A weekday stated next to a date ("Dienstag, 1. Dezember") must agree with it.
* A day of the month alone ("am 9.", "den neunten", "on the 9th") is the next such day on or
  after today; a month without that day is skipped ("am 31." said in November is Dec 31).
* A day plus a span of weeks or days counts from that day: "heute in einer Woche",
  "morgen in einer Woche", "Montag in einer Woche" (the next Monday, on or after today, plus
  seven days), "am Mittwoch in zwei Wochen", "in zwei Wochen am Mittwoch", "a week from
  today", "two weeks from Friday", "a week on Monday", and the British "Monday week" and
  "tomorrow week" (one week after that day).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from slotguard.nlp_time.errors import TimeParseError, TimeParseErrorKind
from slotguard.nlp_time.numbers import cardinal, ordinal
from slotguard.nlp_time.text import MAX_TOKENS, normalize
from slotguard.nlp_time.words import (
    AFTER_NEXT_WORDS,
    DATE_FILLERS,
    MONTHS,
    NEXT_WORDS,
    PERIODS,
    RELATIVE_DAYS,
    THIS_WORDS,
    WEEK_WORDS,
    WEEKDAYS,
)

__all__ = ["parse_date"]

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{4}|\d{2})?)?")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?")
_DAY_NUMBER = re.compile(r"\d{1,2}")
_YEAR = re.compile(r"\d{4}")
_UNIT_DAYS = {"tag": 1, "tage": 1, "tagen": 1, "day": 1, "days": 1}
_WEEK_UNITS = {"woche": 7, "wochen": 7, "week": 7, "weeks": 7, "fortnight": 14, "fortnights": 14}
_UNIT_DAYS |= _WEEK_UNITS
_SHIFTS = {**dict.fromkeys(THIS_WORDS, 0), **dict.fromkeys(NEXT_WORDS, 1)}
_SHIFTS |= dict.fromkeys(AFTER_NEXT_WORDS, 2)
# Feb 29 recurs within 8 years (2096 → 2104), so a later year cannot help.
_YEARS_TO_SEARCH = 9


def parse_date(text: str, *, today: date) -> date:
    """The date `text` names, relative to `today`; refuses phrases that also name a time."""
    tokens = [t for t in normalize(text) if t not in DATE_FILLERS and t not in PERIODS]
    try:
        day = _read(tokens, today) if 0 < len(tokens) <= MAX_TOKENS else None
    except (ValueError, OverflowError):  # impossible numbers: "32.13.", "30. Februar"
        day = None
    if day is None:
        raise TimeParseError(TimeParseErrorKind.UNPARSEABLE_DATE, text)
    return day


def _read(tokens: list[str], today: date) -> date | None:
    """Try each grammar in turn; None when none applies."""
    return _day(tokens, today) or _counted_from(tokens, today)


def _day(tokens: list[str], today: date) -> date | None:
    """A day named on its own: a calendar date, a relative day, a weekday, a day of month."""
    return (
        _explicit(tokens, today)
        or _relative(tokens, today)
        or _weekday(tokens, today)
        or _day_of_month(tokens, today)
    )


def _day_of_month(tokens: list[str], today: date) -> date | None:
    """'9.', 'neunten', '9th' alone: the next such day of a month on or after today."""
    number = ordinal(tokens[0]) if len(tokens) == 1 else None
    if number is None:
        return None
    month_start = today.replace(day=1)
    for _ in range(13):
        try:
            candidate = month_start.replace(day=number)
        except ValueError:  # no 31st in this month
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        month_start = (month_start + timedelta(days=32)).replace(day=1)
    return None


def _counted_from(tokens: list[str], today: date) -> date | None:
    """A day and a span counted from it, in either order (see the module's rules)."""
    for cut in range(1, len(tokens)):
        for base, span, base_first in (
            (tokens[:cut], tokens[cut:], True),
            (tokens[cut:], tokens[:cut], False),
        ):
            days = _span_days(span, after_base=base_first)
            day = None if days is None else _day(base, today)
            if day is not None and days is not None:
                return day + timedelta(days=days)
    return None


def _span_days(tokens: list[str], *, after_base: bool) -> int | None:
    """'in einer Woche', 'in 2 weeks', 'a week from' (before the day), 'week' (after it)."""
    if len(tokens) == 1 and after_base:  # "Monday week", "tomorrow week"
        return _WEEK_UNITS.get(tokens[0])
    if tokens[0] == "in":
        tokens = tokens[1:]
    elif not after_base and tokens[-1] == "from":
        tokens = tokens[:-1]
    if len(tokens) != 2 or tokens[1] not in _UNIT_DAYS:
        return None
    count = 1 if tokens[0] in ("a", "an") else cardinal(tokens[0])
    return None if count is None else count * _UNIT_DAYS[tokens[1]]


def _explicit(tokens: list[str], today: date) -> date | None:
    """A calendar date, optionally preceded by its weekday, which must then agree."""
    weekday = WEEKDAYS.get(tokens[0]) if len(tokens) > 1 else None
    day = _calendar(tokens[1:] if weekday is not None else tokens, today)
    if day is not None and weekday is not None and day.weekday() != weekday:
        raise ValueError("the weekday contradicts the date")
    return day


def _calendar(tokens: list[str], today: date) -> date | None:
    """ISO, dotted, slashed or month-name dates."""
    phrase = " ".join(tokens)
    if match := _ISO.fullmatch(phrase):
        return date(int(match[1]), int(match[2]), int(match[3]))
    if match := _DOTTED.fullmatch(phrase):
        return _on(today, int(match[2]), int(match[1]), match[3])
    if match := _SLASHED.fullmatch(phrase):
        return _slashed(today, int(match[1]), int(match[2]), match[3])
    return _named_month(tokens, today)


def _slashed(today: date, first: int, second: int, year: str | None) -> date | None:
    """Day/month or month/day, whichever is the only possible reading."""
    if first == second or (first > 12) != (second > 12):
        month, day = (second, first) if first > 12 else (first, second)
        return _on(today, month, day, year)
    return None


def _named_month(tokens: list[str], today: date) -> date | None:
    """'2. Dezember', 'zweiter Dezember', 'December 2nd 2026', '2nd of December'."""
    year = tokens[-1] if len(tokens) == 3 and _YEAR.fullmatch(tokens[-1]) else None
    if len(tokens) != (3 if year else 2):
        return None
    for day_token, month_token in ((tokens[0], tokens[1]), (tokens[1], tokens[0])):
        day = int(day_token) if _DAY_NUMBER.fullmatch(day_token) else ordinal(day_token)
        if day is not None and month_token in MONTHS:
            return _on(today, MONTHS[month_token], day, year)
    return None


def _on(today: date, month: int, day: int, year: str | None) -> date:
    """The given day; without a year, its next occurrence on or after today."""
    if year is not None:
        return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    for candidate_year in range(today.year, today.year + _YEARS_TO_SEARCH):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise ValueError(f"no day {day} in month {month}")


def _relative(tokens: list[str], today: date) -> date | None:
    """'heute', 'übermorgen', 'day after tomorrow', 'in drei Tagen', 'in a week'."""
    phrase = " ".join(tokens)
    if phrase in RELATIVE_DAYS:
        return today + timedelta(days=RELATIVE_DAYS[phrase])
    if len(tokens) != 3 or tokens[0] != "in" or tokens[2] not in _UNIT_DAYS:
        return None
    count = 1 if tokens[1] in ("a", "an") else cardinal(tokens[1])
    return None if count is None else today + timedelta(days=count * _UNIT_DAYS[tokens[2]])


def _weekday(tokens: list[str], today: date) -> date | None:
    """'Dienstag', 'nächsten Dienstag', 'next week Tuesday', 'Dienstag nächster Woche'."""
    positions = [i for i, token in enumerate(tokens) if token in WEEKDAYS]
    if len(positions) != 1:
        return None
    target = WEEKDAYS[tokens[positions[0]]]
    rest = tokens[: positions[0]] + tokens[positions[0] + 1 :]
    if not rest:
        return _ahead(today, target, strictly=False)
    shift = _SHIFTS.get(rest[0])
    if shift is None:
        return None
    if len(rest) == 1 and positions[0] == 1:
        return _ahead(today, target, strictly=shift > 0) + timedelta(weeks=max(shift - 1, 0))
    if len(rest) == 2 and rest[1] in WEEK_WORDS:
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(weeks=shift, days=target)
    return None


def _ahead(today: date, weekday: int, *, strictly: bool) -> date:
    """The next `weekday` on or after today, or strictly after it."""
    days = (weekday - today.weekday()) % 7
    return today + timedelta(days=7 if strictly and days == 0 else days)
