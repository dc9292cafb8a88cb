"""Layers 1 and 2 agree with a brute-force oracle, and the store's search window loses nothing.

Instants are generated in UTC on a 15-minute grid around midnights and DST switches, then
written in a random zone (as the store, the clock and nlp_time each do), so the rules must
compare instants, never wall clocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from slotguard.domain import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingRequest,
    TimeRange,
    early_warning,
    refusal,
    search_window,
)
from tests.domain import oracle
from tests.domain.oracle import Verdict

# Per company zone: UTC instants of its local midnights and DST switches in 2026.
ANCHORS = {
    "Europe/Berlin": (
        datetime(2026, 3, 28, 23, 0, tzinfo=UTC),  # midnight starting the 23-hour day
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # spring forward 02:00 → 03:00
        datetime(2026, 10, 24, 22, 0, tzinfo=UTC),  # midnight starting the 25-hour day
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # fall back 03:00 → 02:00
    ),
    "America/New_York": (
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # spring forward 02:00 → 03:00
        datetime(2026, 11, 1, 4, 0, tzinfo=UTC),  # midnight starting the 25-hour day
        datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # fall back 02:00 → 01:00
    ),
    "Pacific/Chatham": (
        datetime(2026, 4, 4, 14, 0, tzinfo=UTC),  # fall back 03:45 → 02:45
        datetime(2026, 9, 26, 11, 15, tzinfo=UTC),  # midnight starting the 23-hour day
        datetime(2026, 9, 26, 14, 0, tzinfo=UTC),  # spring forward 02:45 → 03:45
    ),
    "Asia/Kolkata": (datetime(2026, 6, 14, 18, 30, tzinfo=UTC),),  # midnight, never DST
}
ZONES = tuple(ANCHORS)
# Fixed offsets never fold; ``now`` and requests may be written in any of these or the company
# zone (the clock gives UTC, nlp_time the company zone).
FIXED: tuple[tzinfo, ...] = (
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(-timedelta(hours=3)),
)
STEP = timedelta(minutes=15)
# Every status can appear; the active ones three times as often, so rules have work to do.
STATUSES = st.sampled_from([*AppointmentStatus, *sorted(ACTIVE_STATUSES) * 2])
ME, OTHER = 1, 2
PROPERTY_SETTINGS = settings(
    max_examples=300,
    derandomize=True,  # the same examples on every run: CI stays deterministic
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Scenario:
    """One random request against one random set of appointments, with the company's knobs."""

    request: BookingRequest
    existing: tuple[Appointment, ...]
    now: datetime
    zone: str
    daily_limit: int
    window_days: int

    @property
    def tz(self) -> ZoneInfo:
        """The company zone."""
        return ZoneInfo(self.zone)


def _steps(draw: st.DrawFn, near: int, far: int) -> timedelta:
    return draw(st.integers(-near, near) | st.integers(-far, far)) * STEP


def _minutes(draw: st.DrawFn) -> timedelta:
    return draw(st.integers(1, 12)) * STEP  # 15 to 180 minutes


def _written(draw: st.DrawFn, instant: datetime, tz: ZoneInfo) -> datetime:
    """The instant in UTC, a fixed offset or (two times in three) the company zone."""
    return instant.astimezone(draw(st.sampled_from((*FIXED, *(tz,) * 6))))


def _span(draw: st.DrawFn, start: datetime, tz: ZoneInfo) -> TimeRange:
    end = start + _minutes(draw)
    zone = draw(st.sampled_from((*FIXED, tz, tz, tz)))
    if start.astimezone(zone).replace(tzinfo=None) >= end.astimezone(zone).replace(tzinfo=None):
        zone = UTC  # TimeRange compares one zone's wall clock: see test_timerange's xfail
    return TimeRange(start.astimezone(zone), end.astimezone(zone))


def _start_near(
    draw: st.DrawFn, places: tuple[str, ...], anchor: datetime, wanted: datetime, window_days: int
) -> datetime:
    """Exactly at the request, around it, a window away from it, or anywhere near the anchor."""
    where = draw(st.sampled_from(places))
    if where == "same":
        return wanted
    if where == "request":
        return wanted + _steps(draw, 4, 16)
    if where == "window":
        away = draw(st.sampled_from((-1, 1))) * timedelta(days=window_days)
        return wanted + away + draw(st.integers(-4, 4)) * STEP
    return anchor + _steps(draw, 8, 4 * 24 * 3)


def _now(
    draw: st.DrawFn, anchor: datetime, existing: list[Appointment], days_before: tuple[int, ...]
) -> datetime:
    """At (or just around) an existing start, or some days before the anchor."""
    at_a_row = draw(st.booleans())
    if existing and at_a_row:
        return draw(st.sampled_from(existing)).span.start.astimezone(UTC) + _steps(draw, 1, 4)
    days = -draw(st.sampled_from(days_before))
    return anchor + timedelta(days=days) + _steps(draw, 8, 4 * 24 * 3)


def _limit(draw: st.DrawFn, existing: list[Appointment], wanted: datetime, tz: ZoneInfo) -> int:
    """A limit of 1 to 5, most often right at the number of the caller's rows that day."""
    day = wanted.astimezone(tz).date()
    that_day = sum(
        1 for a in existing if a.customer_id == ME and a.span.start.astimezone(tz).date() == day
    )
    return max(1, min(5, that_day + draw(st.sampled_from((-1, 0, 0, 0, 1, 2)))))


@st.composite
def scenarios(
    draw: st.DrawFn,
    places: tuple[str, ...],
    windows: tuple[int, ...],
    now_days_before: tuple[int, ...] = (0, 0, 1, 7, 30, 40),
    customers: tuple[int, ...] = (ME, ME, ME, ME, OTHER),
    services: tuple[int, ...] = (1, 2),
) -> Scenario:
    """A company zone and knobs, a request near a local midnight or DST switch, 0–8 rows."""
    zone = draw(st.sampled_from(ZONES))
    tz = ZoneInfo(zone)
    anchor = draw(st.sampled_from(ANCHORS[zone]))
    window_days = draw(st.sampled_from(windows))
    # Most often inside the hour around the switch or midnight itself.
    wanted = anchor + draw(st.integers(-4, 3) | st.integers(-8, 8) | st.integers(-192, 192)) * STEP
    existing = [
        Appointment(
            id=number,
            company_id=1,
            customer_id=draw(st.sampled_from(customers)),
            service_id=draw(st.sampled_from(services)),
            span=_span(draw, _start_near(draw, places, anchor, wanted, window_days), tz),
            status=draw(STATUSES),
            reservation_key=f"r{number}",
            deleted=draw(st.sampled_from((False, False, False, False, False, True))),
        )
        for number in range(1, draw(st.integers(0, 8)) + 1)
    ]
    request = BookingRequest(
        company_id=1,
        customer_id=ME,
        service_id=draw(st.sampled_from(services)),
        start=_written(draw, wanted, tz),
        end=_written(draw, wanted + _minutes(draw), tz),
        ignore_appointment_id=draw(st.sampled_from((None, None, 1, 2, 99))),
    )
    return Scenario(
        request=request,
        existing=tuple(existing),
        now=_written(draw, _now(draw, anchor, existing, now_days_before), tz),
        zone=zone,
        daily_limit=_limit(draw, existing, wanted, tz),
        window_days=window_days,
    )


# Everything mixed: duplicates, overlaps, back-to-back, full days, window edges.
ANYWHERE = scenarios(("same", "request", "request", "window", "anchor", "anchor"), (0, 1, 7, 30))
# Only around the request: the Layer 2 reasons, and a request past midnight with window 0.
AT_REQUEST = scenarios(("same", "request"), (0, 0, 1, 30))
# Only the caller's rows of the requested service, about one window length away and mostly
# upcoming: same_day never hides same_service_upcoming, and DST shifts the edges by an hour.
AT_WINDOW_EDGE = scenarios(("window",), (1, 7, 30, 45), (0, 60, 60), (ME,), (1,))
# Only around the anchor: daily limits on 23-, 24- and 25-hour days.
AROUND_MIDNIGHT = scenarios(("anchor",), (0, 30))
SCENARIOS = st.one_of(ANYWHERE, AT_REQUEST, AT_WINDOW_EDGE, AROUND_MIDNIGHT)


def _layer2(s: Scenario, existing: tuple[Appointment, ...]) -> Verdict:
    return Verdict.of(refusal(s.request, existing, tz=s.tz, daily_limit=s.daily_limit))


def _layer1(s: Scenario, existing: tuple[Appointment, ...]) -> Verdict:
    decision = early_warning(s.request, existing, now=s.now, tz=s.tz, window_days=s.window_days)
    return Verdict.of(decision)


class TestRulesAgainstOracle:
    """`refusal` and `early_warning` against the brute-force oracle of docs/architecture.md §5."""

    @PROPERTY_SETTINGS
    @given(SCENARIOS)
    def test_refusal_matches_oracle(self, s: Scenario) -> None:
        """Layer 2 gives the oracle's result, reason and set of existing appointments."""
        expected = oracle.refusal(s.request, s.existing, zone=s.zone, daily_limit=s.daily_limit)
        actual = _layer2(s, s.existing)
        event(f"layer 2: {actual.reason}")
        assert actual == expected

    @PROPERTY_SETTINGS
    @given(SCENARIOS)
    def test_early_warning_matches_oracle(self, s: Scenario) -> None:
        """Layer 1 gives the oracle's result, reason and set of existing appointments."""
        expected = oracle.early_warning(
            s.request, s.existing, now=s.now, zone=s.zone, window_days=s.window_days
        )
        actual = _layer1(s, s.existing)
        event(f"layer 1: {actual.reason}")
        assert actual == expected

    @PROPERTY_SETTINGS
    @given(AT_WINDOW_EDGE)
    def test_early_warning_at_window_edges_matches_oracle(self, s: Scenario) -> None:
        """Around the edges of the same-service window, Layer 1 still agrees with the oracle."""
        expected = oracle.early_warning(
            s.request, s.existing, now=s.now, zone=s.zone, window_days=s.window_days
        )
        assert _layer1(s, s.existing) == expected

    @PROPERTY_SETTINGS
    @given(SCENARIOS)
    def test_decisions_ignore_input_order(self, s: Scenario) -> None:
        """Both layers answer the same, naming appointments in the same order, for any order."""
        backwards = tuple(reversed(s.existing))
        assert refusal(s.request, backwards, tz=s.tz, daily_limit=s.daily_limit) == refusal(
            s.request, s.existing, tz=s.tz, daily_limit=s.daily_limit
        )
        now, tz, days = s.now, s.tz, s.window_days
        assert early_warning(
            s.request, backwards, now=now, tz=tz, window_days=days
        ) == early_warning(s.request, s.existing, now=now, tz=tz, window_days=days)


class TestSearchWindow:
    """`search_window`: the span of starts the store fetches must hold every deciding row."""

    @PROPERTY_SETTINGS
    @given(SCENARIOS)
    def test_rules_on_window_equal_rules_on_all(self, s: Scenario) -> None:
        """Running both layers on the rows starting inside the window changes no decision."""
        window = search_window(s.request, now=s.now, tz=s.tz, window_days=s.window_days)
        inside = tuple(a for a in s.existing if window.start <= a.span.start < window.end)
        assert _layer2(s, inside) == _layer2(s, s.existing)
        assert _layer1(s, inside) == _layer1(s, s.existing)

    @PROPERTY_SETTINGS
    @given(AT_WINDOW_EDGE)
    def test_window_edges_lose_no_same_service_row(self, s: Scenario) -> None:
        """Rows about one window length away are fetched whenever Layer 1 would name them."""
        window = search_window(s.request, now=s.now, tz=s.tz, window_days=s.window_days)
        inside = tuple(a for a in s.existing if window.start <= a.span.start < window.end)
        assert _layer1(s, inside) == _layer1(s, s.existing)

    @PROPERTY_SETTINGS
    @given(SCENARIOS)
    def test_window_holds_the_requested_local_day(self, s: Scenario) -> None:
        """Every instant of the requested local day and of the request itself is inside."""
        window = search_window(s.request, now=s.now, tz=s.tz, window_days=s.window_days)
        local = s.request.start.astimezone(s.tz)
        midnight = datetime(local.year, local.month, local.day, tzinfo=s.tz)
        next_midnight = datetime.combine(midnight.date() + timedelta(days=1), midnight.timetz())
        assert window.start <= midnight
        assert window.start <= s.request.start
        assert s.request.end <= window.end
        assert next_midnight <= window.end
