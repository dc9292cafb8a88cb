"""The per-API-key request budget: sliding window, Cal.com's headers, 429 blocks, bounds."""

from __future__ import annotations

import pytest

from slotguard.calendar.ratelimit import (
    BudgetExhausted,
    RateBudget,
    RateBudgets,
    RateLimit,
    RetryPolicy,
    parse_reset,
)

WALL = 1_800_000_000.0  # a Unix time in 2027


class FakeTime:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        """The current fake monotonic time."""
        return self.now

    def wall(self) -> float:
        """The fake Unix time, moving with the monotonic clock."""
        return WALL + self.now

    async def sleep(self, seconds: float) -> None:
        """Advance the clock instead of waiting."""
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(name="fake")
def _fake() -> FakeTime:
    return FakeTime()


def budget(fake: FakeTime, limit: int = 3, window: float = 10.0) -> RateBudget:
    """A small budget on the fake clock."""
    return RateBudget(
        RateLimit(limit=limit, window_seconds=window, blocked_default_seconds=30.0),
        clock=fake.clock,
        wall_clock=fake.wall,
        sleep=fake.sleep,
    )


class TestParseReset:
    """Reset is read as seconds-until-reset or as a Unix timestamp (docs/calcom-and-retell-facts.md
    §2.9)."""

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("30", 30.0),
            ("0", 0.0),
            ("1.5", 1.5),
            (str(int(WALL + 45)), 45.0),
            (str(int((WALL + 20) * 1000)), 20.0),
            (str(int(WALL - 5)), 0.0),
            ("99999", 300.0),
            ("-1", None),
            ("soon", None),
            ("nan", None),
            (None, None),
        ],
    )
    def test_forms(self, raw: str | None, expected: float | None) -> None:
        """Durations, epoch seconds and epoch milliseconds all become bounded seconds."""
        result = parse_reset(raw, WALL, cap=300.0)
        assert result == (None if expected is None else pytest.approx(expected))


class TestRateBudget:
    """A budget lets `limit` sends through per window and waits (bounded) for the rest."""

    async def test_within_limit_no_wait(self, fake: FakeTime) -> None:
        """Sends within the limit never sleep."""
        b = budget(fake)
        for _ in range(3):
            await b.acquire(max_wait=0)
        assert fake.slept == []

    async def test_waits_for_the_window(self, fake: FakeTime) -> None:
        """The send after the limit waits until the oldest send leaves the window."""
        b = budget(fake)
        for _ in range(3):
            await b.acquire(max_wait=0)
        await b.acquire(max_wait=10)
        assert fake.slept == [pytest.approx(10.0)]

    async def test_refuses_a_long_wait_without_sleeping(self, fake: FakeTime) -> None:
        """A wait beyond max_wait raises at once and takes nothing from the budget."""
        b = budget(fake)
        for _ in range(3):
            await b.acquire(max_wait=0)
        with pytest.raises(BudgetExhausted) as caught:
            await b.acquire(max_wait=2)
        assert caught.value.wait == pytest.approx(10.0)
        assert fake.slept == []

    async def test_server_remaining_zero_waits_for_reset(self, fake: FakeTime) -> None:
        """Remaining 0 from Cal.com (another process used the key) waits for its Reset."""
        b = budget(fake, limit=100)
        headers = {"X-RateLimit-Remaining-Default": "0", "X-RateLimit-Reset-Default": "4"}
        b.note_response(200, {k.lower(): v for k, v in headers.items()})
        await b.acquire(max_wait=5)
        assert fake.slept == [pytest.approx(4.0)]

    async def test_server_reset_as_timestamp(self, fake: FakeTime) -> None:
        """A Reset given as a Unix timestamp is honoured the same way."""
        b = budget(fake, limit=100)
        reset = str(int(fake.wall() + 3))
        b.note_response(200, {"x-ratelimit-remaining-default": "0",
                              "x-ratelimit-reset-default": reset})  # fmt: skip
        await b.acquire(max_wait=5)
        assert fake.slept == [pytest.approx(3.0)]

    async def test_server_remaining_counts_down(self, fake: FakeTime) -> None:
        """Remaining 1 allows one more send, then waits for the reset."""
        b = budget(fake, limit=100)
        b.note_response(200, {"x-ratelimit-remaining-default": "1",
                              "x-ratelimit-reset-default": "6"})  # fmt: skip
        await b.acquire(max_wait=0)
        with pytest.raises(BudgetExhausted):
            await b.acquire(max_wait=1)

    async def test_429_without_reset_blocks_for_the_default(self, fake: FakeTime) -> None:
        """A bare 429 blocks the key for blocked_default_seconds."""
        b = budget(fake, limit=100)
        b.note_response(429, {})
        assert b.wait_needed() == pytest.approx(30.0)

    async def test_429_honours_retry_after_and_reset(self, fake: FakeTime) -> None:
        """Retry-After wins over Reset; both beat the default."""
        b = budget(fake, limit=100)
        b.note_response(429, {"retry-after": "2", "x-ratelimit-reset-default": "9"})
        assert b.wait_needed() == pytest.approx(2.0)
        fake.now += 2
        b.note_response(429, {"x-ratelimit-reset-default": "9"})
        assert b.wait_needed() == pytest.approx(9.0)


class TestRateBudgets:
    """Budgets are per API key and shared by all users of a key."""

    def test_shared_per_key(self) -> None:
        """The same key yields the same budget; another key another one."""
        budgets = RateBudgets()
        assert budgets.for_key("cal_a") is budgets.for_key("cal_a")
        assert budgets.for_key("cal_a") is not budgets.for_key("cal_b")

    def test_key_not_kept_in_clear(self) -> None:
        """Budgets are keyed by the key's sha256, never the key itself."""
        budgets = RateBudgets()
        budgets.for_key("cal_secret_value")
        assert "cal_secret_value" not in repr(vars(budgets))


class TestRetryPolicy:
    """Pauses grow exponentially, are capped, and keep half of their length fixed."""

    @pytest.mark.parametrize(
        ("tries", "jitter", "expected"),
        [(1, 0.0, 0.1), (1, 1.0, 0.2), (2, 0.0, 0.2), (3, 0.5, 0.6), (9, 0.0, 0.5)],
    )
    def test_pause(self, tries: int, jitter: float, expected: float) -> None:
        """base·2^(tries-1), capped, times a jitter factor in [0.5, 1)."""
        policy = RetryPolicy(backoff_base=0.2, backoff_cap=1.0)
        assert policy.pause(tries, jitter) == pytest.approx(expected)
