"""Retell call lifecycle webhooks are stored once per (call, event) and update the call."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.store.db import session_factory
from slotguard.store.tables import CallRow, WebhookEventRow
from tests.retell.conftest import CALLER, Phone


def _event(event: str, status: str, **extra: object) -> bytes:
    call = {
        "call_id": "call_ev",
        "agent_id": "agent_test",
        "from_number": CALLER,
        "to_number": "+4930111111",
        "call_status": status,
        "start_timestamp": 1764061200000,
        "transcript": "Agent: Guten Tag! Kunde: Grüß Gott, ich möchte einen Termin.",
        **extra,
    }
    return json.dumps({"event": event, "call": call}, ensure_ascii=False).encode()


class TestLifecycleEvents:
    """POST /retell/events."""

    async def test_events_stored_once_and_call_updated(
        self, phone: Phone, engine: AsyncEngine
    ) -> None:
        """call_started and call_ended are stored once each; a replay is a duplicate."""
        first = await phone.post("/retell/events", _event("call_started", "ongoing"))
        ended = _event("call_ended", "ended", end_timestamp=1764061500000)
        second = await phone.post("/retell/events", ended)
        replay = await phone.post("/retell/events", ended)
        assert [r.json()["status"] for r in (first, second, replay)] == [
            "stored",
            "stored",
            "duplicate",
        ]
        async with session_factory(engine)() as s:
            events = await s.scalar(select(func.count()).select_from(WebhookEventRow))
            call = await s.scalar(select(CallRow).where(CallRow.call_id == "call_ev"))
        assert events == 2
        assert call is not None and call.call_status == "ended"
        assert call.ended_at is not None and call.customer_id is not None

    async def test_unsigned_event_is_401(self, phone: Phone) -> None:
        """Lifecycle webhooks need the Retell signature too."""
        response = await phone.client.post("/retell/events", content=_event("call_started", "x"))
        assert response.status_code == 401

    async def test_event_without_call_is_400(self, phone: Phone) -> None:
        """An event body without a call object is a 400 naming the field."""
        response = await phone.post("/retell/events", b'{"event": "call_started"}')
        assert response.status_code == 400
        assert "call" in response.json()["detail"]

    async def test_unknown_agent_still_stored(self, phone: Phone) -> None:
        """An event for an unrouted agent is acknowledged (Retell retries non-2xx)."""
        body = json.dumps(
            {"event": "call_started", "call": {"call_id": "x1", "agent_id": "nobody"}}
        )
        response = await phone.post("/retell/events", body.encode())
        assert (response.status_code, response.json()["status"]) == (200, "stored")
