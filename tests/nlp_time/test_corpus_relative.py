"""The phrase table of day-plus-span phrases and days of the month, from many call starts.

Each row is resolved from every call start in ANCHORS (each weekday, month and year ends, both
DST switches, and today), so the table holds on any day of the year. Expected values are
rules relative to the call start, computed here independently of the parser:

* ``D+n``        the call's local day plus n days
* ``W<wd>+n``    the next weekday wd (0 = Monday) on or after the call's day, plus n days
* ``M<dd>``      the next day dd of a month on or after the call's day (months without it skipped)
* `` HH:MM``     appended: that wall time on the day
* ``!kind``      a TimeParseError of that kind

A ``{D+n}`` in a phrase is replaced by that day in ISO form (ISO date-times in one argument).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotguard.nlp_time import BusinessHours, TimeParseError, resolve

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = BusinessHours(opens=time(9), closes=time(20))
_TODAY = datetime.now(UTC).astimezone(BERLIN).date()
ANCHOR_DAYS = dict.fromkeys(
    [
        *(date(2026, 11, 23) + timedelta(days=n) for n in range(7)),  # Monday .. Sunday
        date(2027, 1, 31),  # "am 30." and "am 31." skip February
        date(2027, 2, 28),
        date(2026, 12, 31),  # the year rolls over
        date(2027, 3, 28),  # spring forward in Berlin
        date(2026, 10, 25),  # fall back in Berlin
        _TODAY,
    ]
)
ANCHORS = [datetime.combine(d, time(8, 30), tzinfo=BERLIN) for d in ANCHOR_DAYS]

TABLE: list[tuple[str, str | None, str]] = [
    # phrase                                   time phrase       expected
    # --- German: a day and a span counted from it
    ("heute in einer Woche",                   None,             "D+7"),
    ("Heute in einer Woche!",                  None,             "D+7"),
    ("heute in 1 Woche",                       None,             "D+7"),
    ("heute in zwei Wochen",                   None,             "D+14"),
    ("heute in drei Wochen",                   None,             "D+21"),
    ("morgen in einer Woche",                  None,             "D+8"),
    ("morgen in zwei Wochen",                  None,             "D+15"),
    ("übermorgen in einer Woche",              None,             "D+9"),
    ("uebermorgen in einer Woche",             None,             "D+9"),
    ("gestern in einer Woche",                 None,             "D+6"),
    ("Montag in einer Woche",                  None,             "W0+7"),
    ("Dienstag in einer Woche",                None,             "W1+7"),
    ("am Freitag in einer Woche",              None,             "W4+7"),
    ("Sonntag in einer Woche",                 None,             "W6+7"),
    ("am Mittwoch in zwei Wochen",             None,             "W2+14"),
    ("Donnerstag in 2 Wochen",                 None,             "W3+14"),
    ("Samstag in drei Wochen",                 None,             "W5+21"),
    ("in zwei Wochen am Mittwoch",             None,             "W2+14"),
    ("in einer Woche am Montag",               None,             "W0+7"),
    ("heute in drei Tagen",                    None,             "D+3"),
    # --- German: a day of the month alone
    ("am 9.",                                  None,             "M9"),
    ("den 9.",                                 None,             "M9"),
    ("der 9.",                                 None,             "M9"),
    ("9.",                                     None,             "M9"),
    ("am 9., bitte",                           None,             "M9"),
    ("am 1.",                                  None,             "M1"),
    ("am 15.",                                 None,             "M15"),
    ("am 28.",                                 None,             "M28"),
    ("am 30.",                                 None,             "M30"),
    ("am 31.",                                 None,             "M31"),
    ("am neunten",                             None,             "M9"),
    ("den neunten",                            None,             "M9"),
    ("am ersten",                              None,             "M1"),
    ("am zwanzigsten",                         None,             "M20"),
    ("am einunddreißigsten",                   None,             "M31"),
    # --- German: date and time in the date argument, no time argument
    ("heute in einer Woche um 14 Uhr",         None,             "D+7 14:00"),
    ("morgen in einer Woche um 10",            None,             "D+8 10:00"),
    ("morgen in einer Woche um halb drei",     None,             "D+8 14:30"),
    ("Montag in einer Woche um 9 Uhr",         None,             "W0+7 09:00"),
    ("am Mittwoch in zwei Wochen um 15 Uhr",   None,             "W2+14 15:00"),
    ("am 9. um 14 Uhr",                        None,             "M9 14:00"),
    ("den 9. um halb drei",                    None,             "M9 14:30"),
    ("am neunten um Viertel nach zehn",        None,             "M9 10:15"),
    ("morgen um 14 Uhr",                       None,             "D+1 14:00"),
    ("übermorgen um 16 Uhr",                   None,             "D+2 16:00"),
    ("morgen früh um 9",                       None,             "D+1 09:00"),
    ("{D+8}T14:00",                            None,             "D+8 14:00"),
    ("{D+8}T14:00:00",                         None,             "D+8 14:00"),
    ("{D+8} 14:00",                            None,             "D+8 14:00"),
    ("{D+8}T09:30",                            None,             "D+8 09:30"),
    # --- German: a separate time phrase
    ("heute in einer Woche",                   "14 Uhr",         "D+7 14:00"),
    ("Montag in einer Woche",                  "halb drei",      "W0+7 14:30"),
    ("am 9.",                                  "10:00",          "M9 10:00"),
    ("den 9.",                                 "16 Uhr",         "M9 16:00"),
    # --- English: a day and a span counted from it
    ("a week from today",                      None,             "D+7"),
    ("one week from today",                    None,             "D+7"),
    ("a week from tomorrow",                   None,             "D+8"),
    ("two weeks from today",                   None,             "D+14"),
    ("a week from Monday",                     None,             "W0+7"),
    ("two weeks from Friday",                  None,             "W4+14"),
    ("Monday week",                            None,             "W0+7"),
    ("Friday week",                            None,             "W4+7"),
    ("tomorrow week",                          None,             "D+8"),
    ("a week on Monday",                       None,             "W0+7"),
    ("a week today",                           None,             "D+7"),
    ("a fortnight from today",                 None,             "D+14"),
    ("in a fortnight",                         None,             "D+14"),
    ("today in a week",                        None,             "D+7"),
    ("Thursday in two weeks",                  None,             "W3+14"),
    # --- English: a day of the month alone
    ("on the 9th",                             None,             "M9"),
    ("the 9th",                                None,             "M9"),
    ("9th",                                    None,             "M9"),
    ("on the ninth",                           None,             "M9"),
    ("the 1st",                                None,             "M1"),
    ("on the 31st",                            None,             "M31"),
    ("the twentieth",                          None,             "M20"),
    ("the 22nd",                               None,             "M22"),
    # --- English: date and time in one argument
    ("tomorrow at 2pm",                        None,             "D+1 14:00"),
    ("tomorrow at 2:30 pm",                    None,             "D+1 14:30"),
    ("a week from today at 2pm",               None,             "D+7 14:00"),
    ("Monday week at 10",                      None,             "W0+7 10:00"),
    ("on the 9th at 3pm",                      None,             "M9 15:00"),
    ("the 9th at half past two",               None,             "M9 14:30"),
    ("tomorrow week at 11am",                  None,             "D+8 11:00"),
    ("on the 9th",                             "2pm",            "M9 14:00"),
    ("a week from Monday",                     "10 am",          "W0+7 10:00"),
    # --- not dates, not times
    ("am 32.",                                 None,             "!unparseable_date"),
    ("am 0.",                                  None,             "!unparseable_date"),
    ("the 32nd",                               None,             "!unparseable_date"),
    ("Woche in heute",                         None,             "!unparseable_date"),
    ("Montag in",                              None,             "!unparseable_date"),
    ("a week from",                            None,             "!unparseable_date"),
    ("Montag Woche Dienstag",                  None,             "!unparseable_date"),
    ("am 9. um 25 Uhr",                        None,             "!unparseable_time"),
    ("heute in einer Woche",                   "25 Uhr",         "!unparseable_time"),
]  # fmt: skip

_RULE = re.compile(r"(?:D\+(\d+)|W(\d)\+(\d+)|M(\d+))(?: (\d\d:\d\d))?")


def _day_of_month(today: date, day: int) -> date:
    """The first date on or after `today` whose day of month is `day`."""
    candidate = today
    while candidate.day != day:
        candidate += timedelta(days=1)
    return candidate


def _expected(rule: str, today: date) -> date | datetime:
    """Apply a rule of the table to the call's local day."""
    match = _RULE.fullmatch(rule)
    assert match, rule
    plus, weekday, weekday_plus, month_day, wall = match.groups()
    if plus is not None:
        day = today + timedelta(days=int(plus))
    elif weekday is not None:
        ahead = (int(weekday) - today.weekday()) % 7
        day = today + timedelta(days=ahead + int(weekday_plus))
    else:
        day = _day_of_month(today, int(month_day))
    if wall is None:
        return day
    return datetime.combine(day, time.fromisoformat(wall), tzinfo=BERLIN)


def _phrase(text: str, today: date) -> str:
    """Fill `{D+n}` with the ISO day n days after the call's day."""
    return re.sub(r"\{D\+(\d+)\}", lambda m: (today + timedelta(days=int(m[1]))).isoformat(), text)


@pytest.mark.parametrize("now", ANCHORS, ids=lambda n: n.strftime("%a-%Y-%m-%d"))
@pytest.mark.parametrize(
    ("date_text", "time_text", "rule"), TABLE, ids=[f"{d} | {t}" for d, t, _ in TABLE]
)
def test_phrase(now: datetime, date_text: str, time_text: str | None, rule: str) -> None:
    """Each phrase resolves to the day its rule names, from every call start."""
    today = now.date()
    text = _phrase(date_text, today)
    if rule.startswith("!"):
        with pytest.raises(TimeParseError) as caught:
            resolve(text, time_text, now=now, tz=BERLIN, hours=HOURS, require_time=False)
        assert caught.value.kind == rule[1:]
        return
    result = resolve(text, time_text, now=now, tz=BERLIN, hours=HOURS, require_time=False)
    expected = _expected(rule, today)
    assert result == expected
    assert type(result) is type(expected)


def test_table_is_large_unique_and_bilingual() -> None:
    """At least 60 distinct rows, and both languages well represented."""
    pairs = [(d, t) for d, t, _ in TABLE]
    assert len(set(pairs)) == len(pairs) >= 60
    english = [d for d, _, _ in TABLE if re.search(r"\b(the|week|weeks|tomorrow|today)\b", d)]
    assert len(english) >= 25
