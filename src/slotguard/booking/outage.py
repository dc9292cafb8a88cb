"""Writes that must reach the database once it answers again, after a failover cut a request off.

When the primary dies mid-request, the transaction in flight is rolled back by the database,
but some bookkeeping of the request still has to happen: an idempotency key must be released
(or its reply stored) and a pending row whose COMMIT was cut off must be failed, or a retry of
the same request would wait for a holder that is gone or be refused by its own reservation.
These repairs run here, in the order they were queued, each retried until the database (the
new primary, found by the multi-host URL) accepts it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from slotguard.observability import get_logger
from slotguard.store.db import database_unavailable

log = get_logger("outage")
# How often a queued repair is tried again while the database is unreachable.
RETRY_SECONDS = 0.5
# After this long a repair is dropped (logged): the idempotency lock times out by itself after
# 150 s and the reconciler fails an orphaned pending row, so nothing stays stuck for good.
GIVE_UP_SECONDS = 300.0

Repair = Callable[[], Awaitable[None]]


class Repairs:
    """A per-process FIFO of repairs, drained by one background task."""

    def __init__(self) -> None:
        self._queue: deque[tuple[str, Repair, float]] = deque()
        self._task: asyncio.Task[None] | None = None

    def add(self, name: str, repair: Repair) -> None:
        """Queue ``repair``; it runs after every repair queued before it has succeeded."""
        loop = asyncio.get_running_loop()
        self._queue.append((name, repair, loop.time() + GIVE_UP_SECONDS))
        log.warning("repair_queued", repair=name, queued=len(self._queue))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())

    @property
    def queued(self) -> int:
        """Repairs not done yet."""
        return len(self._queue)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            name, repair, give_up = self._queue[0]
            try:
                await repair()
            except Exception as problem:
                if not database_unavailable(problem):
                    log.exception("repair_failed", repair=name)
                elif loop.time() < give_up:
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                else:
                    log.error("repair_given_up", repair=name, error=type(problem).__name__)
            else:
                log.info("repair_done", repair=name)
            self._queue.popleft()
