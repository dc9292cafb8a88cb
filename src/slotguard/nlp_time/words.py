"""Word tables for dates and times, German and English, in normalized spelling."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AFTER_NEXT_WORDS",
    "DATE_FILLERS",
    "MONTHS",
    "NEXT_WORDS",
    "PERIODS",
    "RELATIVE_DAYS",
    "THIS_WORDS",
    "TIME_FILLERS",
    "WEEKDAYS",
    "WEEK_WORDS",
    "Period",
]


class Period(StrEnum):
    """The part of the day a speaker names next to a 12-hour clock reading."""

    AM = "am"
    PM = "pm"
    NOON = "noon"
    NIGHT = "night"


def _table(spellings: dict[int, str]) -> dict[str, int]:
    """Invert {value: 'spelling spelling …'} into {spelling: value}."""
    return {word: value for value, words in spellings.items() for word in words.split()}


MONTHS = _table(
    {
        1: "januar jaenner jan january",
        2: "februar feber feb february",
        3: "maerz mrz mar march",
        4: "april apr",
        5: "mai may",
        6: "juni jun june",
        7: "juli jul july",
        8: "august aug",
        9: "september sep sept",
        10: "oktober okt oct october",
        11: "november nov",
        12: "dezember dez dec december",
    }
)
# Two-letter abbreviations (mo, di, so …) are left out: "so" is a filler ("so gegen drei").
WEEKDAYS = _table(
    {
        0: "montag monday mon",
        1: "dienstag tuesday tue tues",
        2: "mittwoch wednesday wed",
        3: "donnerstag thursday thu thur thurs",
        4: "freitag friday fri",
        5: "samstag sonnabend saturday sat",
        6: "sonntag sunday sun",
    }
)
RELATIVE_DAYS = {
    "vorgestern": -2,
    "day before yesterday": -2,
    "gestern": -1,
    "yesterday": -1,
    "heute": 0,
    "today": 0,
    "morgen": 1,
    "tomorrow": 1,
    "uebermorgen": 2,
    "ueber morgen": 2,
    "day after tomorrow": 2,
}
THIS_WORDS = frozenset(["diese", "dieser", "diesen", "dieses", "this"])
NEXT_WORDS = frozenset(
    [
        "naechste",
        "naechster",
        "naechsten",
        "naechstes",
        "kommende",
        "kommender",
        "kommenden",
        "next",
        "coming",
    ]
)
AFTER_NEXT_WORDS = frozenset(
    ["uebernaechste", "uebernaechster", "uebernaechsten", "uebernaechstes"]
)
WEEK_WORDS = frozenset(["woche", "week"])

PERIODS: dict[str, Period] = {
    **dict.fromkeys(["am", "morgens", "frueh", "vormittags", "vormittag", "morning"], Period.AM),
    **dict.fromkeys(
        ["pm", "nachmittags", "nachmittag", "abends", "abend", "afternoon", "evening"], Period.PM
    ),
    **dict.fromkeys(["mittags", "mittag", "noon", "midday"], Period.NOON),
    **dict.fromkeys(["nachts", "night"], Period.NIGHT),
}
_POLITE = frozenset(
    [
        "bitte",
        "gerne",
        "gern",
        "please",
        "so",
        "gegen",
        "circa",
        "ca",
        "etwa",
        "ungefaehr",
        "around",
        "about",
    ]
)
# "am" is a date filler ("am Dienstag") but a period in a time phrase ("9 am").
DATE_FILLERS = _POLITE | frozenset(
    ["am", "an", "on", "den", "dem", "der", "the", "of", "fuer", "for"]
)
TIME_FILLERS = _POLITE | frozenset(["um", "at", "punkt", "in", "the", "a"])
