"""CalcomCalendar under faults: no blind create retries, bounded read retries, rate budgets."""

from __future__ import annotations

import time
from datetime import UTC, timedelta

import pytest

from slotguard.calendar import CalendarUnreachable, CreateOutcome
from slotguard.calendar.ratelimit import RateLimit, RetryPolicy
from slotguard.domain import TimeRange
from slotguard.testing import EmulatorConfig
from tests.calendar.conftest import FAST, Connect, Harness, at, booking_request

CREATE = "POST /v2/bookings"
SLOTS = "GET /v2/slots"


def day_window() -> TimeRange:
    """08:00–12:00 UTC three days ahead."""
    return TimeRange(at(hour=8), at(hour=12))


class TestAmbiguousCreates:
    """A create that may have booked is AMBIGUOUS, sent exactly once, and settled by lookup."""

    @pytest.mark.parametrize("status", [500, 503])
    async def test_failure_status_is_ambiguous_and_not_retried(
        self, cal: Harness, status: int
    ) -> None:
        """A 5xx answer → AMBIGUOUS with exactly one create in the log."""
        cal.emulator.faults.fail_next(1, status=status, route=CREATE, retry_after=0)
        result = await cal.calendar.create_booking(booking_request(at()))
        assert result.outcome is CreateOutcome.AMBIGUOUS
        assert cal.emulator.count("POST", "/v2/bookings") == 1

    async def test_throttled_create_is_not_booked(self, cal: Harness) -> None:
        """A 429 comes from the throttler before any handler: not booked, not retried."""
        cal.emulator.faults.fail_next(1, status=429, route=CREATE, retry_after=0)
        with pytest.raises(CalendarUnreachable, match="rate limited"):
            await cal.calendar.create_booking(booking_request(at()))
        assert cal.emulator.count("POST", "/v2/bookings") == 1
        assert cal.emulator.bookings == []

    async def test_timeout_after_commit_then_found(self, connect: Connect) -> None:
        """Cal.com booked but we timed out: AMBIGUOUS, then find_booking finds it by key."""
        h = await connect(http_timeout=0.3)
        h.emulator.faults.timeout_after_commit(1, seconds=5, route=CREATE)
        request = booking_request(at(hour=9))
        result = await h.calendar.create_booking(request)
        assert result.outcome is CreateOutcome.AMBIGUOUS
        assert "Timeout" in result.detail
        found = await h.calendar.find_booking(request)
        [stored] = h.emulator.bookings
        assert found is not None and found.uid == stored.uid
        assert h.emulator.count("POST", "/v2/bookings") == 1

    async def test_dropped_connection_before_commit(self, cal: Harness) -> None:
        """A connection closed without an answer → AMBIGUOUS; the lookup says absent."""
        cal.emulator.faults.drop_next(1, route=CREATE)
        request = booking_request(at(hour=10))
        result = await cal.calendar.create_booking(request)
        assert result.outcome is CreateOutcome.AMBIGUOUS
        assert await cal.calendar.find_booking(request) is None

    async def test_dropped_connection_after_commit(self, cal: Harness) -> None:
        """Dropped after Cal.com booked → AMBIGUOUS; the lookup finds the booking."""
        cal.emulator.faults.drop_next(1, route=CREATE, after_commit=True)
        request = booking_request(at(hour=11))
        result = await cal.calendar.create_booking(request)
        assert result.outcome is CreateOutcome.AMBIGUOUS
        found = await cal.calendar.find_booking(request)
        assert found is not None and found.reservation_key == request.reservation_key


class TestReadRetries:
    """Reads retry 429/5xx with backoff, bounded, then raise CalendarUnreachable."""

    async def test_one_500_is_retried(self, cal: Harness) -> None:
        """A single 500 on slots is retried and the second answer is used."""
        cal.emulator.faults.fail_next(1, status=500, route=SLOTS)
        slots = await cal.calendar.free_slots(
            window=day_window(), duration_minutes=30, event_type_id=1001
        )
        assert len(slots) == 8
        assert cal.statuses("GET", "/v2/slots") == [500, 200]

    async def test_429_storm_is_bounded(self, cal: Harness) -> None:
        """A 429 storm (Retry-After 0) ends after the configured attempts, unreachable."""
        cal.emulator.faults.fail_next(10, status=429, route=SLOTS, retry_after=0)
        with pytest.raises(CalendarUnreachable):
            await cal.calendar.free_slots(
                window=day_window(), duration_minutes=30, event_type_id=1001
            )
        assert cal.statuses("GET", "/v2/slots") == [429] * FAST.attempts

    async def test_429_with_a_long_reset_fails_fast(self, cal: Harness) -> None:
        """A 429 whose Reset is a minute away is not retried, and a create is then not sent."""
        cal.emulator.faults.fail_next(1, status=429, route=SLOTS)  # Reset ≈ 60 s
        with pytest.raises(CalendarUnreachable):
            await cal.calendar.free_slots(
                window=day_window(), duration_minutes=30, event_type_id=1001
            )
        with pytest.raises(CalendarUnreachable, match="not sent"):
            await cal.calendar.create_booking(booking_request(at()))
        assert len(cal.emulator.request_log) == 1

    async def test_deadline_bounds_a_slow_answer(self, connect: Connect) -> None:
        """A read never outlives read_deadline, even when one answer alone would."""
        h = await connect(retry=RetryPolicy(attempts=3, backoff_base=0.01, read_deadline=0.3))
        h.emulator.faults.set_latency(1000, route=SLOTS)
        started = time.monotonic()
        with pytest.raises(CalendarUnreachable, match="Timeout"):
            await h.calendar.free_slots(
                window=day_window(), duration_minutes=30, event_type_id=1001
            )
        assert time.monotonic() - started < 0.9


class TestRateBudget:
    """We slow down before Cal.com refuses, and never wait longer than allowed."""

    async def test_client_budget_stops_before_the_server(self, connect: Connect) -> None:
        """With a budget of 5/min the sixth read is refused locally; Cal.com saw five."""
        h = await connect(rate_limit=RateLimit(limit=5, window_seconds=60))
        for _ in range(5):
            assert await h.calendar.get_booking("nope") is None
        with pytest.raises(CalendarUnreachable):
            await h.calendar.get_booking("nope")
        assert h.statuses("GET", "/v2/bookings/nope") == [404] * 5

    async def test_server_headers_stop_us_before_a_429(self, connect: Connect) -> None:
        """When Cal.com says Remaining 0 we stop sending: no request ever gets a 429."""
        h = await connect(EmulatorConfig(rate_limit=3))
        for _ in range(3):
            await h.calendar.get_booking("nope")
        with pytest.raises(CalendarUnreachable):
            await h.calendar.get_booking("nope")
        with pytest.raises(CalendarUnreachable, match="not sent"):
            await h.calendar.create_booking(booking_request(at()))
        assert h.statuses("GET", "/v2/bookings/nope") == [404] * 3
        assert h.emulator.count("POST", "/v2/bookings") == 0

    async def test_budget_is_shared_per_key(self, connect: Connect) -> None:
        """Two calendars with the same key on one client share one budget."""
        h = await connect(rate_limit=RateLimit(limit=2, window_seconds=60))
        other = type(h.calendar)(h.client, "cal_test_emulator")
        await h.calendar.get_booking("a")
        await other.get_booking("b")
        with pytest.raises(CalendarUnreachable):
            await other.get_booking("c")


class TestSlotsAndObserve:
    """Slots come back as aware UTC starts; every request is observed."""

    async def test_free_slots_are_utc_and_skip_busy_times(self, cal: Harness) -> None:
        """Starts are aware UTC inside the window; a booked half hour is missing."""
        cal.emulator.book_directly(at(hour=9))
        slots = await cal.calendar.free_slots(
            window=day_window(), duration_minutes=30, event_type_id=1001
        )
        assert all(s.tzinfo is UTC for s in slots)
        assert at(hour=9) not in slots and at(hour=9, minute=30) in slots
        assert max(slots) + timedelta(minutes=30) <= day_window().end
        [sent] = cal.sent
        assert sent.headers["cal-api-version"] == "2024-09-04"
        assert sent.url.params["timeZone"] == "UTC"

    async def test_observe_sees_endpoint_and_outcome(self, cal: Harness) -> None:
        """observe() gets (endpoint, outcome, seconds) for every attempt."""
        cal.emulator.faults.fail_next(1, status=500, route=SLOTS)
        await cal.calendar.free_slots(window=day_window(), duration_minutes=30, event_type_id=1001)
        await cal.calendar.create_booking(booking_request(at(hour=15)))
        outcomes = [(endpoint, outcome) for endpoint, outcome, _ in cal.observed]
        assert outcomes == [
            ("slots", "server_error"), ("slots", "ok"), ("bookings.create", "ok")
        ]  # fmt: skip
        assert all(seconds >= 0 for *_, seconds in cal.observed)
