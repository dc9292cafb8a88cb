"""Time is hard: DST switches and midnight in whole conversations (company zone Berlin)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.testing.asgi import lifespan_client
from tests.retell.conftest import RETELL_KEY, Phone, apply_test_tenants

PhoneAt = Callable[[datetime], AbstractAsyncContextManager[Phone]]
CUT = {"customer_name": "Max", "service": "Herrenhaarschnitt"}
NIGHT = "agent_night"  # the tenant open around the clock


@pytest.fixture
async def phone_at(db_url: str, engine: AsyncEngine) -> PhoneAt:
    """A Retell client whose server clock stands at the given instant."""
    await apply_test_tenants(engine)

    @asynccontextmanager
    async def at(now: datetime) -> AsyncIterator[Phone]:
        settings = Settings(
            database_url=db_url, retell_api_key=RETELL_KEY, reconcile_interval_seconds=0
        )
        async with lifespan_client(create_app(settings, clock=lambda: now)) as client:
            yield Phone(client)

    return at


class TestDaylightSaving:
    """Requests around the spring and autumn switches."""

    async def test_tomorrow_across_spring_forward(self, phone_at: PhoneAt) -> None:
        """On 28 March 2026 (CET), "morgen 10 Uhr" is 10:00 CEST (+02:00)."""
        async with phone_at(datetime(2026, 3, 28, 12, 0, tzinfo=UTC)) as phone:
            reply = await phone.call(
                "book_appointment", {**CUT, "date": "morgen", "time": "10 Uhr"}
            )
        assert reply["status"] == "booked"
        assert reply["requested_start"] == "2026-03-29T10:00:00+02:00"

    async def test_nonexistent_time_in_gap(self, phone_at: PhoneAt) -> None:
        """02:30 on the spring-forward night does not exist: a clear invalid_argument."""
        async with phone_at(datetime(2026, 3, 27, 12, 0, tzinfo=UTC)) as phone:
            reply = await phone.call(
                "collect_appointment_data", {**CUT, "date": "29.3.", "time": "02:30"}
            )
        assert (reply["reason"], reply["problem"]) == ("invalid_argument", "nonexistent_time")
        assert "Zeitumstellung" in reply["message"]

    async def test_daily_limit_on_25_hour_day(self, phone_at: PhoneAt) -> None:
        """On the 25-hour autumn day, 00:30 and 23:30 local count as the same day."""
        async with phone_at(datetime(2026, 10, 20, 12, 0, tzinfo=UTC)) as phone:
            for i, hour in enumerate(("00:30", "12:00", "23:30")):
                args = {**CUT, "date": "25.10.2026", "time": hour, "confirm_duplicate": True}
                booked = await phone.call("book_appointment", args, call_id=f"c{i}", agent_id=NIGHT)
                assert booked["status"] == "booked", booked
            args = {**CUT, "date": "25.10.2026", "time": "15:00", "confirm_duplicate": True}
            fourth = await phone.call("book_appointment", args, call_id="c9", agent_id=NIGHT)
        assert (fourth["status"], fourth["reason"]) == ("refused", "daily_limit")
        assert [a["start"][-6:] for a in fourth["existing_appointments"]] == [
            "+02:00",
            "+01:00",
            "+01:00",
        ]


class TestMidnight:
    """The local day, not the UTC date."""

    async def test_same_day_is_local(self, phone_at: PhoneAt) -> None:
        """23:30 and 00:30 Berlin are different local days (same UTC date): no same_day warning."""
        async with phone_at(datetime(2026, 11, 20, 12, 0, tzinfo=UTC)) as phone:
            first = {**CUT, "service": "Bartpflege", "date": "2026-11-26", "time": "23:30"}
            booked = await phone.call("book_appointment", first, agent_id=NIGHT)
            assert booked["status"] == "booked", booked
            second = {**CUT, "date": "2026-11-27", "time": "00:30"}
            reply = await phone.call(
                "collect_appointment_data", second, call_id="c2", agent_id=NIGHT
            )
        assert reply["status"] == "ok", reply

    async def test_same_utc_date_different_local_day_warns(self, phone_at: PhoneAt) -> None:
        """00:30 and 22:00 Berlin on 27 Nov are the same local day although UTC dates differ."""
        async with phone_at(datetime(2026, 11, 20, 12, 0, tzinfo=UTC)) as phone:
            first = {**CUT, "date": "2026-11-27", "time": "00:30"}
            assert (await phone.call("book_appointment", first, agent_id=NIGHT))[
                "status"
            ] == "booked"
            later = {**CUT, "service": "Bartpflege", "date": "2026-11-27", "time": "22:00"}
            reply = await phone.call(
                "collect_appointment_data", later, call_id="c2", agent_id=NIGHT
            )
        assert (reply["status"], reply["reason"]) == ("warning", "same_day")
