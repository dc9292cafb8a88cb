"""CalcomCalendar against the Cal.com emulator served on loopback (real HTTP, no mocks).

`connect()` builds our real client stack (one httpx.AsyncClient, a CalcomClient, a
CalcomCalendar) against the shared emulator or an extra one with its own configuration,
records what we sent (httpx event hook) and what we reported to `observe`, and closes
everything at the end of the test.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
import pytest

from slotguard.calendar import CreateBooking
from slotguard.calendar.calcom import CalcomCalendar, CalcomClient
from slotguard.calendar.ratelimit import RateLimit, RetryPolicy
from slotguard.domain import TimeRange
from slotguard.testing import CalcomEmulator, EmulatorConfig, serve_in_thread

API_KEY = "cal_test_emulator"
# Short pauses so retry tests take milliseconds; the shape of the policy is unchanged.
FAST = RetryPolicy(attempts=3, backoff_base=0.01, backoff_cap=0.05, read_deadline=3.0,
                   send_wait=0.2)  # fmt: skip


def at(days: int = 3, hour: int = 10, minute: int = 0) -> datetime:
    """A UTC time `days` from today at hour:minute (the emulator's host works all day)."""
    day = datetime.now(UTC) + timedelta(days=days)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def booking_request(start: datetime, minutes: int = 30, **overrides: Any) -> CreateBooking:
    """A create request for event type 1001 with a fresh reservation key."""
    fields: dict[str, Any] = {
        "reservation_key": uuid.uuid4().hex,
        "company_id": 1,
        "service_name": "Herrenhaarschnitt",
        "span": TimeRange(start, start + timedelta(minutes=minutes)),
        "time_zone": "Europe/Berlin",
        "language": "de",
        "attendee_name": "Max Müller",
        "attendee_email": "max@example.de",
        "attendee_phone": "+4915112345678",
        "event_type_id": 1001,
    }
    fields.update(overrides)
    return CreateBooking(**fields)


@dataclass
class Harness:
    """Our calendar wired to one emulator, with what we sent and observed."""

    calendar: CalcomCalendar
    client: CalcomClient
    emulator: CalcomEmulator
    sent: list[httpx.Request] = field(default_factory=list)
    observed: list[tuple[str, str, float]] = field(default_factory=list)

    def statuses(self, method: str, path: str) -> list[int | None]:
        """Statuses the emulator answered to matching requests, in order."""
        return [r.status for r in self.emulator.request_log if (r.method, r.path) == (method, path)]


class Connect(Protocol):
    """Builds a Harness (see the module docstring)."""

    def __call__(
        self,
        config: EmulatorConfig | None = None,
        *,
        http_timeout: float = 2.0,
        rate_limit: RateLimit | None = None,
        retry: RetryPolicy = FAST,
        api_key: str = API_KEY,
    ) -> Awaitable[Harness]:
        """A harness on the shared emulator, or on a new one when `config` is given."""
        ...


@pytest.fixture(scope="session")
def served() -> Iterator[tuple[CalcomEmulator, str]]:
    """One default emulator on loopback for the whole session."""
    emulator = CalcomEmulator()
    with serve_in_thread(emulator.app) as base_url:
        yield emulator, base_url


@pytest.fixture(name="connect")
async def _connect(served: tuple[CalcomEmulator, str]) -> AsyncIterator[Connect]:
    shared, shared_url = served
    shared.reset()
    async with contextlib.AsyncExitStack() as stack:

        async def connect(
            config: EmulatorConfig | None = None,
            *,
            http_timeout: float = 2.0,
            rate_limit: RateLimit | None = None,
            retry: RetryPolicy = FAST,
            api_key: str = API_KEY,
        ) -> Harness:
            emulator, base_url = shared, shared_url
            if config is not None:
                emulator = CalcomEmulator(config)
                base_url = stack.enter_context(serve_in_thread(emulator.app))
            sent: list[httpx.Request] = []

            async def record(request: httpx.Request) -> None:
                sent.append(request)

            http = httpx.AsyncClient(
                base_url=base_url, timeout=http_timeout, event_hooks={"request": [record]}
            )
            await stack.enter_async_context(http)
            client = CalcomClient(http, rate_limit=rate_limit, retry=retry)
            observed: list[tuple[str, str, float]] = []

            def observe(endpoint: str, outcome: str, seconds: float) -> None:
                observed.append((endpoint, outcome, seconds))

            calendar = CalcomCalendar(client, api_key, observe=observe)
            return Harness(calendar, client, emulator, sent, observed)

        yield connect


@pytest.fixture
async def cal(connect: Connect) -> Harness:
    """Our calendar on the shared, freshly reset emulator."""
    return await connect()
