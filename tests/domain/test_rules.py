"""Layers 1 and 2 case by case: plain values in, a Decision out, no fixtures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotguard.domain import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingRequest,
    Decision,
    Layer,
    Reason,
    Result,
    TimeRange,
    early_warning,
    refusal,
    search_window,
)
from slotguard.domain.rules import MAX_APPOINTMENT_LENGTH, relevant

BERLIN = ZoneInfo("Europe/Berlin")
ME, SOMEONE_ELSE = 7, 8
CUT, COLOR = 1, 2  # services
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=BERLIN)
INACTIVE = sorted(set(AppointmentStatus) - ACTIVE_STATUSES)
ACTIVE = sorted(ACTIVE_STATUSES)


def berlin(month: int, day: int, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    """A wall-clock time in Berlin in 2026 (``fold=1``: the second 02:xx of a fall-back)."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


def appt(
    id: int,
    start: datetime,
    minutes: int = 30,
    *,
    service: int = CUT,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    customer: int = ME,
    deleted: bool = False,
) -> Appointment:
    """An appointment as the store returns it: the span in UTC."""
    utc = start.astimezone(UTC)
    return Appointment(
        id=id,
        company_id=1,
        customer_id=customer,
        service_id=service,
        span=TimeRange(utc, utc + timedelta(minutes=minutes)),
        status=status,
        reservation_key=f"key-{id}",
        deleted=deleted,
    )


def req(
    start: datetime, minutes: int = 30, *, service: int = CUT, ignore: int | None = None
) -> BookingRequest:
    """A request of customer ME as nlp_time produces it: in the company zone."""
    end = (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(start.tzinfo)
    return BookingRequest(1, ME, service, start, end, ignore_appointment_id=ignore)


def layer2(
    request: BookingRequest, existing: list[Appointment], *, limit: int = 3, tz: ZoneInfo = BERLIN
) -> Decision:
    """Layer 2 with the default company settings."""
    return refusal(request, existing, tz=tz, daily_limit=limit)


def layer1(
    request: BookingRequest,
    existing: list[Appointment],
    *,
    now: datetime = NOW,
    window: int = 30,
    tz: ZoneInfo = BERLIN,
) -> Decision:
    """Layer 1 with the default company settings."""
    return early_warning(request, existing, now=now, tz=tz, window_days=window)


def named(decision: Decision) -> list[int]:
    """The ids of the appointments a decision names, in its order."""
    return [a.id for a in decision.existing]


class TestExactDuplicate:
    """Layer 2 `exact_duplicate`: same customer, same service, same start."""

    def test_detects_exact_duplicate(self) -> None:
        """The same service at the same start is refused as an exact duplicate."""
        decision = layer2(req(NOON), [appt(1, NOON)])
        assert (decision.layer, decision.result) == (Layer.PRE_BOOKING, Result.BLOCKED)
        assert decision.reason == Reason.EXACT_DUPLICATE
        assert named(decision) == [1]

    def test_exact_duplicate_with_a_different_length_is_still_exact(self) -> None:
        """Same service and start is exact even when the stored row is longer."""
        assert layer2(req(NOON), [appt(1, NOON, 90)]).reason == Reason.EXACT_DUPLICATE

    def test_same_start_other_service_is_an_overlap_not_exact(self) -> None:
        """Another service at the same start is refused as overlapping, not exact."""
        decision = layer2(req(NOON), [appt(1, NOON, service=COLOR)])
        assert decision.reason == Reason.OVERLAPPING

    def test_exact_duplicate_in_the_repeated_hour_of_a_fall_back(self) -> None:
        """At 02:30 after the clocks fall back, a request in Berlin time equals the UTC row."""
        second = berlin(10, 25, 2, 30, fold=1)  # 01:30 UTC, the second 02:30
        decision = layer2(req(second), [appt(1, second)])
        assert decision.reason == Reason.EXACT_DUPLICATE

    def test_the_two_two_thirties_of_a_fall_back_are_different_slots(self) -> None:
        """02:30 summer time and 02:30 winter time are an hour apart: no duplicate, no overlap."""
        first, second = berlin(10, 25, 2, 30), berlin(10, 25, 2, 30, fold=1)
        assert layer2(req(second), [appt(1, first)]).reason == Reason.NONE


class TestOverlap:
    """Layer 2 `overlapping`: half-open `[start, end)` intersection with any service."""

    @pytest.mark.parametrize(
        ("offset", "minutes"),
        [(-29, 30), (-15, 30), (10, 30), (29, 30), (-60, 90), (5, 10), (-120, 180)],
    )
    def test_detects_overlap_of_any_service(self, offset: int, minutes: int) -> None:
        """A row sharing any minute with the request is refused, whatever its service."""
        row = appt(1, NOON + timedelta(minutes=offset), minutes, service=COLOR)
        decision = layer2(req(NOON), [row])
        assert (decision.result, decision.reason) == (Result.BLOCKED, Reason.OVERLAPPING)
        assert named(decision) == [1]

    def test_names_every_overlapping_appointment(self) -> None:
        """All overlapping rows are named, earliest first."""
        rows = [appt(2, NOON + timedelta(minutes=20)), appt(1, NOON - timedelta(minutes=20))]
        decision = layer2(req(NOON, 60, service=COLOR), rows, limit=5)
        assert named(decision) == [1, 2]

    def test_allows_back_to_back_after(self) -> None:
        """A request starting exactly when a row ends is allowed (half-open)."""
        assert layer2(req(NOON), [appt(1, NOON - timedelta(minutes=30))]).reason == Reason.NONE

    def test_allows_back_to_back_before(self) -> None:
        """A request ending exactly when a row starts is allowed (half-open)."""
        assert layer2(req(NOON), [appt(1, NOON + timedelta(minutes=30))]).reason == Reason.NONE

    def test_allows_non_overlapping(self) -> None:
        """A row an hour later does not block the request."""
        assert layer2(req(NOON), [appt(1, NOON + timedelta(hours=1))]).result == Result.CLEAR

    def test_same_customer_other_service_other_time_is_allowed(self) -> None:
        """A second service the same day at another time passes Layer 2."""
        row = appt(1, NOON - timedelta(hours=3), service=COLOR)
        assert layer2(req(NOON), [row]).result == Result.CLEAR

    def test_overlap_from_an_appointment_of_the_previous_local_day(self) -> None:
        """A row starting 23:30 the day before still blocks a request at 00:00."""
        midnight = berlin(12, 3, 0)
        row = appt(1, berlin(12, 2, 23, 30), 60, service=COLOR)
        decision = layer2(req(midnight), [row], limit=1)
        assert decision.reason == Reason.OVERLAPPING

    def test_overlap_across_a_fall_back_is_measured_in_real_time(self) -> None:
        """02:45 summer time plus 30 minutes is 02:15 winter time, so 02:10 overlaps."""
        row = appt(1, berlin(10, 25, 2, 45), 30)  # 00:45–01:15 UTC
        assert layer2(req(berlin(10, 25, 2, 10, fold=1)), [row]).reason == Reason.OVERLAPPING
        assert layer2(req(berlin(10, 25, 2, 15, fold=1)), [row]).reason == Reason.NONE

    def test_request_written_in_one_zone_across_a_fall_back(self) -> None:
        """A request whose Berlin end reads earlier than its start is still a 45-minute span."""
        start = berlin(10, 25, 2, 45)  # 00:45 UTC; ends 01:30 UTC, i.e. 02:30 winter time
        request = req(start, 45)
        assert request.end.replace(tzinfo=None) < request.start.replace(tzinfo=None)
        assert layer2(request, [appt(1, berlin(10, 25, 2, 20, fold=1))]).reason == (
            Reason.OVERLAPPING
        )


class TestStatusFiltering:
    """Only active, not soft-deleted rows count, in both layers."""

    @pytest.mark.parametrize("status", INACTIVE)
    def test_inactive_rows_never_count(self, status: AppointmentStatus) -> None:
        """Cancelled, rescheduled, no-show, completed and failed rows are ignored."""
        row = appt(1, NOON, status=status)
        assert layer2(req(NOON), [row], limit=1).result == Result.CLEAR
        assert layer1(req(NOON), [row]).result == Result.CLEAR

    @pytest.mark.parametrize("status", ACTIVE)
    def test_active_rows_count(self, status: AppointmentStatus) -> None:
        """Pending, scheduled, confirmed and booked rows hold their slot."""
        row = appt(1, NOON, status=status)
        assert layer2(req(NOON), [row]).reason == Reason.EXACT_DUPLICATE
        assert layer1(req(NOON), [row]).reason == Reason.SAME_DAY

    @pytest.mark.parametrize("status", ACTIVE)
    def test_soft_deleted_rows_never_count(self, status: AppointmentStatus) -> None:
        """A soft-deleted row is ignored whatever its status."""
        row = appt(1, NOON, status=status, deleted=True)
        assert layer2(req(NOON), [row], limit=1).result == Result.CLEAR
        assert layer1(req(NOON), [row]).result == Result.CLEAR

    def test_active_statuses_are_exactly_the_four_of_the_design(self) -> None:
        """docs/architecture.md §4 names pending, scheduled, confirmed and booked as the active
        statuses."""
        assert {s.value for s in ACTIVE_STATUSES} == {"pending", "scheduled", "confirmed", "booked"}

    def test_relevant_keeps_only_the_callers_active_rows_in_time_order(self) -> None:
        """`relevant` drops inactive, deleted, foreign and ignored rows and sorts by start."""
        rows = [
            appt(1, NOON + timedelta(hours=2)),
            appt(2, NOON, status=AppointmentStatus.CANCELLED),
            appt(3, NOON, deleted=True),
            appt(4, NOON, customer=SOMEONE_ELSE),
            appt(5, NOON - timedelta(hours=2)),
            appt(6, NOON + timedelta(hours=4)),
        ]
        assert [a.id for a in relevant(req(NOON, ignore=6), rows)] == [5, 1]


class TestDailyLimit:
    """Layer 2 `daily_limit`: active rows on the requested local day, per company."""

    @staticmethod
    def _rows(count: int) -> list[Appointment]:
        return [appt(n, berlin(12, 2, 8 + n), service=COLOR) for n in range(1, count + 1)]

    @pytest.mark.parametrize("limit", [1, 3, 5])
    def test_refuses_when_the_day_is_full(self, limit: int) -> None:
        """With ``limit`` rows that day, another request is refused and names all of them."""
        decision = layer2(req(berlin(12, 2, 18)), self._rows(limit), limit=limit)
        assert decision.reason == Reason.DAILY_LIMIT
        assert named(decision) == list(range(1, limit + 1))

    @pytest.mark.parametrize("limit", [1, 3, 5])
    def test_allows_the_last_free_place(self, limit: int) -> None:
        """With one row fewer than the limit, the request passes Layer 2."""
        decision = layer2(req(berlin(12, 2, 18)), self._rows(limit - 1), limit=limit)
        assert decision.result == Result.CLEAR

    def test_rows_of_other_days_do_not_count(self) -> None:
        """Rows the day before and after do not fill the requested day."""
        rows = [appt(1, berlin(12, 1, 12)), appt(2, berlin(12, 3, 12))]
        assert layer2(req(NOON), rows, limit=1).result == Result.CLEAR


class TestLocalDay:
    """'Same day' is the company's local calendar day, never the UTC date."""

    def test_late_evening_and_early_morning_are_different_local_days(self) -> None:
        """23:30 and 00:30 the next morning in Berlin share a UTC date but not a local day."""
        evening, morning = berlin(12, 2, 23, 30), berlin(12, 3, 0, 30)
        assert evening.astimezone(UTC).date() == morning.astimezone(UTC).date()
        assert layer1(req(morning), [appt(1, evening, service=COLOR)]).result == Result.CLEAR
        assert layer2(req(morning), [appt(1, evening)], limit=1).result == Result.CLEAR

    def test_just_after_midnight_and_late_evening_are_the_same_local_day(self) -> None:
        """00:30 and 23:00 in Berlin are one local day although their UTC dates differ."""
        morning, evening = berlin(12, 3, 0, 30), berlin(12, 3, 23)
        assert morning.astimezone(UTC).date() != evening.astimezone(UTC).date()
        decision = layer1(req(evening), [appt(1, morning, service=COLOR)])
        assert (decision.reason, named(decision)) == (Reason.SAME_DAY, [1])
        assert layer2(req(evening), [appt(1, morning)], limit=1).reason == Reason.DAILY_LIMIT

    def test_the_day_is_the_company_zone_not_the_zone_of_the_request(self) -> None:
        """A request written in UTC is still judged on the Berlin day."""
        morning = berlin(12, 3, 0, 30)
        request = req(berlin(12, 3, 23).astimezone(UTC))
        assert layer1(request, [appt(1, morning)]).reason == Reason.SAME_DAY

    def test_another_company_zone_moves_the_day_boundary(self) -> None:
        """The same two instants are one day in New York and two days in Berlin."""
        evening, morning = berlin(12, 2, 23, 30), berlin(12, 3, 0, 30)
        row = appt(1, evening, service=COLOR)
        assert layer1(req(morning), [row], tz=BERLIN).result == Result.CLEAR
        new_york = ZoneInfo("America/New_York")
        assert layer1(req(morning), [row], tz=new_york).reason == Reason.SAME_DAY


class TestDaylightSavingDays:
    """The 23-hour (2026-03-29) and 25-hour (2026-10-25) days of Europe/Berlin."""

    @pytest.mark.parametrize("day", [(3, 29), (10, 25)], ids=["23h", "25h"])
    def test_first_and_last_minutes_of_the_day_count(self, day: tuple[int, int]) -> None:
        """Rows at 00:05 and 23:30 local both count towards that day's limit."""
        month, dom = day
        rows = [appt(1, berlin(month, dom, 0, 5)), appt(2, berlin(month, dom, 23, 30))]
        decision = layer2(req(berlin(month, dom, 12)), rows, limit=2)
        assert (decision.reason, named(decision)) == (Reason.DAILY_LIMIT, [1, 2])
        assert layer1(req(berlin(month, dom, 12), service=COLOR), rows).reason == Reason.SAME_DAY

    @pytest.mark.parametrize("day", [(3, 29), (10, 25)], ids=["23h", "25h"])
    def test_neighbouring_midnights_do_not_count(self, day: tuple[int, int]) -> None:
        """Rows at 23:30 the day before and 00:30 the day after are other days."""
        month, dom = day
        rows = [appt(1, berlin(month, dom - 1, 23, 30)), appt(2, berlin(month, dom + 1, 0, 30))]
        assert layer2(req(berlin(month, dom, 12)), rows, limit=1).result == Result.CLEAR
        assert layer1(req(berlin(month, dom, 12), service=COLOR), rows).result == Result.CLEAR

    def test_both_two_thirties_of_the_25_hour_day_count(self) -> None:
        """Both 02:30 of the fall-back are on 2026-10-25 and fill a limit of 2."""
        rows = [appt(1, berlin(10, 25, 2, 30)), appt(2, berlin(10, 25, 2, 30, fold=1))]
        assert layer2(req(berlin(10, 25, 18)), rows, limit=2).reason == Reason.DAILY_LIMIT

    def test_a_fixed_24_hours_from_midnight_would_miss_the_last_hour(self) -> None:
        """23:30 on the 25-hour day is 24.5 hours after midnight and still the same day."""
        late = berlin(10, 25, 23, 30)
        assert late - berlin(10, 25, 0) != timedelta(hours=24, minutes=30)  # wall-clock maths
        assert late.astimezone(UTC) - berlin(10, 25, 0).astimezone(UTC) == timedelta(hours=24.5)
        assert layer1(req(berlin(10, 25, 9)), [appt(1, late)]).reason == Reason.SAME_DAY


class TestReschedule:
    """`ignore_appointment_id`: the appointment being moved never counts against itself."""

    def test_moving_within_its_own_slot_is_not_an_overlap(self) -> None:
        """Moving a row 15 minutes later is not refused because of the row itself."""
        row = appt(1, NOON)
        request = req(NOON + timedelta(minutes=15), ignore=1)
        assert layer2(request, [row]).result == Result.CLEAR
        assert layer1(request, [row]).result == Result.CLEAR

    def test_moving_to_the_same_start_is_not_an_exact_duplicate(self) -> None:
        """Re-confirming the same slot does not refuse the row against itself."""
        assert layer2(req(NOON, ignore=1), [appt(1, NOON)], limit=1).result == Result.CLEAR

    def test_the_moved_row_does_not_fill_the_daily_limit(self) -> None:
        """With a limit of 1, moving the day's only row to another hour is allowed."""
        request = req(NOON + timedelta(hours=4), ignore=1)
        assert layer2(request, [appt(1, NOON)], limit=1).result == Result.CLEAR

    def test_other_rows_still_count(self) -> None:
        """Ignoring the moved row does not ignore the customer's other rows."""
        rows = [appt(1, NOON), appt(2, NOON + timedelta(hours=4))]
        decision = layer2(req(NOON + timedelta(hours=4), ignore=1), rows)
        assert (decision.reason, named(decision)) == (Reason.EXACT_DUPLICATE, [2])


class TestSameServiceUpcoming:
    """Layer 1 `same_service_upcoming`: informative, same service, upcoming, within the window."""

    @pytest.mark.parametrize("days", [-30, -29, -10, 1, 10, 29, 30])
    def test_warns_about_the_same_service_within_the_window(self, days: int) -> None:
        """An upcoming row of the same service within 30 days (inclusive), either side, is named."""
        request = req(berlin(12, 20, 12))
        row = appt(1, request.start + timedelta(days=days))
        decision = early_warning(request, [row], now=berlin(11, 1, 8), tz=BERLIN, window_days=30)
        assert (decision.layer, decision.result) == (Layer.EARLY_WARNING, Result.WARNING)
        assert (decision.reason, named(decision)) == (Reason.SAME_SERVICE_UPCOMING, [1])

    def test_is_informative_only(self) -> None:
        """Layer 2 lets the same service on another day through."""
        row = appt(1, NOON + timedelta(days=3))
        assert layer2(req(NOON), [row], limit=1).result == Result.CLEAR

    def test_other_service_is_not_mentioned(self) -> None:
        """An upcoming row of another service within the window gives no warning."""
        row = appt(1, NOON + timedelta(days=3), service=COLOR)
        assert layer1(req(NOON), [row]).result == Result.CLEAR

    def test_past_rows_are_not_upcoming(self) -> None:
        """A row that started before now is not mentioned even within the window."""
        row = appt(1, NOON - timedelta(days=3))
        assert layer1(req(NOON), [row], now=NOON - timedelta(days=1)).result == Result.CLEAR

    def test_a_row_starting_right_now_is_upcoming(self) -> None:
        """Upcoming means starting at or after now."""
        start = NOON + timedelta(days=3)
        assert layer1(req(NOON), [appt(1, start)], now=start).reason == (
            Reason.SAME_SERVICE_UPCOMING
        )

    @pytest.mark.parametrize("days", [-31, 31])
    def test_rows_beyond_the_window_are_not_mentioned(self, days: int) -> None:
        """A row more than 30 days from the request is outside the default window."""
        request = req(berlin(12, 20, 12))
        row = appt(1, request.start + timedelta(days=days))
        decision = early_warning(request, [row], now=berlin(11, 1, 8), tz=BERLIN, window_days=30)
        assert decision.result == Result.CLEAR

    @pytest.mark.parametrize(("days", "warned"), [(7, True), (-7, True), (8, False), (-8, False)])
    def test_window_is_configurable(self, days: int, warned: bool) -> None:
        """With a 7-day window only rows at most 7 days away are mentioned."""
        request = req(berlin(12, 20, 12))
        row = appt(1, request.start + timedelta(days=days))
        decision = early_warning(request, [row], now=berlin(11, 1, 8), tz=BERLIN, window_days=7)
        assert (decision.result == Result.WARNING) is warned

    def test_window_is_measured_in_real_time_across_a_dst_switch(self) -> None:
        """30 days before 10 April 10:00 summer time is 11 March 09:00 winter time."""
        request = req(berlin(4, 10, 10))
        inside = appt(1, berlin(3, 11, 9, 30))  # 29 days 23.5 hours before
        outside = appt(2, berlin(3, 11, 8, 30))
        decision = early_warning(
            request, [inside, outside], now=berlin(3, 1, 8), tz=BERLIN, window_days=30
        )
        assert named(decision) == [1]

    def test_rows_of_other_customers_are_not_mentioned(self) -> None:
        """Another caller's upcoming row of the same service gives no warning."""
        row = appt(1, NOON + timedelta(days=3), customer=SOMEONE_ELSE)
        assert layer1(req(NOON), [row]).result == Result.CLEAR


class TestPriority:
    """When several findings apply, the most serious one is reported."""

    def test_exact_duplicate_before_overlapping_before_daily_limit(self) -> None:
        """An exact duplicate is reported even when overlaps and a full day also apply."""
        rows = [
            appt(1, NOON),
            appt(2, NOON + timedelta(minutes=15), service=COLOR),
            appt(3, NOON - timedelta(hours=3), service=COLOR),
        ]
        decision = layer2(req(NOON), rows, limit=1)
        assert (decision.reason, named(decision)) == (Reason.EXACT_DUPLICATE, [1])

    def test_overlapping_before_daily_limit(self) -> None:
        """An overlap is reported before a full day."""
        rows = [
            appt(2, NOON + timedelta(minutes=15), service=COLOR),
            appt(3, NOON - timedelta(hours=3)),
        ]
        decision = layer2(req(NOON), rows, limit=1)
        assert (decision.reason, named(decision)) == (Reason.OVERLAPPING, [2])

    def test_same_day_before_same_service_upcoming(self) -> None:
        """A row that day hides the upcoming same service, and only it is named."""
        rows = [
            appt(1, NOON - timedelta(hours=3), service=COLOR),
            appt(2, NOON + timedelta(days=3)),
        ]
        decision = layer1(req(NOON), rows)
        assert (decision.reason, named(decision)) == (Reason.SAME_DAY, [1])

    def test_same_day_names_every_row_of_the_day(self) -> None:
        """All of that day's rows are named, earliest first."""
        rows = [appt(2, NOON + timedelta(hours=3)), appt(1, NOON - timedelta(hours=3))]
        assert named(layer1(req(NOON), rows)) == [1, 2]

    def test_nothing_found_is_clear_with_nothing_named(self) -> None:
        """No rows: both layers clear, allowed and name nothing."""
        for decision in (layer1(req(NOON), []), layer2(req(NOON), [])):
            assert (decision.result, decision.reason, decision.existing) == (
                Result.CLEAR,
                Reason.NONE,
                (),
            )


class TestOtherCustomers:
    """Appointments of other callers never count, in either layer."""

    def test_other_customers_rows_never_count(self) -> None:
        """An exact duplicate, an overlap and a full day of someone else are all ignored."""
        rows = [
            appt(1, NOON, customer=SOMEONE_ELSE),
            appt(2, NOON + timedelta(minutes=10), customer=SOMEONE_ELSE, service=COLOR),
            appt(3, NOON - timedelta(hours=2), customer=SOMEONE_ELSE),
        ]
        assert layer2(req(NOON), rows, limit=1).result == Result.CLEAR
        assert layer1(req(NOON), rows).result == Result.CLEAR


class TestSearchWindowCases:
    """`search_window`: the span of starts the store fetches for one request."""

    def test_covers_the_local_day_even_when_now_is_later(self) -> None:
        """The whole Berlin day of the request is inside, morning rows included."""
        window = search_window(req(NOON), now=NOON, tz=BERLIN, window_days=0)
        assert window.start <= berlin(12, 2, 0).astimezone(UTC)
        assert window.end >= berlin(12, 3, 0).astimezone(UTC)

    def test_reaches_back_for_rows_overlapping_from_the_previous_day(self) -> None:
        """Rows up to the longest appointment length before the request are inside."""
        request = req(berlin(12, 3, 0, 15))
        window = search_window(request, now=request.start, tz=BERLIN, window_days=0)
        assert window.start <= request.start - MAX_APPOINTMENT_LENGTH

    def test_covers_a_request_running_past_midnight(self) -> None:
        """A request from 23:00 to 01:00 makes the window reach 01:00 the next day."""
        request = req(berlin(12, 2, 23), 120)
        window = search_window(request, now=request.start, tz=BERLIN, window_days=0)
        assert window.end >= request.end

    def test_upcoming_part_of_the_same_service_window(self) -> None:
        """The window runs from now (if later than request − 30 d) to request + 30 d, inclusive."""
        request = req(berlin(12, 20, 12))
        now = berlin(12, 1, 8)
        window = search_window(request, now=now, tz=BERLIN, window_days=30)
        assert window.start == now.astimezone(UTC)
        last = request.start.astimezone(UTC) + timedelta(days=30)
        assert window.end == last + timedelta(microseconds=1)  # half-open: includes ``last``

    def test_window_edges_are_real_time_across_dst(self) -> None:
        """Request ± 30 days is measured in hours, not on the Berlin wall clock."""
        request = req(berlin(3, 20, 10))  # winter time; +30 days lands in summer time
        window = search_window(request, now=berlin(1, 1, 0), tz=BERLIN, window_days=30)
        assert window.end == datetime(2026, 4, 19, 9, 0, 0, 1, tzinfo=UTC)  # inclusive
        assert window.start == datetime(2026, 2, 18, 9, 0, tzinfo=UTC)
