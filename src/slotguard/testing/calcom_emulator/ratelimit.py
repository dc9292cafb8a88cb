"""Cal.com's per-tracker throttling: fixed window, then blocked for one window
(docs/calcom-and-retell-facts.md §2.9)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TOO_MANY = "CustomThrottlerGuard - Too many requests. Please try again later."


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one hit and the `X-RateLimit-*-Default` header values."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # seconds until the window or block ends (the code's reading, UNVERIFIED)

    def headers(self) -> dict[str, str]:
        """The three rate-limit headers Cal.com sets on every response."""
        return {
            "X-RateLimit-Limit-Default": str(self.limit),
            "X-RateLimit-Remaining-Default": str(self.remaining),
            "X-RateLimit-Reset-Default": str(self.reset_seconds),
        }


@dataclass
class _Window:
    started: float
    hits: int = 0
    blocked_until: float = 0.0


class RateLimiter:
    """Counts hits per tracker (API key, else client IP); thread-safe."""

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}

    def hit(self, tracker: str) -> RateDecision:
        """Count one request; over the limit it is refused and the tracker blocked."""
        now = self._clock()
        with self._lock:
            window = self._windows.get(tracker)
            if window is None or (
                now >= window.started + self.window_seconds and now >= window.blocked_until
            ):
                window = self._windows[tracker] = _Window(started=now)
            window.hits += 1
            if window.hits > self.limit and window.blocked_until <= now:
                window.blocked_until = now + self.window_seconds
            ends = max(window.started + self.window_seconds, window.blocked_until)
            return RateDecision(
                allowed=window.hits <= self.limit,
                limit=self.limit,
                remaining=max(0, self.limit - window.hits),
                reset_seconds=max(0, math.ceil(ends - now)),
            )

    def reset(self) -> None:
        """Forget every counter."""
        with self._lock:
            self._windows.clear()
