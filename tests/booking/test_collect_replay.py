"""collect_appointment_data replays a retried question, but not an old one whose answer changed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.testing.asgi import lifespan_client
from tests.retell.conftest import NOW, RETELL_KEY, Phone, apply_test_tenants

ARGS = {"customer_name": "Max", "service": "Haarschnitt", "date": "2026-11-27", "time": "11:00"}


class TestCollectReplay:
    """The replay window of collect_appointment_data; availability is never replayed."""

    async def test_retry_replays_checks_not_availability(
        self, db_url: str, engine: AsyncEngine
    ) -> None:
        """Within the replay window the duplicate checks are replayed but the slot is read afresh:
        once someone else took it, the retry does not say "frei"; later it is asked anew."""
        await apply_test_tenants(engine)
        clock = {"now": NOW}

        def now() -> datetime:
            return clock["now"]

        settings = Settings(
            database_url=db_url, retell_api_key=RETELL_KEY, reconcile_interval_seconds=0
        )
        async with lifespan_client(create_app(settings, clock=now)) as client:
            phone = Phone(client)
            first = await phone.call("collect_appointment_data", ARGS)
            other = {**ARGS, "customer_name": "Eva"}
            taken = await phone.call(
                "book_appointment", other, call_id="call_eva", from_number="+4917099999999"
            )
            assert taken["status"] == "booked"
            clock["now"] = NOW + timedelta(minutes=2)
            retried = await phone.call("collect_appointment_data", ARGS)
            mine = await phone.call("book_appointment", {**ARGS, "time": "12:00"})
            clock["now"] = NOW + timedelta(minutes=6)
            later = await phone.call("collect_appointment_data", {**ARGS, "time": "12:00"})
        assert (first["status"], first["availability"]) == ("ok", "free")
        assert "ist frei" in first["message"]
        assert (retried["status"], retried["reason"]) == ("unavailable", "slot_taken")
        assert retried["requested_start"] == first["requested_start"]
        assert "ist frei" not in retried["message"]
        assert mine["status"] == "booked"
        assert (later["status"], later["reason"]) == ("refused", "exact_duplicate")

    async def test_a_change_in_the_same_call_ends_the_replay(
        self, db_url: str, engine: AsyncEngine
    ) -> None:
        """collect, book, collect again in one call: the second collect sees the booking."""
        await apply_test_tenants(engine)
        settings = Settings(
            database_url=db_url, retell_api_key=RETELL_KEY, reconcile_interval_seconds=0
        )
        async with lifespan_client(create_app(settings, clock=lambda: NOW)) as client:
            phone = Phone(client)
            first = await phone.call("collect_appointment_data", ARGS)
            assert (await phone.call("book_appointment", ARGS))["status"] == "booked"
            again = await phone.call("collect_appointment_data", ARGS)
        assert first["status"] == "ok"
        assert (again["status"], again["reason"]) == ("refused", "exact_duplicate")
