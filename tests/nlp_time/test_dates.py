"""`parse_date`: the rules for ambiguous dates, spelled out case by case."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotguard.nlp_time import TimeParseError, TimeParseErrorKind, parse_date

WEDNESDAY = date(2026, 11, 25)
GERMAN_DAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
ENGLISH_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
A_WEEK = [WEDNESDAY + timedelta(days=n) for n in range(7)]


class TestParseDate:
    """`parse_date(text, today=...)`."""

    @pytest.mark.parametrize("today", A_WEEK, ids=lambda d: d.strftime("%a"))
    def test_bare_weekday_on_that_weekday_is_today(self, today: date) -> None:
        """A bare weekday said on that weekday means today."""
        assert parse_date(GERMAN_DAYS[today.weekday()], today=today) == today
        assert parse_date(ENGLISH_DAYS[today.weekday()], today=today) == today

    @pytest.mark.parametrize("today", A_WEEK, ids=lambda d: d.strftime("%a"))
    def test_next_weekday_on_that_weekday_is_in_a_week(self, today: date) -> None:
        """'nächsten X' and 'next X' said on an X mean the X one week later."""
        week_later = today + timedelta(days=7)
        assert parse_date(f"nächsten {GERMAN_DAYS[today.weekday()]}", today=today) == week_later
        assert parse_date(f"next {ENGLISH_DAYS[today.weekday()]}", today=today) == week_later

    def test_next_weekday_the_day_before_is_tomorrow(self) -> None:
        """'nächsten Dienstag' said on a Monday is the next day, not the week after."""
        monday = date(2026, 11, 30)
        assert parse_date("nächsten Dienstag", today=monday) == date(2026, 12, 1)

    def test_weekday_of_next_week_is_in_the_next_calendar_week(self) -> None:
        """'Dienstag nächster Woche' said on a Monday skips tomorrow for the week after."""
        monday = date(2026, 11, 30)
        assert parse_date("Dienstag nächster Woche", today=monday) == date(2026, 12, 8)
        assert parse_date("next week Tuesday", today=monday) == date(2026, 12, 8)

    def test_next_week_from_sunday_starts_tomorrow(self) -> None:
        """Weeks run Monday to Sunday, so on a Sunday 'nächste Woche Montag' is tomorrow."""
        sunday = date(2026, 11, 29)
        assert parse_date("nächste Woche Montag", today=sunday) == date(2026, 11, 30)

    def test_after_next_weekday_adds_a_week(self) -> None:
        """'übernächsten Freitag' is one week after 'nächsten Freitag'."""
        assert parse_date("übernächsten Freitag", today=WEDNESDAY) == date(2026, 12, 4)

    def test_weekday_rolls_over_the_year(self) -> None:
        """Weekdays and day-month dates continue into the next year."""
        new_years_eve = date(2026, 12, 31)
        assert parse_date("Montag", today=new_years_eve) == date(2027, 1, 4)
        assert parse_date("2. Januar", today=new_years_eve) == date(2027, 1, 2)

    def test_day_month_without_year_is_on_or_after_today(self) -> None:
        """A day and month without a year is today if it is today, else next year's if past."""
        assert parse_date("25.11.", today=WEDNESDAY) == WEDNESDAY
        assert parse_date("24. November", today=WEDNESDAY) == date(2027, 11, 24)

    def test_leap_day_without_year_finds_the_next_leap_year(self) -> None:
        """'29. Februar' without a year is the next 29 February that exists."""
        assert parse_date("29. Februar", today=WEDNESDAY) == date(2028, 2, 29)

    def test_explicit_past_year_is_returned_as_said(self) -> None:
        """A date with a year is that date even when it is past; resolve judges the past."""
        assert parse_date("1.1.2020", today=WEDNESDAY) == date(2020, 1, 1)

    def test_two_digit_year_is_this_century(self) -> None:
        """'2.12.27' is 2 December 2027."""
        assert parse_date("2.12.27", today=WEDNESDAY) == date(2027, 12, 2)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("12/25/2026", date(2026, 12, 25)), ("25/12/2026", date(2026, 12, 25))],
    )
    def test_unambiguous_slash_dates_are_read(self, text: str, expected: date) -> None:
        """A slash date with a part above 12 can only be read one way."""
        assert parse_date(text, today=WEDNESDAY) == expected

    @pytest.mark.parametrize("text", ["12/02/2026", "1/2", "03/04"])
    def test_ambiguous_slash_dates_are_refused(self, text: str) -> None:
        """A slash date that reads differently in the US and Europe is refused, not guessed."""
        with pytest.raises(TimeParseError) as caught:
            parse_date(text, today=WEDNESDAY)
        assert caught.value.kind is TimeParseErrorKind.UNPARSEABLE_DATE

    def test_weekday_must_agree_with_the_date(self) -> None:
        """A weekday that contradicts the date next to it is refused."""
        assert parse_date("Dienstag, 1.12.", today=WEDNESDAY) == date(2026, 12, 1)
        with pytest.raises(TimeParseError):
            parse_date("Mittwoch, 1.12.", today=WEDNESDAY)

    @pytest.mark.parametrize(
        ("umlaut", "ascii"),
        [
            ("übermorgen", "uebermorgen"),
            ("nächsten Freitag", "naechsten Freitag"),
            ("3. März", "3. Maerz"),
            ("übernächsten Montag", "uebernaechsten Montag"),
            ("einunddreißigster Dezember", "einunddreissigster Dezember"),
        ],
    )
    def test_umlauts_and_their_spellings_agree(self, umlaut: str, ascii: str) -> None:
        """Umlauts, their ae/oe/ue spellings and any letter case mean the same date."""
        expected = parse_date(umlaut, today=WEDNESDAY)
        assert parse_date(ascii, today=WEDNESDAY) == expected
        assert parse_date(umlaut.upper(), today=WEDNESDAY) == expected

    def test_decomposed_umlauts_are_folded(self) -> None:
        """An umlaut sent as letter plus combining mark reads like the composed one."""
        assert parse_date("u\u0308bermorgen", today=WEDNESDAY) == date(2026, 11, 27)

    def test_a_time_in_the_phrase_is_refused(self) -> None:
        """parse_date reads dates only; a phrase with a time belongs to resolve."""
        with pytest.raises(TimeParseError) as caught:
            parse_date("morgen um 14 Uhr", today=WEDNESDAY)
        assert caught.value.kind is TimeParseErrorKind.UNPARSEABLE_DATE

    @pytest.mark.parametrize("text", ["blabla", "", "32.13.", "Februar 30", "0.12.", "am 0."])
    def test_nonsense_is_refused_with_the_phrase(self, text: str) -> None:
        """A phrase that is no date raises unparseable_date carrying the phrase as sent."""
        with pytest.raises(TimeParseError) as caught:
            parse_date(text, today=WEDNESDAY)
        assert (caught.value.kind, caught.value.phrase) == (
            TimeParseErrorKind.UNPARSEABLE_DATE,
            text,
        )

    @given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
    def test_iso_dates_round_trip(self, day: date) -> None:
        """Any ISO date parses back to itself."""
        assert parse_date(day.isoformat(), today=WEDNESDAY) == day

    @given(st.integers(min_value=0, max_value=364))
    def test_day_month_within_a_year_is_found(self, days_ahead: int) -> None:
        """'D.M.' names the day up to a year ahead, never an earlier one."""
        day = WEDNESDAY + timedelta(days=days_ahead)
        assert parse_date(f"{day.day}.{day.month}.", today=WEDNESDAY) == day

    @given(st.text(max_size=60))
    def test_arbitrary_text_raises_only_time_parse_error(self, text: str) -> None:
        """Whatever the text, parse_date returns a date or raises TimeParseError."""
        try:
            assert isinstance(parse_date(text, today=WEDNESDAY), date)
        except TimeParseError as error:
            assert error.phrase == text
