"""`parse_time`: a spoken or written time of day, German or English.

12-hour rule: an hour 1..12 said without am/pm/morgens/nachmittags/abends (and without a
leading zero, which marks a 24-hour reading) is read as given, unless business hours are known
and only the PM reading lies inside them ("halb drei" → 14:30 when open 09:00–20:00, but
"halb neun" → 08:30 when open from 08:00). Without business hours 1–7 mean 13–19 and 8–12
mean 08–12, because nobody books a salon for three in the morning.

"24 Uhr", "Mitternacht", "midnight" and "12 Uhr nachts" are the end of the day they are said
for: `Clock.next_day` is set and `resolve` moves to 00:00 of the following day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from functools import lru_cache

from slotguard.nlp_time.errors import TimeParseError, TimeParseErrorKind
from slotguard.nlp_time.numbers import cardinal
from slotguard.nlp_time.text import MAX_TOKENS, normalize
from slotguard.nlp_time.words import PERIODS, TIME_FILLERS, Period

__all__ = ["BusinessHours", "Clock", "parse_clock", "parse_time"]

# "14:30", "14.30", "14:30:00", "14." (end of a sentence); not "2.12.", which is a date.
_DIGITAL = re.compile(
    r"(\d{1,2})(?::(\d{2})(?::(\d{2}))?\.?|\.(\d{2})(?:\.(\d{2}))?|\.)?(?: (?:uhr|h))?"
)
# "ein Uhr" is one o'clock, but a bare "ein"/"eine" is an article, not an hour
_ARTICLES = frozenset(["ein", "eine", "einer", "einem", "einen"])
_MIDNIGHT = frozenset({"mitternacht", "midnight"})
# A relative phrase, the minutes it adds to the named hour, and the sign applied to N.
_RELATIVE: tuple[tuple[str, int, int], ...] = (
    ("halb H", -30, 0),
    ("viertel nach H", 15, 0),
    ("viertel vor H", -15, 0),
    ("dreiviertel H", -15, 0),
    ("drei viertel H", -15, 0),
    ("viertel H", -45, 0),  # southern and eastern German: "viertel elf" is 10:15
    ("N nach halb H", -30, 1),
    ("N vor halb H", -30, -1),
    ("N nach H", 0, 1),
    ("N minuten nach H", 0, 1),
    ("N vor H", 0, -1),
    ("N minuten vor H", 0, -1),
    ("half past H", 30, 0),
    ("half H", 30, 0),  # British "half two" is 2:30, unlike the German "halb zwei"
    ("quarter past H", 15, 0),
    ("quarter after H", 15, 0),
    ("quarter to H", -15, 0),
    ("quarter before H", -15, 0),
    ("N past H", 0, 1),
    ("N minutes past H", 0, 1),
    ("N after H", 0, 1),
    ("N to H", 0, -1),
    ("N minutes to H", 0, -1),
    ("N before H", 0, -1),
)
_PERIOD_HOURS = {
    Period.AM: range(12),
    Period.PM: range(12, 24),
    Period.NOON: range(11, 15),
    Period.NIGHT: (*range(6), *range(18, 25)),
}


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours; used only to choose AM or PM for a 12-hour spoken time."""

    opens: time
    closes: time

    def __contains__(self, at: object) -> bool:
        """Whether `at` lies in [opens, closes); hours may run past midnight."""
        if not isinstance(at, time):
            return False
        if self.opens < self.closes:
            return self.opens <= at < self.closes
        return at >= self.opens or at < self.closes


@dataclass(frozen=True)
class Clock:
    """A time of day; `next_day` when it is the midnight ending the day it was said for."""

    at: time
    next_day: bool = False


@dataclass(frozen=True)
class _Reading:
    """Numbers as spoken, before AM/PM is settled."""

    hour: int
    minute: int
    second: int = 0
    twelve_hour: bool = False  # 1..12 without a leading zero: AM or PM is open


def parse_time(text: str, *, hours: BusinessHours | None = None) -> time:
    """The time of day `text` names; `hours` only settles AM versus PM."""
    return parse_clock(text, hours=hours).at


@lru_cache(maxsize=4096)  # pure; the same few times are said all day
def parse_clock(
    text: str, *, hours: BusinessHours | None = None, period: Period | None = None
) -> Clock:
    """Like `parse_time`, keeping the day roll-over; `period` is a hint from the date phrase."""
    tokens = normalize(text)
    said = {PERIODS[t] for t in tokens if t in PERIODS}  # "9 Uhr abends am" says two
    core = [t for t in tokens if t not in PERIODS and t not in TIME_FILLERS]
    own = next(iter(said)) if len(said) == 1 else None
    ok = len(said) <= 1 and len(tokens) <= MAX_TOKENS
    reading = _read(core, own) if ok else None
    hour = None if reading is None else _hour(reading, own, period, hours)
    if reading is None or hour is None or (hour == 24 and (reading.minute or reading.second)):
        raise TimeParseError(TimeParseErrorKind.UNPARSEABLE_TIME, text)
    if hour == 24:
        return Clock(time(0), next_day=True)
    return Clock(time(hour, reading.minute, reading.second))


def _read(core: list[str], period: Period | None) -> _Reading | None:
    """The clock reading of the words left after fillers and period words."""
    if not core:
        return _Reading(12, 0) if period is Period.NOON else None
    phrase = " ".join(core)
    if phrase in _MIDNIGHT:
        return _Reading(24, 0)
    if match := _DIGITAL.fullmatch(phrase):
        hour, minute, second = (
            int(match[1]),
            int(match[2] or match[4] or 0),
            int(match[3] or match[5] or 0),
        )
        reading: _Reading | None = _Reading(hour, minute, second, _is_twelve_hour(match[1], hour))
    else:
        reading = _worded(core) or _relative(core[:-1] if core[-1] == "uhr" else core)
    if reading is None or reading.hour > 24 or reading.minute > 59 or reading.second > 59:
        return None
    return reading


def _is_twelve_hour(token: str, hour: int) -> bool:
    """Whether the hour leaves AM/PM open: 1..12 written without a leading zero."""
    return 1 <= hour <= 12 and not token.startswith("0")


def _worded(core: list[str]) -> _Reading | None:
    """'vierzehn Uhr', 'drei', '14 Uhr 30', 'vierzehn Uhr dreißig', 'two thirty'."""
    said_uhr = len(core) > 1 and core[1] == "uhr"
    if said_uhr:
        core = [core[0], *core[2:]]
    if not 1 <= len(core) <= 2 or (core[0] in _ARTICLES and not said_uhr):
        return None
    hour = cardinal(core[0])
    minute = cardinal(core[1]) if len(core) == 2 else 0
    # without "Uhr" between them "zehn zwei" is two numbers, but "two thirty" and "14 05" times
    bare_pair = len(core) == 2 and not said_uhr
    if hour is None or minute is None or (bare_pair and minute < 10 and len(core[1]) != 2):
        return None
    return _Reading(hour, minute, 0, _is_twelve_hour(core[0], hour))


def _relative(core: list[str]) -> _Reading | None:
    """'halb drei', 'Viertel nach zehn', 'fünf vor halb vier', 'quarter to eleven'."""
    for pattern, offset, sign in _RELATIVE:
        words = pattern.split()
        if len(words) != len(core):
            continue
        slots = {w: t for w, t in zip(words, core, strict=True) if w in ("H", "N")}
        if any(w != t for w, t in zip(words, core, strict=True) if w not in slots):
            continue
        hour = cardinal(slots["H"])
        count = cardinal(slots["N"]) if "N" in slots else 0
        if hour is None or not 1 <= hour <= 24 or count is None or not 0 <= count < 30:
            continue
        return _shifted(hour, offset + sign * count)
    return None


def _shifted(hour: int, minutes: int) -> _Reading:
    """The reading `minutes` away from hour:00, staying on a 12-hour dial for hours 1..12."""
    total = hour * 60 + minutes
    shifted, minute = divmod(total, 60)
    if hour <= 12:
        return _Reading((shifted - 1) % 12 + 1, minute, 0, twelve_hour=True)
    return _Reading(shifted, minute)


def _hour(
    reading: _Reading, said: Period | None, hint: Period | None, hours: BusinessHours | None
) -> int | None:
    """The 24-hour hour: from the period said, else the hint, else the 12-hour rule."""
    if said is not None:
        return _with_period(reading.hour, said)
    if not reading.twelve_hour:
        return reading.hour
    if hint is not None and (hour := _with_period(reading.hour, hint)) is not None:
        return hour
    return _guess(reading, hours)


def _with_period(hour: int, period: Period) -> int | None:
    """The hour read with the period; None when they contradict ('15 Uhr morgens')."""
    converted = _on_dial(hour, period) if 1 <= hour <= 12 else hour
    return converted if converted in _PERIOD_HOURS[period] else None


def _on_dial(hour: int, period: Period) -> int:
    """Hour 1..12 of the 12-hour dial in the given part of the day, on the 24-hour clock."""
    match period:
        case Period.AM:
            return hour % 12
        case Period.PM:
            return hour % 12 + 12
        case Period.NOON:  # "11 Uhr mittags" is 11:00, "1 Uhr mittags" 13:00
            return hour if hour >= 10 else hour + 12
        case Period.NIGHT:  # "12 Uhr nachts" ends the day; "2 Uhr nachts" starts it
            return 24 if hour == 12 else (hour + 12 if hour >= 6 else hour)


def _guess(reading: _Reading, hours: BusinessHours | None) -> int:
    """AM or PM for a bare 12-hour reading (rule in the module docstring)."""
    given, other = reading.hour, (reading.hour + 12) % 24
    if hours is None:
        return other if given <= 7 else given
    if time(given, reading.minute) not in hours and time(other, reading.minute) in hours:
        return other
    return given
