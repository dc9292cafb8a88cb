"""`resolve`: phrases to moments around DST switches, midnight and in several zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotguard.nlp_time import BusinessHours, TimeParseError, TimeParseErrorKind, resolve

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
CHATHAM = ZoneInfo("Pacific/Chatham")
KOLKATA = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)  # a Wednesday
SALON = BusinessHours(opens=time(9), closes=time(20))
Kind = TimeParseErrorKind


def _kind(date_text: str, time_text: str | None, *, require_time: bool = True) -> Kind:
    """The kind of the TimeParseError resolve raises for these phrases."""
    with pytest.raises(TimeParseError) as caught:
        resolve(date_text, time_text, now=NOW, tz=BERLIN, require_time=require_time)
    return caught.value.kind


class TestResolve:
    """`resolve(date_text, time_text, now=..., tz=...)`."""

    def test_phrase_across_spring_forward_gets_summer_offset(self) -> None:
        """'morgen 10 Uhr' said the day before clocks go forward is 10:00 at +02:00."""
        now = datetime(2026, 3, 28, 9, 0, tzinfo=BERLIN)
        result = resolve("morgen 10 Uhr", None, now=now, tz=BERLIN)
        assert result == datetime(2026, 3, 29, 10, tzinfo=BERLIN)
        assert isinstance(result, datetime)
        assert result.utcoffset() == timedelta(hours=2)

    @pytest.mark.parametrize(
        ("now", "date_text", "time_text"),
        [
            (datetime(2026, 3, 28, 9, tzinfo=BERLIN), "morgen", "02:30"),
            (datetime(2026, 3, 28, 9, tzinfo=BERLIN), "morgen um halb drei nachts", None),
            (datetime(2026, 3, 7, 9, tzinfo=NEW_YORK), "2026-03-08", "2:30 am"),
        ],
        ids=["berlin-time-phrase", "berlin-in-date-phrase", "new-york"],
    )
    def test_time_in_the_gap_is_nonexistent(
        self, now: datetime, date_text: str, time_text: str | None
    ) -> None:
        """A phrase naming a wall time skipped by DST raises nonexistent_time with the phrase."""
        assert isinstance(now.tzinfo, ZoneInfo)
        with pytest.raises(TimeParseError) as caught:
            resolve(date_text, time_text, now=now, tz=now.tzinfo)
        assert caught.value.kind is Kind.NONEXISTENT_TIME
        assert caught.value.phrase == (time_text or date_text)

    def test_time_in_the_fold_is_the_first_occurrence(self) -> None:
        """'2026-10-25' at 02:30 in Berlin is the summer-time 02:30 (+02:00)."""
        now = datetime(2026, 10, 20, tzinfo=BERLIN)
        result = resolve("2026-10-25", "02:30", now=now, tz=BERLIN)
        assert result.isoformat() == "2026-10-25T02:30:00+02:00"

    def test_iso_instant_in_the_fold_keeps_its_instant(self) -> None:
        """An ISO instant in the second 02:30 stays that instant (+01:00), not the first one."""
        now = datetime(2026, 10, 20, tzinfo=BERLIN)
        result = resolve("2026-10-25T01:30:00Z", None, now=now, tz=BERLIN)
        assert isinstance(result, datetime)
        # astimezone: PEP 495 makes a fold time unequal to any datetime in another zone
        assert result.astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
        assert (result.fold, result.utcoffset()) == (1, timedelta(hours=1))

    def test_just_before_midnight_today_and_tomorrow_differ(self) -> None:
        """At 23:59:30 'heute' is still today and 'morgen' the next day."""
        now = datetime(2026, 11, 25, 23, 59, 30, tzinfo=BERLIN)
        assert resolve("heute", None, now=now, tz=BERLIN, require_time=False) == date(2026, 11, 25)
        assert resolve("morgen", None, now=now, tz=BERLIN, require_time=False) == date(2026, 11, 26)

    def test_just_before_midnight_the_passing_minute_is_past(self) -> None:
        """At 23:59:30 today 23:59 is past, while '24 Uhr' is the coming midnight."""
        now = datetime(2026, 11, 25, 23, 59, 30, tzinfo=BERLIN)
        with pytest.raises(TimeParseError) as caught:
            resolve("heute", "23:59", now=now, tz=BERLIN)
        assert caught.value.kind is Kind.IN_PAST
        assert resolve("heute", "24 Uhr", now=now, tz=BERLIN) == datetime(
            2026, 11, 26, tzinfo=BERLIN
        )

    def test_today_is_the_local_date_behind_utc(self) -> None:
        """When UTC has reached tomorrow, New York's 'heute' is still the local today."""
        now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 21:00 on the 25th in New York
        assert resolve("heute", None, now=now, tz=NEW_YORK, require_time=False) == date(
            2026, 11, 25
        )
        assert resolve("morgen", None, now=now, tz=NEW_YORK, require_time=False) == date(
            2026, 11, 26
        )

    def test_today_is_the_local_date_ahead_of_utc(self) -> None:
        """When Kolkata has reached tomorrow, its 'heute' is the local date, not UTC's."""
        now = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # 01:30 on the 26th in Kolkata
        assert resolve("heute", None, now=now, tz=KOLKATA, require_time=False) == date(2026, 11, 26)

    @pytest.mark.parametrize(
        ("tz", "offset"),
        [
            (BERLIN, timedelta(hours=1)),
            (NEW_YORK, timedelta(hours=-5)),
            (CHATHAM, timedelta(hours=13, minutes=45)),
            (KOLKATA, timedelta(hours=5, minutes=30)),
        ],
    )
    def test_result_is_in_the_company_zone(self, tz: ZoneInfo, offset: timedelta) -> None:
        """The result is the wall time in tz, whatever zone `now` was given in."""
        now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
        result = resolve("2.12.", "halb drei", now=now, tz=tz, hours=SALON)
        assert isinstance(result, datetime)
        assert (result.date(), result.time(), result.tzinfo, result.utcoffset()) == (
            date(2026, 12, 2),
            time(14, 30),
            tz,
            offset,
        )

    def test_iso_offset_is_converted_to_the_zone(self) -> None:
        """An ISO datetime with an offset is the same instant, shown in tz."""
        result = resolve("2026-12-02T13:00:00Z", None, now=NOW, tz=CHATHAM)
        assert isinstance(result, datetime)
        assert result.tzinfo is CHATHAM
        assert result.isoformat() == "2026-12-03T02:45:00+13:45"

    def test_date_without_time_is_missing_time_when_required(self) -> None:
        """Without a time, resolve raises missing_time unless a date is enough."""
        assert _kind("morgen", None) is Kind.MISSING_TIME
        assert _kind("morgen", "   ") is Kind.MISSING_TIME
        assert resolve("morgen", None, now=NOW, tz=BERLIN, require_time=False) == date(2026, 11, 26)

    def test_past_moments_raise_unless_allowed(self) -> None:
        """An earlier moment or day raises in_past, and is returned when allow_past is set."""
        assert _kind("heute", "9:30") is Kind.IN_PAST
        assert _kind("gestern", None, require_time=False) is Kind.IN_PAST
        past = resolve("heute", "9:30", now=NOW, tz=BERLIN, allow_past=True)
        assert past == datetime(2026, 11, 25, 9, 30, tzinfo=BERLIN)
        day = resolve("gestern", None, now=NOW, tz=BERLIN, allow_past=True, require_time=False)
        assert day == date(2026, 11, 24)

    def test_now_itself_is_not_past(self) -> None:
        """A moment equal to now is accepted."""
        assert resolve("heute", "10:00", now=NOW, tz=BERLIN) == NOW

    def test_separate_time_phrase_wins_over_the_one_in_the_date(self) -> None:
        """A non-blank time_text replaces a time said inside date_text."""
        result = resolve("2026-12-02T13:00:00Z", "16 Uhr", now=NOW, tz=BERLIN)
        assert result == datetime(2026, 12, 2, 16, tzinfo=BERLIN)

    def test_part_of_day_in_the_date_settles_the_time(self) -> None:
        """'morgen abend' with time '8' is 20:00, with time '14:00' still 14:00."""
        assert resolve("morgen abend", "8", now=NOW, tz=BERLIN) == datetime(
            2026, 11, 26, 20, tzinfo=BERLIN
        )
        assert resolve("morgen früh", "14:00", now=NOW, tz=BERLIN) == datetime(
            2026, 11, 26, 14, tzinfo=BERLIN
        )

    @pytest.mark.parametrize(
        ("date_text", "time_text", "kind"),
        [
            ("blabla", None, Kind.UNPARSEABLE_DATE),
            ("", "14:00", Kind.UNPARSEABLE_DATE),
            ("32.13.", "14:00", Kind.UNPARSEABLE_DATE),
            ("Februar 30", "14:00", Kind.UNPARSEABLE_DATE),
            ("morgen", "25 Uhr", Kind.UNPARSEABLE_TIME),
            ("morgen um 25 Uhr", None, Kind.UNPARSEABLE_TIME),
            ("morgen", "blabla", Kind.UNPARSEABLE_TIME),
            ("morgen", None, Kind.MISSING_TIME),
            ("gestern", "10:00", Kind.IN_PAST),
            ("2026-03-29T02:30", None, Kind.NONEXISTENT_TIME),
        ],
    )
    def test_each_error_kind(self, date_text: str, time_text: str | None, kind: Kind) -> None:
        """Each kind of failure is reported as a TimeParseError of that kind."""
        now = NOW.replace(month=3, day=1) if kind is Kind.NONEXISTENT_TIME else NOW
        with pytest.raises(TimeParseError) as caught:
            resolve(date_text, time_text, now=now, tz=BERLIN)
        assert caught.value.kind is kind

    def test_naive_now_is_a_programming_error(self) -> None:
        """A naive `now` is refused with ValueError, since 'today' would be undefined."""
        with pytest.raises(ValueError, match="timezone-aware"):
            resolve("morgen", "10:00", now=NOW.replace(tzinfo=None), tz=BERLIN)

    @given(
        st.datetimes(
            min_value=datetime.fromisoformat("1990-01-01"),
            max_value=datetime.fromisoformat("2100-01-01"),
            timezones=st.just(UTC),
        )
    )
    def test_iso_instants_round_trip(self, moment: datetime) -> None:
        """Any ISO datetime with an offset resolves to the same instant."""
        result = resolve(moment.isoformat(), None, now=NOW, tz=BERLIN, allow_past=True)
        assert isinstance(result, datetime)
        assert result.astimezone(UTC) == moment

    @given(
        st.text(max_size=40),
        st.none() | st.text(max_size=20),
        st.sampled_from([BERLIN, NEW_YORK, CHATHAM, KOLKATA]),
    )
    def test_arbitrary_text_raises_only_time_parse_error(
        self, date_text: str, time_text: str | None, tz: ZoneInfo
    ) -> None:
        """Whatever the phrases, resolve returns a moment or date, or raises TimeParseError."""
        try:
            result = resolve(date_text, time_text, now=NOW, tz=tz, require_time=False)
        except TimeParseError:
            return
        assert isinstance(result, date)
