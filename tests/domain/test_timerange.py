"""TimeRange (half-open, aware) and the company's local day, including DST days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotguard.domain import TimeRange, local_day, local_day_bounds

BERLIN = ZoneInfo("Europe/Berlin")
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ZONES = ("Europe/Berlin", "America/New_York", "Pacific/Chatham", "Asia/Kolkata")


def span(start_minutes: int, end_minutes: int) -> TimeRange:
    """A range given in minutes after NOON."""
    return TimeRange(NOON + timedelta(minutes=start_minutes), NOON + timedelta(minutes=end_minutes))


class TestTimeRange:
    """`TimeRange`: a half-open `[start, end)` of aware datetimes."""

    @pytest.mark.parametrize(
        ("other", "overlaps"),
        [
            ((0, 30), True),  # identical
            ((-10, 10), True),  # sticks out before
            ((20, 40), True),  # sticks out after
            ((5, 10), True),  # inside
            ((-30, 60), True),  # around
            ((29, 30), True),  # the last minute
            ((-30, 0), False),  # back-to-back before
            ((30, 60), False),  # back-to-back after
            ((40, 50), False),  # apart
        ],
    )
    def test_overlap_is_half_open(self, other: tuple[int, int], overlaps: bool) -> None:
        """Ranges overlap when they share an instant; touching ends do not."""
        assert span(0, 30).overlaps(span(*other)) is overlaps
        assert span(*other).overlaps(span(0, 30)) is overlaps

    def test_overlap_compares_instants_across_zones(self) -> None:
        """13:00–13:30 Berlin (winter) is 12:00–12:30 UTC and overlaps 12:15 UTC."""
        local = TimeRange(
            datetime(2026, 12, 2, 13, 0, tzinfo=BERLIN),
            datetime(2026, 12, 2, 13, 30, tzinfo=BERLIN),
        )
        assert local.overlaps(span(15, 45))
        assert not local.overlaps(span(30, 45))

    def test_duration(self) -> None:
        """The duration is end minus start."""
        assert span(0, 90).duration == timedelta(minutes=90)

    def test_refuses_naive_datetimes(self) -> None:
        """A naive start or end is refused: a naive datetime is always a bug here."""
        naive = datetime(2026, 12, 2, 12, 0)  # noqa: DTZ001 - the point of the test
        with pytest.raises(ValueError, match="aware"):
            TimeRange(naive, NOON + timedelta(hours=1))
        with pytest.raises(ValueError, match="aware"):
            TimeRange(NOON, naive + timedelta(hours=1))

    @pytest.mark.parametrize("minutes", [0, -15])
    def test_refuses_empty_and_reversed_ranges(self, minutes: int) -> None:
        """The end must lie after the start."""
        with pytest.raises(ValueError, match="end after"):
            TimeRange(NOON, NOON + timedelta(minutes=minutes))

    def test_accepts_a_range_written_in_one_zone_across_a_fall_back(self) -> None:
        """02:45 summer time to 02:15 winter time in Berlin is a valid 30-minute range."""
        first = datetime(2026, 10, 25, 2, 45, tzinfo=BERLIN)
        second = datetime(2026, 10, 25, 2, 15, tzinfo=BERLIN, fold=1)
        assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(minutes=30)
        assert TimeRange(first, second).duration == timedelta(minutes=30)


class TestLocalDay:
    """`local_day`: the wall-clock date in the company zone."""

    def test_is_the_local_not_the_utc_date(self) -> None:
        """00:30 Berlin on 3 December is 23:30 UTC on 2 December."""
        instant = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
        assert local_day(instant, BERLIN) == date(2026, 12, 3)
        assert local_day(instant, ZoneInfo("America/New_York")) == date(2026, 12, 2)

    def test_ignores_the_zone_the_instant_is_written_in(self) -> None:
        """The same instant written in UTC or in Kolkata time has one Berlin day."""
        instant = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
        assert local_day(instant.astimezone(ZoneInfo("Asia/Kolkata")), BERLIN) == date(2026, 12, 3)

    def test_both_two_thirties_of_a_fall_back_are_that_day(self) -> None:
        """The repeated hour of 25 October belongs to 25 October both times."""
        for utc_hour in (0, 1):
            instant = datetime(2026, 10, 25, utc_hour, 30, tzinfo=UTC)
            assert local_day(instant, BERLIN) == date(2026, 10, 25)


class TestLocalDayBounds:
    """`local_day_bounds`: the instants of one local day, 23, 24 or 25 hours long."""

    @pytest.mark.parametrize(
        ("zone", "day", "hours"),
        [
            ("Europe/Berlin", date(2026, 3, 29), 23),
            ("Europe/Berlin", date(2026, 10, 25), 25),
            ("Europe/Berlin", date(2026, 12, 2), 24),
            ("America/New_York", date(2026, 3, 8), 23),
            ("America/New_York", date(2026, 11, 1), 25),
            ("Pacific/Chatham", date(2026, 4, 5), 25),
            ("Pacific/Chatham", date(2026, 9, 27), 23),
            ("Asia/Kolkata", date(2026, 3, 29), 24),
        ],
    )
    def test_length_of_the_day(self, zone: str, day: date, hours: int) -> None:
        """DST days are 23 or 25 hours long; the bounds are local midnights, in UTC."""
        tz = ZoneInfo(zone)
        bounds = local_day_bounds(day, tz)
        assert bounds.duration == timedelta(hours=hours)
        assert bounds.start.utcoffset() == timedelta(0)
        local = bounds.start.astimezone(tz)
        assert (local.date(), local.hour, local.minute) == (day, 0, 0)

    def test_berlin_23_hour_day_in_utc(self) -> None:
        """29 March 2026 in Berlin runs from 23:00 UTC the day before to 22:00 UTC."""
        bounds = local_day_bounds(date(2026, 3, 29), BERLIN)
        assert bounds.start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
        assert bounds.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)

    @settings(max_examples=200, derandomize=True, database=None, deadline=None)
    @given(
        zone=st.sampled_from(ZONES),
        day=st.dates(date(2026, 1, 1), date(2026, 12, 31)),
        minute=st.integers(0, 25 * 60 - 1),
    )
    def test_days_tile_time_and_agree_with_local_day(
        self, zone: str, day: date, minute: int
    ) -> None:
        """Consecutive days abut, and an instant lies in exactly the bounds of its local day."""
        tz = ZoneInfo(zone)
        bounds = local_day_bounds(day, tz)
        assert bounds.end == local_day_bounds(day + timedelta(days=1), tz).start
        instant = bounds.start + timedelta(minutes=minute)
        inside = bounds.start <= instant < bounds.end
        assert inside is (local_day(instant, tz) == day)
