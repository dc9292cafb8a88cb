"""Input at the edge of what the columns hold: refused precisely, never a 5xx, never stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.store.db import session_factory
from slotguard.store.tables import AppointmentRow, CallRow, CustomerRow, WebhookEventRow
from tests.retell.conftest import AGENT, CALLER, Phone

VALID = {"customer_name": "Max", "service": "Haarschnitt", "date": "morgen", "time": "14 Uhr"}
CALL = {"call_id": "c1", "agent_id": AGENT, "from_number": CALLER, "to_number": "+4930111111"}


async def _rows(engine: AsyncEngine) -> tuple[int, int, int, int]:
    async with session_factory(engine)() as s:
        counts = [
            await s.scalar(select(func.count()).select_from(table))
            for table in (AppointmentRow, CallRow, CustomerRow, WebhookEventRow)
        ]
    return tuple(int(n or 0) for n in counts)  # type: ignore[return-value]


def _raw(call: dict[str, Any], args: Any) -> bytes:
    return json.dumps({"call": call, "args": args}).encode()


class TestUnstorableText:
    """NUL characters and lone surrogates are a 400 naming where they are, on both databases."""

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            (
                _raw(CALL, {**VALID, "customer_name": "Max\u0000"}),
                "args.customer_name contains a NUL",
            ),
            (_raw({**CALL, "call_id": "c\u00001"}, VALID), "call.call_id contains a NUL"),
            (_raw({**CALL, "agent_id": "agent\u0000"}, VALID), "call.agent_id contains a NUL"),
            (_raw(CALL, {"x\u0000": 1}), "a key at args contains a NUL"),
            (_raw(CALL, {**VALID, "customer_name": "Max\ud800"}), "surrogate"),
            (_raw(CALL, {**VALID, "service": "\udfff"}), "surrogate"),
            (_raw({**CALL, "from_number": "+49\ud83d"}, VALID), "surrogate"),
        ],
    )
    async def test_is_400(
        self, phone: Phone, engine: AsyncEngine, body: bytes, detail: str
    ) -> None:
        """The request is refused before anything is written."""
        response = await phone.post("/retell/functions/book_appointment", body)
        assert response.status_code == 400, response.text
        assert detail in response.json()["detail"]
        assert await _rows(engine) == (0, 0, 0, 0)

    async def test_lifecycle_event_with_nul_is_400(self, phone: Phone, engine: AsyncEngine) -> None:
        """A call_ended event whose transcript holds a NUL is refused, not stored half."""
        event = {"event": "call_ended", "call": {**CALL, "transcript": "Hallo\u0000"}}
        response = await phone.post("/retell/events", json.dumps(event).encode())
        assert response.status_code == 400
        assert "call.transcript" in response.json()["detail"]
        assert await _rows(engine) == (0, 0, 0, 0)


class TestColumnWidths:
    """The call object's and the arguments' lengths match the columns that store them."""

    @pytest.mark.parametrize(
        ("field", "width"),
        [("agent_id", 128), ("from_number", 32), ("to_number", 32), ("call_status", 32)],
    )
    async def test_overlong_call_field_is_400(
        self, phone: Phone, engine: AsyncEngine, field: str, width: int
    ) -> None:
        """One character over the column's width is a 400 naming the field."""
        body = _raw({**CALL, field: "1" * (width + 1)}, VALID)
        response = await phone.post("/retell/functions/book_appointment", body)
        assert response.status_code == 400
        assert f"call.{field}" in response.json()["detail"]
        assert await _rows(engine) == (0, 0, 0, 0)

    async def test_agent_id_at_the_width_is_served(self, phone: Phone) -> None:
        """Exactly 128 characters is accepted (and is an unknown tenant here)."""
        body = _raw({**CALL, "agent_id": "a" * 128, "to_number": "+1"}, VALID)
        response = await phone.post("/retell/functions/book_appointment", body)
        assert (response.status_code, response.json()["reason"]) == (200, "unknown_tenant")

    async def test_overlong_name_is_invalid(self, phone: Phone, engine: AsyncEngine) -> None:
        """A name of 201–500 characters is error/invalid_argument, not a database error."""
        for length in (201, 500):
            reply = await phone.call("book_appointment", {**VALID, "customer_name": "x" * length})
            assert (reply["status"], reply["field"], reply["problem"]) == (
                "error",
                "customer_name",
                "too long",
            )
        assert (await _rows(engine))[0] == 0

    async def test_overlong_email_is_invalid(self, phone: Phone, engine: AsyncEngine) -> None:
        """An email longer than any valid address is an invalid argument, nothing is booked."""
        email = "x" * 321 + "@example.com"
        reply = await phone.call("book_appointment", {**VALID, "customer_email": email})
        assert (reply["status"], reply["field"]) == ("error", "customer_email")
        assert (await _rows(engine))[0] == 0

    async def test_name_at_the_width_books(self, phone: Phone, engine: AsyncEngine) -> None:
        """A name of exactly 200 characters is booked and stored whole."""
        reply = await phone.call("book_appointment", {**VALID, "customer_name": "M" * 200})
        assert reply["status"] == "booked", reply
        async with session_factory(engine)() as s:
            assert await s.scalar(select(CustomerRow.name)) == "M" * 200


class TestJsonLimits:
    """Nesting bombs, huge numbers and NaN are a 400, not a crash."""

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            (b'{"call":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "not valid JSON"),
            (_raw(CALL, {"x": json.loads("[" * 33 + "]" * 33)}), "nests deeper than 32"),
            (b'{"call":{"call_id":"c1"},"args":{"n":' + b"9" * 5000 + b"}}", "not valid JSON"),
            (b'{"call":{"call_id":"c1"},"args":{"n":1' + b"0" * 5000 + b".5}}", "not valid JSON"),
            (b'{"call":{"call_id":"c1"},"args":{"n":1e999}}', "not valid JSON"),
            (b'{"call":{"call_id":"c1"},"args":{"n":NaN}}', "not valid JSON"),
            (b'{"call":{"call_id":"c1","start_timestamp":-Infinity}}', "not valid JSON"),
            (b'{"call":{"call_id":"c1","start_timestamp":18446744073709551616}}', "call.start"),
        ],
    )
    async def test_is_400(self, phone: Phone, body: bytes, detail: str) -> None:
        """Each is refused with a detail that says what is wrong."""
        response = await phone.post("/retell/functions/check_customer", body)
        assert response.status_code == 400, response.text
        assert detail in response.json()["detail"]


class TestCalendarEdges:
    """Dates at the end of the calendar are an agent-facing error, never a 500."""

    @pytest.mark.parametrize(
        ("date", "time"),
        [
            ("0001-01-01", "00:00"),
            ("0001-01-01", "14 Uhr"),
            ("9999-12-31", "23:59"),
            ("9999-12-31", "14 Uhr"),
            ("31.12.9999", "halb drei"),
            ("1.1.0001", "10:00"),
        ],
    )
    async def test_booking(self, phone: Phone, engine: AsyncEngine, date: str, time: str) -> None:
        """book and check_availability answer error/invalid_argument and write no appointment."""
        for name in ("book_appointment", "check_availability", "query_appointment"):
            args = {**VALID, "date": date, "time": time}
            reply = await phone.call(name, args)
            assert reply["message"], reply
            if name != "query_appointment":
                assert (reply["status"], reply["reason"]) == ("error", "invalid_argument"), reply
        assert (await _rows(engine))[0] == 0
