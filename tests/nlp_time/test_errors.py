"""`TimeParseError` and its kinds: the contract the agent layer maps to follow-up questions."""

from __future__ import annotations

from datetime import date

import pytest

from slotguard.nlp_time import TimeParseError, TimeParseErrorKind, parse_date, parse_time


class TestTimeParseError:
    """`TimeParseError` and `TimeParseErrorKind`."""

    def test_kind_values_are_the_documented_strings(self) -> None:
        """The kinds are exactly the five strings other layers key their messages on."""
        assert sorted(TimeParseErrorKind) == sorted(
            ["unparseable_date", "unparseable_time", "nonexistent_time", "in_past", "missing_time"]
        )

    def test_is_a_value_error_carrying_kind_and_phrase(self) -> None:
        """The error is a ValueError that keeps the kind and the offending phrase."""
        error = TimeParseError(TimeParseErrorKind.IN_PAST, "gestern")
        assert isinstance(error, ValueError)
        assert (error.kind, error.phrase) == (TimeParseErrorKind.IN_PAST, "gestern")
        assert str(error) == "in_past: 'gestern'"

    @pytest.mark.parametrize(
        ("text", "kind"),
        [
            ("blabla", TimeParseErrorKind.UNPARSEABLE_DATE),
            ("", TimeParseErrorKind.UNPARSEABLE_DATE),
            ("32.13.", TimeParseErrorKind.UNPARSEABLE_DATE),
            ("Februar 30", TimeParseErrorKind.UNPARSEABLE_DATE),
        ],
    )
    def test_garbage_dates_raise_it(self, text: str, kind: TimeParseErrorKind) -> None:
        """Garbage date phrases raise TimeParseError, never a bare ValueError or IndexError."""
        with pytest.raises(TimeParseError) as caught:
            parse_date(text, today=date(2026, 11, 25))
        assert type(caught.value) is TimeParseError
        assert caught.value.kind is kind

    @pytest.mark.parametrize("text", ["blabla", "", "25 Uhr", "99:99", "\x00", "٣ Uhr", "1" * 500])
    def test_garbage_times_raise_it(self, text: str) -> None:
        """Garbage time phrases raise TimeParseError(unparseable_time)."""
        with pytest.raises(TimeParseError) as caught:
            parse_time(text)
        assert caught.value.kind is TimeParseErrorKind.UNPARSEABLE_TIME
