"""How long the current request waited for Cal.com, so its own time can be told apart.

A function call's duration is slotguard's work plus time it could not shorten: Cal.com's
answers, the key's rate budget, another request's lookup of the same slots. The calendar
code wraps each such wait in :func:`waiting`; the Retell endpoint starts a tally per request
(:func:`tally`) and logs ``calendar_ms`` beside ``duration_ms`` on its ``function_call`` line.
Tasks started inside a request inherit the tally (context variables are copied into a task,
and the tally itself is shared, not copied).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Tally:
    """Seconds one request spent waiting for the calendar."""

    seconds: float = 0.0

    @property
    def ms(self) -> float:
        """The tally in milliseconds, rounded for a log line."""
        return round(self.seconds * 1000, 2)


_current: ContextVar[Tally | None] = ContextVar("calendar_waiting", default=None)


def tally() -> Tally:
    """Start counting the calendar waits of the current request (and the tasks it starts)."""
    counted = Tally()
    _current.set(counted)
    return counted


@contextmanager
def waiting() -> Iterator[None]:
    """Count the enclosed wait towards the current request's tally, if one is kept."""
    counted = _current.get()
    if counted is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        counted.seconds += time.perf_counter() - started
