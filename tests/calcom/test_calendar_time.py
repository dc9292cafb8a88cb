"""The function_call log line tells Cal.com's share of a call's time (``calendar_ms``)."""

from __future__ import annotations

from typing import Any

import structlog

from tests.calcom.conftest import Stack
from tests.calcom.test_slot_cache import a_monday_ahead, question

LATENCY_MS = 200


def _function_calls(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in logs if line["event"] == "function_call"]


class TestCalendarTime:
    """Own time = duration_ms − calendar_ms: what the latency goals are about."""

    async def test_a_lookup_is_counted_a_cached_answer_is_not(self, stack: Stack) -> None:
        """Cal.com answers the slots after 200 ms: the first question waited for it, the
        second (same window, from the cache) waited for nothing."""
        stack.emulator.faults.set_latency(LATENCY_MS, route="GET /v2/slots")
        day = a_monday_ahead()
        with structlog.testing.capture_logs() as logs:
            first = await stack.call("check_availability", question(day), "wait-1")
            second = await stack.call("check_availability", question(day, "11:00"), "wait-2")
        assert (first["status"], second["status"]) == ("available", "available")
        looked_up, cached = _function_calls(logs)
        assert LATENCY_MS <= looked_up["calendar_ms"] <= looked_up["duration_ms"]
        assert cached["calendar_ms"] == 0
        assert stack.emulator.count("GET", "/v2/slots") == 1

    async def test_a_create_is_counted(self, stack: Stack) -> None:
        """A booking's create is calendar time too; the booking's own work is not."""
        stack.emulator.faults.set_latency(LATENCY_MS, route="POST /v2/bookings")
        day = a_monday_ahead()
        wish = {"customer_name": "Erika Muster", **question(day, "15:00")}
        with structlog.testing.capture_logs() as logs:
            reply = await stack.call("book_appointment", wish, "wait-book")
        assert reply["status"] == "booked"
        [line] = _function_calls(logs)
        assert LATENCY_MS <= line["calendar_ms"] <= line["duration_ms"]
        assert stack.creates() == 1
