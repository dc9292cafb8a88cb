"""One request budget per Cal.com API key for every process and host, kept in the database.

Cal.com counts an API key's requests in a fixed window that begins with the first request
after the last window ended, and blocks the key after the 121st
(docs/calcom-and-retell-facts.md §2.9). A sliding window of our sends never puts more than
``limit`` of them into any such window, wherever it begins, so every process asks the
database before it sends:

* each send is a row of ``calcom_sends``; it counts until ``window_seconds`` (plus a
  margin for clock skew between hosts) after it was **answered**: Cal.com received it at
  some moment before the answer, so the window it may have opened ends before that. While
  in flight a send counts from ``now + in_flight_seconds``, the latest it may arrive;
* the key's row is locked while the count is read and the send added (an advisory lock
  on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two processes never take the last send;
* Cal.com's own answers also block the key for everyone: a 429, or
  ``X-RateLimit-Remaining-Default: 0`` (another user of the key spent it), until the reset;
* priorities (:class:`Priority`): reads stop ``write_reserve`` sends short of the limit and
  the sync at ``background_share`` of it, so a booking is never refused for lack of budget.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from slotguard.calendar.ratelimit import (
    REMAINING_HEADER,
    RESET_HEADER,
    BudgetExhausted,
    Clock,
    Priority,
    RateLimit,
    Sleep,
    key_digest,
    parse_reset,
)
from slotguard.store.calcom_state import BudgetRepository

# Hosts' clocks may differ by this much (NTP keeps them far closer).
SKEW_MARGIN_SECONDS = 1.0
# A waiting process looks again at least this often: others may have been answered sooner.
POLL_SECONDS = 0.25


class SharedBudget:
    """The database-kept budget of one API key (see the module docstring)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        key_hash: str,
        limit: RateLimit,
        *,
        in_flight_seconds: float,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._sessions, self.key_hash, self.limit = sessions, key_hash, limit
        self._in_flight = in_flight_seconds
        self._clock, self._sleep = clock, sleep
        self._span = limit.window_seconds + SKEW_MARGIN_SECONDS
        self._left = limit.limit  # as last read from the database or told by Cal.com

    def remaining(self) -> int:
        """Sends left in the window when this process last looked (all processes counted)."""
        return self._left

    async def acquire(self, max_wait: float, priority: Priority = Priority.WRITE) -> int | None:
        """Take one send of ``priority``; returns the send's id, for :meth:`done`."""
        deadline = self._clock() + max_wait
        while True:
            ticket, wait = await self._try(priority)
            if ticket is not None:
                return ticket
            if self._clock() + wait > deadline:
                raise BudgetExhausted(wait)
            await self._sleep(min(wait, POLL_SECONDS) + random.random() * 0.01)

    async def done(self, ticket: int | None, status: int, headers: Mapping[str, str]) -> None:
        """Count the send from now on; block the key for everyone when Cal.com says so."""
        now = self._clock()
        cap = self.limit.max_reset_seconds
        reset = parse_reset(headers.get(RESET_HEADER), now, cap)
        block = None
        if status == 429:
            retry_after = parse_reset(headers.get("retry-after"), now, cap)
            pause = next((s for s in (retry_after, reset) if s is not None), None)
            block = now + (pause if pause is not None else self.limit.blocked_default_seconds)
        elif headers.get(REMAINING_HEADER, "").strip() == "0" and reset is not None:
            block = now + reset
        if block is not None:
            self._left = 0
        async with self._sessions() as session, session.begin():
            repo = BudgetRepository(session)
            if ticket is not None:
                await repo.answered(ticket, now)
            if block is not None:
                await repo.block(self.key_hash, block)

    async def abandoned(self, ticket: int | None) -> None:
        """No answer: the send keeps counting from the latest moment it may have arrived."""

    async def _try(self, priority: Priority) -> tuple[int | None, float]:
        now = self._clock()
        cap = self.limit.cap(priority)
        async with self._sessions() as session, session.begin():
            repo = BudgetRepository(session)
            usage = await repo.lock_and_read(self.key_hash, now - self._span)
            waits = [usage.blocked_until - now]
            if len(usage.sent) >= cap:
                waits.append(usage.sent[len(usage.sent) - cap] + self._span - now)
            wait = max(waits)
            taken = 0 if wait > 0 else 1
            self._left = (
                0 if usage.blocked_until > now else self.limit.limit - len(usage.sent) - taken
            )
            if wait > 0:
                return None, wait
            return await repo.add_send(self.key_hash, now + self._in_flight), 0.0


class SharedBudgets:
    """:class:`SharedBudget` per API key (named by its sha256) on one database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        limit: RateLimit | None = None,
        *,
        in_flight_seconds: float = 10.0,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._sessions, self.limit = sessions, limit or RateLimit()
        self._in_flight, self._clock, self._sleep = in_flight_seconds, clock, sleep
        self._budgets: dict[str, SharedBudget] = {}

    def for_key(self, api_key: str) -> SharedBudget:
        """The budget of ``api_key``, shared with every process on this database."""
        digest = key_digest(api_key)
        budget = self._budgets.get(digest)
        if budget is None:
            budget = SharedBudget(
                self._sessions, digest, self.limit, in_flight_seconds=self._in_flight,
                clock=self._clock, sleep=self._sleep,
            )  # fmt: skip
            self._budgets[digest] = budget
        return budget
