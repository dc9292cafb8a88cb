"""`localize`: wall times to aware datetimes across DST gaps and folds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotguard.nlp_time import TimeParseError, TimeParseErrorKind, localize

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
CHATHAM = ZoneInfo("Pacific/Chatham")
KOLKATA = ZoneInfo("Asia/Kolkata")


class TestLocalize:
    """`localize(day, at, tz)`."""

    @pytest.mark.parametrize(
        ("tz", "day", "at"),
        [
            (BERLIN, date(2026, 3, 29), time(2, 30)),
            (BERLIN, date(2026, 3, 29), time(2, 0)),
            (NEW_YORK, date(2026, 3, 8), time(2, 30)),
            (CHATHAM, date(2026, 9, 27), time(3, 0)),
            (CHATHAM, date(2026, 9, 27), time(2, 45)),
        ],
        ids=["berlin-0230", "berlin-0200", "new-york-0230", "chatham-0300", "chatham-0245"],
    )
    def test_spring_forward_gap_is_nonexistent(self, tz: ZoneInfo, day: date, at: time) -> None:
        """A wall time the clock jumps over raises nonexistent_time."""
        with pytest.raises(TimeParseError) as caught:
            localize(day, at, tz)
        assert caught.value.kind is TimeParseErrorKind.NONEXISTENT_TIME

    @pytest.mark.parametrize(
        ("tz", "day", "at", "offset"),
        [
            (BERLIN, date(2026, 3, 29), time(1, 59), timedelta(hours=1)),
            (BERLIN, date(2026, 3, 29), time(3, 0), timedelta(hours=2)),
            (CHATHAM, date(2026, 9, 27), time(3, 45), timedelta(hours=13, minutes=45)),
        ],
    )
    def test_gap_edges_exist(self, tz: ZoneInfo, day: date, at: time, offset: timedelta) -> None:
        """The minutes just before and just after a gap exist, with the offset then in force."""
        assert localize(day, at, tz).utcoffset() == offset

    @pytest.mark.parametrize(
        ("tz", "day", "at", "offset"),
        [
            (BERLIN, date(2026, 10, 25), time(2, 30), timedelta(hours=2)),
            (NEW_YORK, date(2026, 11, 1), time(1, 30), timedelta(hours=-4)),
            (CHATHAM, date(2026, 4, 5), time(3, 0), timedelta(hours=13, minutes=45)),
        ],
        ids=["berlin", "new-york", "chatham"],
    )
    def test_fall_back_fold_takes_the_first_occurrence(
        self, tz: ZoneInfo, day: date, at: time, offset: timedelta
    ) -> None:
        """A wall time that happens twice is the first one, still on summer time."""
        result = localize(day, at, tz)
        assert (result.fold, result.utcoffset()) == (0, offset)

    @pytest.mark.parametrize(
        ("tz", "offset"),
        [
            (BERLIN, timedelta(hours=1)),
            (NEW_YORK, timedelta(hours=-5)),
            (CHATHAM, timedelta(hours=13, minutes=45)),
            (KOLKATA, timedelta(hours=5, minutes=30)),
        ],
    )
    def test_ordinary_wall_time_gets_the_zone_offset(self, tz: ZoneInfo, offset: timedelta) -> None:
        """An ordinary wall time is that wall time in the zone, with the zone's offset."""
        result = localize(date(2026, 12, 2), time(14), tz)
        assert (result.date(), result.time(), result.tzinfo, result.utcoffset()) == (
            date(2026, 12, 2),
            time(14),
            tz,
            offset,
        )

    def test_zone_of_the_time_is_ignored(self) -> None:
        """`at` is a wall time; a tzinfo attached to it does not shift the result."""
        result = localize(date(2026, 12, 2), time(14, tzinfo=UTC), BERLIN)
        assert result == datetime(2026, 12, 2, 14, tzinfo=BERLIN)

    def test_the_error_names_the_wall_time(self) -> None:
        """The nonexistent_time error carries the wall time it refused."""
        with pytest.raises(TimeParseError) as caught:
            localize(date(2026, 3, 29), time(2, 30), BERLIN)
        assert caught.value.phrase == "2026-03-29 02:30:00"
