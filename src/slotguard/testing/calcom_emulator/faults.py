"""Fault knobs: latency, one-shot failures and drops, seeded chaos, a wider create race.

Routes are named by method and template, e.g. `"POST /v2/bookings"` or
`"POST /v2/bookings/{uid}/cancel"`; a knob without a route applies to every `/v2` route.
The same knobs are set from Python (`emulator.faults.fail_next(2, status=429)`) or over
HTTP (`POST /_emulator/faults` with the JSON that `apply()` documents).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

Latency = float | tuple[float, float]  # milliseconds: fixed, or uniform in [min, max]


@dataclass
class _Shot:
    kind: str  # fail | drop | timeout_after_commit | drop_after_commit
    remaining: int
    route: str | None = None
    status: int = 500
    retry_after: int | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class Fault:
    """What the pipeline should do instead of (or after) answering normally."""

    kind: str  # fail | drop | timeout
    status: int = 500
    retry_after: int | None = None
    seconds: float = 0.0


def _latency(value: Any) -> Latency | None:
    if value is None or isinstance(value, int | float):
        return value
    low, high = value
    return (float(low), float(high))


class Faults:
    """Every fault knob of one emulator; thread-safe, cleared by `clear()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shots: list[_Shot] = []
        self.clear()

    def clear(self) -> None:
        """Switch every fault off."""
        with self._lock:
            self._shots.clear()
        self.latency_ms: Latency | None = None
        self.latency_by_route: dict[str, Latency] = {}
        self.race_window_ms = 0.0  # sleep between availability check and insert
        self.timeout_after_commit_seconds = 10.0  # ended early when the client disconnects
        self.p429 = self.p500 = self.p_drop = self.p_timeout_after_commit = 0.0
        self.random = random.Random(0)

    def set_latency(self, ms: Latency | None, route: str | None = None) -> None:
        """Delay answers by `ms` (or a uniform draw from [min, max]), optionally per route."""
        if route is None:
            self.latency_ms = ms
        elif ms is None:
            self.latency_by_route.pop(route, None)
        else:
            self.latency_by_route[route] = ms

    def fail_next(
        self,
        count: int = 1,
        status: int = 500,
        route: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next `count` requests with 429 or 500 before touching any state."""
        self._add(_Shot("fail", count, route, status, retry_after))

    def drop_next(
        self, count: int = 1, route: str | None = None, after_commit: bool = False
    ) -> None:
        """Close the next `count` connections without a response (after the commit if asked)."""
        self._add(_Shot("drop_after_commit" if after_commit else "drop", count, route))

    def timeout_after_commit(
        self, count: int = 1, seconds: float | None = None, route: str | None = None
    ) -> None:
        """Commit the next `count` mutations, fire their webhooks, then stall the answer."""
        self._add(_Shot("timeout_after_commit", count, route, seconds=seconds))

    def chaos(
        self,
        seed: int | None = None,
        p429: float = 0.0,
        p500: float = 0.0,
        p_drop: float = 0.0,
        p_timeout_after_commit: float = 0.0,
    ) -> None:
        """Random faults per request from a seedable `random.Random`."""
        self.random = random.Random(seed)
        self.p429, self.p500, self.p_drop = p429, p500, p_drop
        self.p_timeout_after_commit = p_timeout_after_commit

    def apply(self, spec: Mapping[str, Any]) -> None:
        """Apply the JSON form of the knobs (`POST /_emulator/faults`); every key is optional.

        Example: `{"clear": true, "latency_ms": [5, 20], "latency_by_route":
        {"POST /v2/bookings": 50}, "fail_next": {"count": 2, "status": 429, "route":
        "POST /v2/bookings", "retry_after": 30}, "drop_next": {"count": 1, "after_commit":
        false}, "timeout_after_commit": {"count": 1, "seconds": 3}, "chaos": {"seed": 7,
        "p500": 0.05, "p_timeout_after_commit": 0.02}, "race_window_ms": 20,
        "timeout_after_commit_seconds": 10}`. Nested objects are the methods' keyword arguments.
        """
        if spec.get("clear"):
            self.clear()
        if "latency_ms" in spec:
            self.set_latency(_latency(spec["latency_ms"]))
        for route, ms in dict(spec.get("latency_by_route") or {}).items():
            self.set_latency(_latency(ms), route)
        for key, method in (
            ("fail_next", self.fail_next),
            ("drop_next", self.drop_next),
            ("timeout_after_commit", self.timeout_after_commit),
            ("chaos", self.chaos),
        ):
            if key in spec:
                method(**dict(spec[key]))
        if "race_window_ms" in spec:
            self.race_window_ms = float(spec["race_window_ms"])
        if "timeout_after_commit_seconds" in spec:
            self.timeout_after_commit_seconds = float(spec["timeout_after_commit_seconds"])

    def snapshot(self) -> dict[str, Any]:
        """The current knobs as JSON."""
        with self._lock:
            shots = [asdict(shot) for shot in self._shots]
        return {
            "latency_ms": self.latency_ms,
            "latency_by_route": dict(self.latency_by_route),
            "race_window_ms": self.race_window_ms,
            "timeout_after_commit_seconds": self.timeout_after_commit_seconds,
            "chaos": {
                "p429": self.p429,
                "p500": self.p500,
                "p_drop": self.p_drop,
                "p_timeout_after_commit": self.p_timeout_after_commit,
            },
            "pending": shots,
        }

    def latency_seconds(self, route: str) -> float:
        """How long to stall this request before handling it."""
        value = self.latency_by_route.get(route, self.latency_ms)
        if value is None:
            return 0.0
        if isinstance(value, tuple):
            return self.random.uniform(*value) / 1000
        return float(value) / 1000

    def before(self, route: str) -> Fault | None:
        """A fault that replaces the answer before any state is touched, or None."""
        shot = self._take(route, ("fail", "drop"))
        if shot is not None:
            return Fault(shot.kind, shot.status, shot.retry_after)
        draw = self.random.random()
        for kind, status, threshold in (
            ("fail", 429, self.p429),
            ("fail", 500, self.p500),
            ("drop", 0, self.p_drop),
        ):
            if draw < threshold:
                return Fault(kind, status)
            draw -= threshold
        return None

    def after_commit(self, route: str) -> Fault | None:
        """A fault applied after a mutation committed (stall or drop), or None."""
        shot = self._take(route, ("timeout_after_commit", "drop_after_commit"))
        seconds = self.timeout_after_commit_seconds
        if shot is not None and shot.kind == "drop_after_commit":
            return Fault("drop")
        if shot is not None:
            return Fault("timeout", seconds=shot.seconds or seconds)
        if self.random.random() < self.p_timeout_after_commit:
            return Fault("timeout", seconds=seconds)
        return None

    def _add(self, shot: _Shot) -> None:
        with self._lock:
            self._shots.append(shot)

    def _take(self, route: str, kinds: tuple[str, ...]) -> _Shot | None:
        with self._lock:
            for shot in self._shots:
                if shot.kind in kinds and shot.route in (None, route):
                    shot.remaining -= 1
                    if shot.remaining <= 0:
                        self._shots.remove(shot)
                    return shot
        return None
