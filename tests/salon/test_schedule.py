"""The salon's booking rules as pure functions: closures, holidays, notice, horizon, grid."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotguard import public_holidays
from slotguard.domain import OpeningHours, Reason, TimeRange
from slotguard.domain.salon import BookingRules, Closure
from slotguard.domain.schedule import (
    allowed_starts,
    blocked,
    grid_starts,
    problem,
)

BERLIN = ZoneInfo("Europe/Berlin")
EVERY_DAY = OpeningHours({d: ((time(9), time(18)),) for d in range(7)})
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)  # a Monday morning


def _span(day: date, hour: int, minute: int = 0, minutes: int = 30) -> TimeRange:
    start = datetime.combine(day, time(hour, minute), tzinfo=BERLIN)
    return TimeRange(start, start + timedelta(minutes=minutes))


class TestProblem:
    """``problem`` names the first rule a span breaks."""

    def test_ordinary_span_is_fine(self) -> None:
        """An open, on-grid span with enough notice breaks no rule."""
        rules = BookingRules(notice=timedelta(hours=2), horizon_days=90, grid_minutes=15)
        assert problem(rules, EVERY_DAY, BERLIN, _span(date(2026, 12, 1), 10), NOW) is None

    def test_closure_names_its_label(self) -> None:
        """A day inside a closure range is closed, with the closure's label."""
        rules = BookingRules(closures=(Closure(date(2026, 12, 24), date(2027, 1, 1), "Ferien"),))
        found = problem(rules, EVERY_DAY, BERLIN, _span(date(2026, 12, 31), 10), NOW)
        assert found is not None and found.reason is Reason.CLOSED
        assert found.closed is not None and found.closed.label == "Ferien"
        assert problem(rules, EVERY_DAY, BERLIN, _span(date(2027, 1, 2), 10), NOW) is None

    def test_public_holiday_names_the_holiday(self) -> None:
        """6 January is a holiday in Bavaria (named in German), not in Berlin."""
        bavaria = BookingRules(holidays=public_holidays.lookup("DE-BY", "de"))
        berlin = BookingRules(holidays=public_holidays.lookup("DE-BE", "de"))
        found = problem(bavaria, EVERY_DAY, BERLIN, _span(date(2027, 1, 6), 10), NOW)
        assert found is not None and found.closed is not None
        assert found.closed.holiday == "Heilige Drei Könige"
        assert problem(berlin, EVERY_DAY, BERLIN, _span(date(2027, 1, 6), 10), NOW) is None

    def test_english_holiday_name(self) -> None:
        """An English company hears the holiday's English name."""
        rules = BookingRules(holidays=public_holidays.lookup("DE-BY", "en"))
        assert rules.closed(date(2027, 1, 6)) is not None
        assert rules.closed(date(2027, 1, 6)).holiday == "Epiphany"  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        ("minutes_ahead", "expected"),
        [(119, Reason.TOO_SOON), (120, None), (600, None)],
    )
    def test_notice(self, minutes_ahead: int, expected: Reason | None) -> None:
        """A start inside the minimum notice is too soon; exactly at it is fine."""
        rules = BookingRules(notice=timedelta(hours=2))
        start = NOW + timedelta(minutes=minutes_ahead)
        found = problem(
            rules,
            OpeningHours({0: ((time(0), time.max),)}),
            BERLIN,
            TimeRange(start, start + timedelta(minutes=30)),
            NOW,
        )
        assert (found.reason if found else None) == expected

    def test_horizon(self) -> None:
        """Beyond the horizon is too far; the last day inside it is fine."""
        rules = BookingRules(horizon_days=90)
        inside = _span((NOW + timedelta(days=89)).date(), 10)
        outside = _span((NOW + timedelta(days=91)).date(), 10)
        assert problem(rules, EVERY_DAY, BERLIN, inside, NOW) is None
        found = problem(rules, EVERY_DAY, BERLIN, outside, NOW)
        assert found is not None and found.reason is Reason.TOO_FAR

    @pytest.mark.parametrize(("minute", "ok"), [(0, True), (15, True), (45, True), (10, False)])
    def test_grid(self, minute: int, ok: bool) -> None:
        """Starts must lie on the quarter-hour grid."""
        rules = BookingRules(grid_minutes=15)
        found = problem(rules, EVERY_DAY, BERLIN, _span(date(2026, 12, 1), 10, minute), NOW)
        assert (found is None) is ok
        if not ok:
            assert found is not None and found.reason is Reason.OFF_GRID

    def test_outside_hours(self) -> None:
        """A span running past closing time is out of bounds."""
        found = problem(BookingRules(), EVERY_DAY, BERLIN, _span(date(2026, 12, 1), 17, 45), NOW)
        assert found is not None and found.reason is Reason.OUT_OF_BOUNDS

    def test_closed_wins_over_hours(self) -> None:
        """On a holiday the caller hears 'closed' (with the reason), not 'outside hours'."""
        rules = BookingRules(closures=(Closure(date(2026, 12, 1), date(2026, 12, 1)),))
        found = problem(rules, EVERY_DAY, BERLIN, _span(date(2026, 12, 1), 20), NOW)
        assert found is not None and found.reason is Reason.CLOSED

    def test_span_ending_at_midnight_does_not_touch_next_day(self) -> None:
        """An appointment ending at 24:00 is not closed by a closure of the next day."""
        late = OpeningHours({d: ((time(9), time.max),) for d in range(7)})
        rules = BookingRules(closures=(Closure(date(2026, 12, 2), date(2026, 12, 2)),))
        assert problem(rules, late, BERLIN, _span(date(2026, 12, 1), 23, 30), NOW) is None


class TestStarts:
    """Offered starts: the grid inside open spans, filtered by every rule."""

    def test_grid_starts_follow_local_time_across_dst(self) -> None:
        """On the autumn DST day the grid still starts at local 09:00 and 09:15."""
        day = date(2026, 10, 25)
        window = TimeRange(
            datetime.combine(day, time(0), tzinfo=BERLIN),
            datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN),
        )
        starts = grid_starts(window, timedelta(minutes=15), EVERY_DAY, BERLIN)
        local = [s.astimezone(BERLIN).time() for s in starts]
        assert local[:2] == [time(9), time(9, 15)] and local[-1] == time(17, 45)
        assert len(starts) == 36

    def test_allowed_starts_drop_closed_and_soon(self) -> None:
        """Starts on a closed day or inside the notice are dropped."""
        rules = BookingRules(
            notice=timedelta(hours=2),
            closures=(Closure(date(2026, 12, 1), date(2026, 12, 1)),),
        )
        starts = [
            datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN),
            datetime(2026, 11, 30, 10, 0, tzinfo=BERLIN),
            datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN),
            datetime(2026, 12, 2, 10, 0, tzinfo=BERLIN),
        ]
        kept = allowed_starts(starts, timedelta(minutes=30), rules, EVERY_DAY, BERLIN, NOW)
        assert [s.astimezone(BERLIN).hour for s in kept] == [10, 10]
        assert [s.astimezone(BERLIN).day for s in kept] == [30, 2]

    def test_blocked_adds_the_buffer(self) -> None:
        """A buffer after a colouring keeps the person busy for longer."""
        span = _span(date(2026, 12, 1), 10, minutes=90)
        assert blocked(span, timedelta(minutes=15)).end == span.end + timedelta(minutes=15)
