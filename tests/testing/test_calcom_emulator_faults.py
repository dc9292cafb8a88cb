"""Every fault knob, observed from a plain httpx client over loopback."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from .conftest import CalClient, Hook

CREATE = "POST /v2/bookings"


class TestLatency:
    """Injected latency is measurable by the client."""

    async def test_fixed_latency(self, cal: CalClient) -> None:
        """latency_ms=150 delays an answer by at least 150 ms."""
        cal.emulator.faults.set_latency(150)
        started = time.monotonic()
        await cal.list()
        assert time.monotonic() - started >= 0.15

    async def test_latency_per_route_and_range(self, cal: CalClient) -> None:
        """A per-route range delays only that route, within [min, max]."""
        cal.emulator.faults.set_latency((100, 150), route=CREATE)
        started = time.monotonic()
        await cal.list()
        assert time.monotonic() - started < 0.1
        started = time.monotonic()
        await cal.booked(cal.at())
        assert 0.1 <= time.monotonic() - started < 1.0


class TestFailNext:
    """`fail_next` answers 429 or 500 without touching state."""

    async def test_429_makes_no_booking(self, cal: CalClient) -> None:
        """An injected 429 has the throttler's envelope, no Retry-After, and books nothing."""
        cal.emulator.faults.fail_next(1, status=429, route=CREATE)
        response = await cal.create(cal.at())
        assert response.status_code == 429
        assert response.json()["error"]["message"].startswith("CustomThrottlerGuard")
        assert "retry-after" not in response.headers
        assert cal.emulator.bookings == []
        assert (await cal.create(cal.at())).status_code == 201

    async def test_500_makes_no_booking(self, cal: CalClient) -> None:
        """Two injected 500s answer 500 twice and book nothing."""
        cal.emulator.faults.fail_next(2, status=500)
        statuses = [(await cal.create(cal.at())).status_code for _ in range(3)]
        assert statuses == [500, 500, 201]
        assert len(cal.emulator.bookings) == 1

    async def test_retry_after_only_when_asked(self, cal: CalClient) -> None:
        """fail_next(retry_after=7) adds Retry-After: 7 for clients that honour it."""
        cal.emulator.faults.fail_next(status=429, retry_after=7)
        assert (await cal.list()).headers["retry-after"] == "7"

    async def test_route_filter(self, cal: CalClient) -> None:
        """A fault for the create route leaves other routes alone."""
        cal.emulator.faults.fail_next(status=500, route=CREATE)
        assert (await cal.list()).status_code == 200
        assert (await cal.create(cal.at())).status_code == 500


class TestTimeoutAfterCommit:
    """The booking is made and announced, but the answer never arrives in time."""

    async def test_client_times_out_but_the_booking_exists(
        self, cal: CalClient, hook: Hook
    ) -> None:
        """The client gets a timeout while the booking is stored and BOOKING_CREATED is sent."""
        cal.emulator.subscribe_webhook(hook.url, "s3cret")
        cal.emulator.faults.timeout_after_commit(seconds=5)
        with pytest.raises(httpx.TimeoutException):
            await cal.create(cal.at(), client_timeout=0.3)
        assert len(cal.emulator.bookings) == 1
        [received] = await hook.wait(1)
        assert b"BOOKING_CREATED" in received.body
        assert cal.emulator.request_log[-1].outcome == "timeout_after_commit"


class TestDropConnection:
    """The connection is closed without any HTTP response."""

    async def test_drop_before_commit(self, cal: CalClient) -> None:
        """The client sees a protocol error and nothing was booked."""
        cal.emulator.faults.drop_next(route=CREATE)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await cal.create(cal.at())
        assert cal.emulator.bookings == []
        assert cal.emulator.request_log[-1].outcome == "dropped"
        assert (await cal.create(cal.at())).status_code == 201

    async def test_drop_after_commit(self, cal: CalClient) -> None:
        """Dropped after the commit: the client errors although the booking exists."""
        cal.emulator.faults.drop_next(route=CREATE, after_commit=True)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await cal.create(cal.at())
        assert len(cal.emulator.bookings) == 1


class TestChaos:
    """Probability faults from a seeded random generator."""

    async def _statuses(self, cal: CalClient) -> list[int]:
        cal.emulator.reset()
        cal.emulator.faults.chaos(seed=7, p429=0.1, p500=0.3)
        return [(await cal.list()).status_code for _ in range(30)]

    async def test_same_seed_same_faults(self, cal: CalClient) -> None:
        """The same seed yields the same sequence, with both faults and successes."""
        first = await self._statuses(cal)
        assert first == await self._statuses(cal)
        assert {200, 500} <= set(first)

    async def test_timeout_after_commit_probability(self, cal: CalClient) -> None:
        """p_timeout_after_commit=1 stalls every committed create past the client's timeout."""
        cal.emulator.faults.chaos(seed=1, p_timeout_after_commit=1.0)
        cal.emulator.faults.timeout_after_commit_seconds = 5
        with pytest.raises(httpx.TimeoutException):
            await cal.create(cal.at(), client_timeout=0.3)
        assert len(cal.emulator.bookings) == 1
