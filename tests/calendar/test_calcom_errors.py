"""Meta-test in httpx's style: every httpx exception type is translated by the adapter.

The exceptions are raised by a transport that does nothing else, because most of them (a
cookie conflict, a consumed stream, a decoding error) cannot be provoked on purpose by a
real server. Cal.com's behaviour itself is tested against the emulator elsewhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from slotguard.calendar import CalendarUnreachable, CreateBooking, CreateOutcome
from slotguard.calendar.calcom import HTTPX_ERRORS, NOT_SENT_ERRORS, CalcomCalendar, CalcomClient
from slotguard.calendar.ratelimit import RetryPolicy
from slotguard.domain import TimeRange

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
SPAN = TimeRange(START, START + timedelta(minutes=30))
FAST = RetryPolicy(attempts=2, backoff_base=0.001, backoff_cap=0.001, read_deadline=1.0)


def httpx_exception_types() -> list[type[BaseException]]:
    """Every exception class httpx exports."""
    found = [getattr(httpx, name) for name in dir(httpx)]
    kinds = {t for t in found if isinstance(t, type) and issubclass(t, BaseException)}
    return sorted(kinds, key=lambda t: t.__name__)


def make_error(kind: type[BaseException], request: httpx.Request) -> BaseException:
    """An instance of ``kind`` built the way httpx builds it."""
    if issubclass(kind, httpx.HTTPStatusError):
        return kind("boom", request=request, response=httpx.Response(500, request=request))
    if issubclass(kind, httpx.RequestError):
        return kind("boom", request=request)
    try:
        return kind("boom")
    except TypeError:
        return kind()


class RaisingTransport(httpx.AsyncBaseTransport):
    """A transport that raises one exception type for every request and counts them."""

    def __init__(self, kind: type[BaseException]) -> None:
        self.kind = kind
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Raise instead of answering."""
        self.calls += 1
        raise make_error(self.kind, request)


def booking_request() -> CreateBooking:
    """A phone-only booking request."""
    return CreateBooking(
        reservation_key="rk-meta",
        company_id=1,
        service_name="Herrenhaarschnitt",
        span=SPAN,
        time_zone="Europe/Berlin",
        language="de",
        attendee_name="Max",
        attendee_phone="+4915112345678",
        event_type_id=1001,
    )


@pytest.fixture(name="calendar_for")
async def _calendar_for() -> AsyncIterator[Callable[[RaisingTransport], CalcomCalendar]]:
    clients: list[httpx.AsyncClient] = []

    def build(transport: RaisingTransport) -> CalcomCalendar:
        http = httpx.AsyncClient(base_url="http://calcom.invalid", transport=transport)
        clients.append(http)
        return CalcomCalendar(CalcomClient(http, retry=FAST), "cal_test_meta")

    yield build
    for http in clients:
        await http.aclose()


ALL = httpx_exception_types()


class TestEveryHttpxErrorIsMapped:
    """No httpx exception escapes the adapter untranslated."""

    def test_the_list_is_complete(self) -> None:
        """Every exported httpx exception type is covered by HTTPX_ERRORS."""
        assert len(ALL) >= 25
        assert [t.__name__ for t in ALL if not issubclass(t, HTTPX_ERRORS)] == []

    @pytest.mark.parametrize("kind", ALL, ids=lambda t: t.__name__)
    async def test_create_is_ambiguous(
        self, kind: type[BaseException], calendar_for: Callable[[RaisingTransport], CalcomCalendar]
    ) -> None:
        """An httpx error on create is AMBIGUOUS, or unreachable when never sent; one try."""
        transport = RaisingTransport(kind)
        calendar = calendar_for(transport)
        if issubclass(kind, NOT_SENT_ERRORS):
            with pytest.raises(CalendarUnreachable, match="not sent"):
                await calendar.create_booking(booking_request())
        else:
            result = await calendar.create_booking(booking_request())
            assert result.outcome is CreateOutcome.AMBIGUOUS
            assert kind.__name__ in result.detail
        assert transport.calls == 1

    @pytest.mark.parametrize("kind", ALL, ids=lambda t: t.__name__)
    async def test_reads_are_unreachable(
        self, kind: type[BaseException], calendar_for: Callable[[RaisingTransport], CalcomCalendar]
    ) -> None:
        """Slots, find, get and cancel raise CalendarUnreachable after bounded retries."""
        transport = RaisingTransport(kind)
        calendar = calendar_for(transport)
        with pytest.raises(CalendarUnreachable):
            await calendar.free_slots(window=SPAN, duration_minutes=30, event_type_id=1001)
        with pytest.raises(CalendarUnreachable):
            await calendar.find_booking(booking_request())
        with pytest.raises(CalendarUnreachable):
            await calendar.get_booking("bk_1")
        with pytest.raises(CalendarUnreachable):
            await calendar.cancel_booking("bk_1", "changed plans")
        assert transport.calls == 4 * FAST.attempts
