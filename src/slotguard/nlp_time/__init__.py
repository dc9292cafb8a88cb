"""Date and time phrases from a voice agent → an aware datetime in the company's time zone.

Pure and standard-library only: the reference instant (the call's start) is an argument and
nothing here reads the clock. German and English, ISO or spoken ("halb drei", "next Monday").
Every refusal is a `TimeParseError` whose `kind` tells the agent what to ask again.
"""

from slotguard.nlp_time.dates import parse_date
from slotguard.nlp_time.errors import TimeParseError, TimeParseErrorKind
from slotguard.nlp_time.resolve import localize, resolve
from slotguard.nlp_time.times import BusinessHours, parse_time

__all__ = [
    "BusinessHours",
    "TimeParseError",
    "TimeParseErrorKind",
    "localize",
    "parse_date",
    "parse_time",
    "resolve",
]
