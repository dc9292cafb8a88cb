"""Pacing of Cal.com calls: a request budget per API key, and the retry policy of reads.

The budget makes us slow down before Cal.com refuses. Cal.com allows an API key 120
requests per 60 s and answers 429 beyond that, blocking the key until the window resets
(docs/calcom-and-retell-facts.md §2.9). A served process uses the database-kept budget of
``shared_budget.py``, one per key for all processes; :class:`RateBudget` here is one
process's own (keyed by the sha256 of the key, never the key itself), for a client used
alone. Both give writes priority (:class:`Priority`). :class:`RateBudget` combines three
signals:

* a sliding window of our own sends (``RateLimit.limit`` per ``RateLimit.window_seconds``);
* Cal.com's ``X-RateLimit-Remaining-Default`` / ``X-RateLimit-Reset-Default`` headers, which
  also count other processes using the same key;
* a 429, which blocks the key until the reset (or ``blocked_default_seconds`` without one).

Waiting is always bounded by the caller: :meth:`RateBudget.acquire` raises
:class:`BudgetExhausted` instead of waiting longer than ``max_wait``. :class:`RetryPolicy`
bounds the retries of reads (creates are never retried, see ``calcom.py``).
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

REMAINING_HEADER = "x-ratelimit-remaining-default"
RESET_HEADER = "x-ratelimit-reset-default"
# A Reset this large cannot be a duration (it would be 31 years): it is a Unix timestamp.
_EPOCH_SECONDS = 1e9
# ... and this large, a Unix timestamp in milliseconds.
_EPOCH_MILLIS = 1e12


class Priority(enum.IntEnum):
    """Who may use how much of a key's budget: writes first, then reads, then the sync."""

    WRITE = 0  # creates, reschedules, cancels: may use the whole budget
    READ = 1  # a caller's question: leaves ``RateLimit.write_reserve`` for writes
    BACKGROUND = 2  # the periodic sync: only while the key is mostly idle


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The budget of one API key; defaults are Cal.com's for an API key
    (docs/calcom-and-retell-facts.md §2.9)."""

    limit: int = 120  # requests per window: Cal.com's default for an API key
    window_seconds: float = 60.0  # Cal.com's RATE_LIMIT_DEFAULT_TTL_MS
    blocked_default_seconds: float = 60.0  # a 429 without Reset: Cal.com blocks for 60 s
    max_reset_seconds: float = 300.0  # distrust a Reset further away than this (clock skew)
    # Reads stop this many sends short of the limit, so a booking never waits for questions.
    write_reserve: int = 20
    # The sync sends only while fewer than this share of the limit was used in the window.
    background_share: float = 0.5

    def cap(self, priority: Priority) -> int:
        """How many sends may count in the window when one of ``priority`` is taken."""
        if priority is Priority.WRITE:
            return self.limit
        reads = self.limit - min(self.write_reserve, self.limit // 6)  # tiny limits: no reserve
        if priority is Priority.READ:
            return reads
        return max(1, min(reads, int(self.limit * self.background_share)))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long reads retry, and how long any request waits for the budget."""

    attempts: int = 3  # one try and two retries of a read
    backoff_base: float = 0.2  # seconds before the first retry; doubles, with jitter
    backoff_cap: float = 2.0  # longest single pause
    read_deadline: float = 6.0  # a read gives up after this in all: it serves a voice turn
    send_wait: float = 2.0  # a create waits this long at most for the budget, else is not sent
    read_budget_wait: float = 1.0  # a read waits this long at most for the budget (voice turn)

    def pause(self, tries: int, jitter: float) -> float:
        """The pause after ``tries`` failed tries; ``jitter`` in [0, 1) spreads it ("equal
        jitter": half fixed, half random, so retries of many callers do not align)."""
        return min(self.backoff_cap, self.backoff_base * 2.0 ** (tries - 1)) * (0.5 + jitter / 2)


class KeyBudget(Protocol):
    """The request budget of one API key, in this process or shared by all of them."""

    async def acquire(self, max_wait: float, priority: Priority = Priority.WRITE) -> int | None:
        """Take one send, waiting at most ``max_wait``; returns a ticket for :meth:`done`.

        Raises BudgetExhausted, before waiting, when the wait would be longer.
        """
        ...

    async def done(self, ticket: int | None, status: int, headers: Mapping[str, str]) -> None:
        """The send of ``ticket`` was answered: learn from the status and the headers."""
        ...

    async def abandoned(self, ticket: int | None) -> None:
        """The send of ``ticket`` got no answer; it keeps counting as if it had reached Cal.com."""
        ...

    def remaining(self) -> int:
        """Sends left in the window as this process last saw it (for the budget gauge)."""
        ...


class BudgetPool(Protocol):
    """Budgets by API key."""

    def for_key(self, api_key: str) -> KeyBudget:
        """The budget shared by every user of ``api_key``."""
        ...


def key_digest(api_key: str) -> str:
    """How a key is named in budgets and logs: its sha256, never the key itself."""
    return hashlib.sha256(api_key.encode()).hexdigest()


class BudgetExhausted(Exception):
    """Sending now would need a longer wait than the caller allows; nothing was sent."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate budget exhausted: next send possible in {wait:.2f} s")
        self.wait = wait


def parse_reset(value: str | None, wall_now: float, cap: float) -> float | None:
    """Seconds until a reset given as seconds-until-reset or a Unix timestamp (s or ms).

    Cal.com's code suggests seconds, its hosted docs say Unix timestamp
    (docs/calcom-and-retell-facts.md §2.9,
    UNVERIFIED), so both are read. The result lies in ``[0, cap]``; None when unreadable.
    """
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    if number >= _EPOCH_MILLIS:
        number = number / 1000 - wall_now
    elif number >= _EPOCH_SECONDS:
        number -= wall_now
    return min(max(number, 0.0), cap)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    try:
        return int(float(raw)) if raw is not None else None
    except ValueError:
        return None


class RateBudget:
    """The sliding-window budget of one API key; safe to share between tasks of one loop."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limit = limit
        self._clock, self._wall_clock, self._sleep = clock, wall_clock, sleep
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self._server_remaining: int | None = None
        self._server_reset_at = 0.0

    def _forget_old_sends(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.limit.window_seconds:
            self._sent.popleft()

    def remaining(self) -> int:
        """Sends left in the current window: ours, or Cal.com's count when it said fewer."""
        now = self._clock()
        self._forget_old_sends(now)
        if self._blocked_until > now:
            return 0
        left = max(0, self.limit.limit - len(self._sent))
        if self._server_remaining is not None and now < self._server_reset_at:
            left = min(left, max(0, self._server_remaining))
        return left

    def wait_needed(self, priority: Priority = Priority.WRITE) -> float:
        """Seconds until a send of ``priority`` fits the budget (0 when it fits now)."""
        now = self._clock()
        self._forget_old_sends(now)
        waits = [0.0, self._blocked_until - now]
        cap = self.limit.cap(priority)
        if len(self._sent) >= cap:
            waits.append(self._sent[len(self._sent) - cap] + self.limit.window_seconds - now)
        if self._server_remaining is not None:
            if now >= self._server_reset_at:
                self._server_remaining = None
            elif self._server_remaining <= 0:
                waits.append(self._server_reset_at - now)
        return max(waits)

    async def acquire(self, max_wait: float, priority: Priority = Priority.WRITE) -> None:
        """Take one send from the budget, waiting at most ``max_wait`` seconds for it.

        Raises BudgetExhausted, before waiting, when the wait would be longer.
        """
        deadline = self._clock() + max_wait
        while (wait := self.wait_needed(priority)) > 0:
            if self._clock() + wait > deadline:
                raise BudgetExhausted(wait)
            await self._sleep(wait)
        self._sent.append(self._clock())  # no await since the check: atomic on one loop
        if self._server_remaining is not None:
            self._server_remaining -= 1

    async def done(self, ticket: int | None, status: int, headers: Mapping[str, str]) -> None:
        """:meth:`note_response`, as :class:`KeyBudget` names it."""
        self.note_response(status, headers)

    async def abandoned(self, ticket: int | None) -> None:
        """Nothing to do: the send already counts from when it was taken."""

    def note_response(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from Cal.com's rate-limit headers and from a 429."""
        now = self._clock()
        cap = self.limit.max_reset_seconds
        reset = parse_reset(headers.get(RESET_HEADER), self._wall_clock(), cap)
        remaining = _int_header(headers, REMAINING_HEADER)
        if remaining is not None:
            self._server_remaining = remaining
            window = reset if reset is not None else self.limit.window_seconds
            self._server_reset_at = now + window
        if status == 429:
            retry_after = parse_reset(headers.get("retry-after"), self._wall_clock(), cap)
            pause = next(
                (s for s in (retry_after, reset) if s is not None),
                min(self.limit.blocked_default_seconds, cap),
            )
            self._blocked_until = max(self._blocked_until, now + pause)


class RateBudgets:
    """One :class:`RateBudget` per API key for one process, keyed by the key's sha256."""

    def __init__(
        self,
        limit: RateLimit | None = None,
        *,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limit = limit or RateLimit()
        self._clock, self._wall_clock, self._sleep = clock, wall_clock, sleep
        self._budgets: dict[str, RateBudget] = {}

    def for_key(self, api_key: str) -> RateBudget:
        """The budget shared by every user of ``api_key``."""
        digest = key_digest(api_key)
        budget = self._budgets.get(digest)
        if budget is None:
            budget = RateBudget(
                self.limit, clock=self._clock, wall_clock=self._wall_clock, sleep=self._sleep
            )
            self._budgets[digest] = budget
        return budget
