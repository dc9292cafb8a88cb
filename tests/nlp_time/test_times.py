"""`parse_time` and `BusinessHours`: clock readings and the 12-hour rule."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotguard.nlp_time import BusinessHours, TimeParseError, TimeParseErrorKind, parse_time

SALON = BusinessHours(opens=time(9), closes=time(20))
EARLY_SALON = BusinessHours(opens=time(8), closes=time(20))
VOCABULARY = [  # words that reach deep into the grammar
    "um", "at", "halb", "viertel", "nach", "vor", "dreiviertel", "half", "past", "quarter", "to",
    "uhr", "h", "am", "pm", "morgens", "abends", "nachmittags", "mittags", "nachts", "noon",
    "midnight", "mitternacht", "drei", "zwölf", "zwo", "eins", "elf", "twelve", "twenty-five",
    "0", "1", "7", "12", "13", "24", "25", "60", "99", ":", ".", "14:30", "2.12.", "14h30",
    "09:00", "morgen", "heute",
]  # fmt: skip


class TestParseTime:
    """`parse_time(text, hours=...)`."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [(str(h), time(h + 12 if h <= 7 else h)) for h in range(1, 13)],
    )
    def test_bare_hours_without_business_hours(self, text: str, expected: time) -> None:
        """Without business hours, 1–7 are afternoon hours and 8–12 morning hours or noon."""
        assert parse_time(text) == expected

    @pytest.mark.parametrize(
        ("text", "hours", "expected"),
        [
            ("halb drei", SALON, time(14, 30)),
            ("halb neun", EARLY_SALON, time(8, 30)),
            ("halb neun", SALON, time(8, 30)),
            ("7", EARLY_SALON, time(19)),
            ("8", BusinessHours(time(10), time(22)), time(20)),
            ("3", BusinessHours(time(0), time(23, 59)), time(3)),
            ("11", SALON, time(11)),
        ],
    )
    def test_business_hours_pick_pm_only_when_am_is_closed(
        self, text: str, hours: BusinessHours, expected: time
    ) -> None:
        """PM is chosen only when the AM reading is closed and the PM reading open."""
        assert parse_time(text, hours=hours) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("02:30", time(2, 30)),
            ("07:00", time(7)),
            ("0 Uhr", time(0)),
            ("9 pm", time(21)),
            ("12 am", time(0)),
            ("12 pm", time(12)),
            ("2 Uhr nachts", time(2)),
            ("10 Uhr nachts", time(22)),
            ("11 Uhr mittags", time(11)),
            ("14 Uhr nachmittags", time(14)),
        ],
    )
    def test_explicit_readings_ignore_the_12_hour_rule(self, text: str, expected: time) -> None:
        """A leading zero or a part of the day settles the hour, whatever the opening hours."""
        assert parse_time(text, hours=SALON) == expected

    @pytest.mark.parametrize("text", ["24 Uhr", "vierundzwanzig Uhr", "Mitternacht", "midnight"])
    def test_midnight_is_zero_hours(self, text: str) -> None:
        """'24 Uhr' and midnight are 00:00 (resolve moves them to the next day)."""
        assert parse_time(text) == time(0)

    def test_seconds_are_kept(self) -> None:
        """An ISO time with seconds keeps them."""
        assert parse_time("14:30:15") == time(14, 30, 15)

    def test_result_is_a_naive_wall_time(self) -> None:
        """parse_time returns a wall time without a zone."""
        assert parse_time("14:00").tzinfo is None

    def test_a_dotted_date_is_not_a_time(self) -> None:
        """'2.12.' is a date, not 2:12."""
        with pytest.raises(TimeParseError):
            parse_time("2.12.")

    @pytest.mark.parametrize(
        "text",
        ["", "  ", "blabla", "25 Uhr", "24:30", "12:60", "15 Uhr morgens", "13 am", "9 am pm",
         "halb", "morgens", "morgen um 10", "halb fünfundzwanzig", "dreißig vor drei", "ein",
         "zehn zwei"],
    )  # fmt: skip
    def test_nonsense_is_refused_with_the_phrase(self, text: str) -> None:
        """A phrase that is no time raises unparseable_time carrying the phrase as sent."""
        with pytest.raises(TimeParseError) as caught:
            parse_time(text)
        assert (caught.value.kind, caught.value.phrase) == (
            TimeParseErrorKind.UNPARSEABLE_TIME,
            text,
        )

    @given(st.times())
    def test_iso_times_round_trip(self, at: time) -> None:
        """Any HH:MM:SS time parses back to itself."""
        assert parse_time(at.strftime("%H:%M:%S")) == at.replace(microsecond=0)

    @given(st.text(max_size=60) | st.lists(st.sampled_from(VOCABULARY), max_size=6).map(" ".join))
    def test_arbitrary_text_raises_only_time_parse_error(self, text: str) -> None:
        """Whatever the text, parse_time returns a time or raises TimeParseError."""
        try:
            assert isinstance(parse_time(text, hours=SALON), time)
        except TimeParseError as error:
            assert error.kind is TimeParseErrorKind.UNPARSEABLE_TIME


class TestBusinessHours:
    """`BusinessHours` membership."""

    def test_opening_time_is_inside_and_closing_time_outside(self) -> None:
        """Hours are the half-open range [opens, closes)."""
        assert time(9) in SALON
        assert time(19, 59) in SALON
        assert time(20) not in SALON
        assert time(8, 59) not in SALON

    def test_hours_may_run_past_midnight(self) -> None:
        """A bar open 18:00–02:00 is open at 01:00 and closed at 03:00."""
        bar = BusinessHours(opens=time(18), closes=time(2))
        assert time(1) in bar
        assert time(23) in bar
        assert time(3) not in bar

    def test_non_times_are_never_inside(self) -> None:
        """Membership of anything but a time is False rather than an error."""
        assert "10:00" not in SALON
