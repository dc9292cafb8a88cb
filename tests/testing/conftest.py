"""Fixtures for the Cal.com emulator tests: a served emulator, a webhook receiver, helpers.

Everything talks HTTP over loopback with plain httpx; expectations come from the
contracts document (shared/contracts/retell-and-calcom.md), not from any client of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slotguard.testing import CalcomEmulator, EmulatorConfig, serve_in_thread

API_KEY = "cal_test_emulator"
BOOKINGS_HEADERS = {"cal-api-version": "2024-08-13", "Authorization": f"Bearer {API_KEY}"}
SLOTS_HEADERS = {"cal-api-version": "2024-09-04"}


def at(days: int = 2, hour: int = 10, minute: int = 0) -> datetime:
    """A UTC time `days` from today at hour:minute."""
    day = datetime.now(UTC) + timedelta(days=days)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def z(moment: datetime) -> str:
    """ISO 8601 UTC with `Z`, as a client sends `start`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class CalClient:
    """A thin test client speaking Cal.com v2 to one served emulator."""

    http: httpx.AsyncClient
    emulator: CalcomEmulator
    base_url: str

    at = staticmethod(at)
    z = staticmethod(z)

    def body(self, start: datetime, **overrides: Any) -> dict[str, Any]:
        """A valid create body for event type 1001; keyword overrides replace top-level keys."""
        attendee = {
            "name": "Max Müller",
            "email": "max@example.de",
            "timeZone": "Europe/Berlin",
            "language": "de",
        }
        body: dict[str, Any] = {"start": z(start), "eventTypeId": 1001, "attendee": attendee}
        body.update(overrides)
        return body

    async def create(
        self,
        start: datetime,
        *,
        headers: dict[str, str] | None = None,
        client_timeout: float = 5.0,
        **overrides: Any,
    ) -> httpx.Response:
        """POST /v2/bookings."""
        headers = BOOKINGS_HEADERS if headers is None else headers
        body = self.body(start, **overrides)
        return await self.http.post(
            "/v2/bookings", json=body, headers=headers, timeout=client_timeout
        )

    async def booked(self, start: datetime, **overrides: Any) -> dict[str, Any]:
        """Create and return `data`, asserting the 201."""
        response = await self.create(start, **overrides)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    async def list(self, **params: Any) -> httpx.Response:
        """GET /v2/bookings."""
        return await self.http.get("/v2/bookings", params=params, headers=BOOKINGS_HEADERS)

    async def slots(
        self, *, headers: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        """GET /v2/slots."""
        headers = SLOTS_HEADERS if headers is None else headers
        return await self.http.get("/v2/slots", params=params, headers=headers)

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        """POST to a booking sub-route with the bookings headers."""
        return await self.http.post(path, json=body, headers=BOOKINGS_HEADERS)


MakeCal = Callable[[EmulatorConfig], Awaitable[CalClient]]


@pytest.fixture(scope="session")
def served_emulator() -> Iterator[tuple[CalcomEmulator, str]]:
    """One default emulator on loopback for the whole session."""
    emulator = CalcomEmulator()
    with serve_in_thread(emulator.app) as base_url:
        yield emulator, base_url


@pytest.fixture
async def cal(served_emulator: tuple[CalcomEmulator, str]) -> AsyncIterator[CalClient]:
    """A client on the shared emulator, which is reset before the test."""
    emulator, base_url = served_emulator
    emulator.reset()
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        yield CalClient(http, emulator, base_url)


@pytest.fixture
async def make_cal() -> AsyncIterator[MakeCal]:
    """Start extra emulators with their own configuration for one test."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(config: EmulatorConfig) -> CalClient:
            emulator = CalcomEmulator(config)
            base_url = stack.enter_context(serve_in_thread(emulator.app))
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=5))
            return CalClient(http, emulator, base_url)

        yield make


@dataclass
class Received:
    """One webhook request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float  # time.monotonic()


@dataclass
class ReceiverState:
    """Everything the receiver app got, and the status it answers with per path."""

    items: list[Received] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class Hook:
    """One test's webhook endpoint on the shared receiver."""

    url: str
    path: str
    state: ReceiverState

    @property
    def received(self) -> list[Received]:
        """Requests that reached this endpoint, in arrival order."""
        return [item for item in self.state.items if item.path == self.path]

    def answer(self, status: int) -> None:
        """Make the endpoint answer with `status`."""
        self.state.statuses[self.path] = status

    async def wait(self, count: int, seconds: float = 5.0) -> list[Received]:
        """Wait until `count` requests arrived."""
        deadline = time.monotonic() + seconds
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} webhooks arrived"
            await asyncio.sleep(0.01)
        return self.received


@pytest.fixture(scope="session")
def receiver() -> Iterator[tuple[str, ReceiverState]]:
    """A tiny webhook receiver app on loopback, shared by the session."""
    state = ReceiverState()

    async def hook(request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        state.items.append(Received(path, dict(request.headers), body, time.monotonic()))
        return Response(status_code=state.statuses.get(path, 200))

    app = Starlette(routes=[Route("/hook/{name}", hook, methods=["POST"])])
    with serve_in_thread(app) as base_url:
        yield base_url, state


@pytest.fixture
def hook(receiver: tuple[str, ReceiverState]) -> Hook:
    """A fresh endpoint path, so late deliveries of other tests never show up here."""
    base_url, state = receiver
    path = f"/hook/{uuid.uuid4().hex}"
    return Hook(f"{base_url}{path}", path, state)
