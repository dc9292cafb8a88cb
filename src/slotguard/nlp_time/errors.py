"""The one exception `nlp_time` raises for bad input, and its kinds."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TimeParseError", "TimeParseErrorKind"]


class TimeParseErrorKind(StrEnum):
    """Why a phrase was refused; the agent picks its follow-up question from this."""

    UNPARSEABLE_DATE = "unparseable_date"
    UNPARSEABLE_TIME = "unparseable_time"
    NONEXISTENT_TIME = "nonexistent_time"  # the wall time falls into a DST spring-forward gap
    IN_PAST = "in_past"
    MISSING_TIME = "missing_time"


class TimeParseError(ValueError):
    """Raised when a phrase cannot be understood or names an impossible time."""

    kind: TimeParseErrorKind
    phrase: str

    def __init__(self, kind: TimeParseErrorKind, phrase: str) -> None:
        super().__init__(f"{kind}: {phrase!r}")
        self.kind = kind
        self.phrase = phrase
