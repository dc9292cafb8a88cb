"""Parallel requests in one process (many DB connections at once): count the outcomes."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.store.appointments import AppointmentRepository
from slotguard.store.db import session_factory
from slotguard.store.tables import DuplicateDecisionRow, IdempotencyKeyRow
from tests.factories import count_active
from tests.retell.conftest import Phone

SLOT = {
    "customer_name": "Max",
    "service": "Herrenhaarschnitt",
    "date": "2026-11-27",
    "time": "10:00",
}


class TestSameCaller:
    """Many requests of one caller at once."""

    async def test_fifty_calls_one_booking(self, phone: Phone, engine: AsyncEngine) -> None:
        """50 parallel bookings of one slot from 50 calls: exactly one booked, the rest refused."""
        replies = await asyncio.gather(
            *(phone.call("book_appointment", SLOT, call_id=f"call-{i}") for i in range(50))
        )
        statuses = Counter((r["status"], r.get("reason")) for r in replies)
        assert statuses[("booked", None)] == 1, statuses
        assert statuses[("refused", "exact_duplicate")] == 49, statuses
        assert await count_active(engine) == 1

    async def test_twenty_repeats_identical(self, phone: Phone, engine: AsyncEngine) -> None:
        """20 parallel repeats of one call and its arguments: identical replies, one booking."""
        replies = await asyncio.gather(*(phone.call("book_appointment", SLOT) for _ in range(20)))
        assert all(r == replies[0] for r in replies)
        assert replies[0]["status"] == "booked"
        assert await count_active(engine) == 1

    async def test_overlapping_services_at_most_one(
        self, phone: Phone, engine: AsyncEngine
    ) -> None:
        """Parallel overlapping requests for different services: at most one is booked."""
        wishes = [
            {**SLOT, "service": "Färben", "time": "10:00", "confirm_duplicate": True},
            {**SLOT, "service": "Herrenhaarschnitt", "time": "10:30", "confirm_duplicate": True},
            {**SLOT, "service": "Bartpflege", "time": "10:45", "confirm_duplicate": True},
        ] * 5
        replies = await asyncio.gather(
            *(phone.call("book_appointment", w, call_id=f"c{i}") for i, w in enumerate(wishes))
        )
        booked = [r for r in replies if r["status"] == "booked"]
        assert len(booked) == 1, Counter(r["status"] for r in replies)
        assert {r["reason"] for r in replies if r["status"] != "booked"} <= {
            "overlapping",
            "exact_duplicate",
        }
        assert await count_active(engine) == 1


class TestRepeatedQuestion:
    """collect_appointment_data repeated at once: claim, checks and reply in one transaction."""

    async def test_twenty_repeats_one_decision(self, phone: Phone, engine: AsyncEngine) -> None:
        """The caller already has 10:00; 20 parallel repeats of one question about 12:00 that
        day all hear the same warning, and the warning is recorded once, not 20 times."""
        booked = await phone.call("book_appointment", SLOT, call_id="first-call")
        assert booked["status"] == "booked"
        later = {**SLOT, "time": "12:00"}
        replies = await asyncio.gather(
            *(phone.call("collect_appointment_data", later, call_id="second") for _ in range(20))
        )
        assert all(r == replies[0] for r in replies), Counter(r["status"] for r in replies)
        assert (replies[0]["status"], replies[0]["reason"]) == ("warning", "same_day")
        assert "10 Uhr" in replies[0]["message"]
        async with session_factory(engine)() as session:
            decisions = await session.scalar(
                select(func.count())
                .select_from(DuplicateDecisionRow)
                .where(DuplicateDecisionRow.function == "collect_appointment_data")
            )
            keys = await session.scalar(
                select(func.count())
                .select_from(IdempotencyKeyRow)
                .where(IdempotencyKeyRow.function == "collect_appointment_data")
            )
        assert (decisions, keys) == (1, 1)


class TestDifferentCallers:
    """Different callers do not block or refuse each other."""

    async def test_back_to_back_and_other_slots(self, phone: Phone, engine: AsyncEngine) -> None:
        """Ten callers booking ten different back-to-back slots in parallel all succeed."""
        times = [f"{h:02d}:{m:02d}" for h in (9, 10, 11, 12, 13) for m in (0, 30)]
        replies = await asyncio.gather(
            *(
                phone.call(
                    "book_appointment",
                    {**SLOT, "time": t},
                    call_id=f"c{i}",
                    from_number=f"+491511000{i:04d}",
                )
                for i, t in enumerate(times)
            )
        )
        assert [r["status"] for r in replies] == ["booked"] * 10
        assert await count_active(engine) == 10

    async def test_same_slot_two_callers_local_calendar(
        self, phone: Phone, engine: AsyncEngine
    ) -> None:
        """Two callers racing for one slot of the one-host local calendar: one books it."""
        replies = await asyncio.gather(
            *(
                phone.call(
                    "book_appointment", SLOT, call_id=f"c{i}", from_number=f"+491512000{i:04d}"
                )
                for i in range(10)
            )
        )
        statuses = Counter(r["status"] for r in replies)
        assert statuses == {"booked": 1, "unavailable": 9}
        assert await count_active(engine) == 1


class TestCustomerLock:
    """The per-customer advisory lock is per customer (PostgreSQL)."""

    async def test_lock_does_not_block_other_customers(self, pg_engine: AsyncEngine) -> None:
        """While one customer's lock is held, another customer's lock is granted at once."""
        sessions = session_factory(pg_engine)
        async with sessions() as holder, holder.begin():
            await AppointmentRepository(holder).lock_customer(1, 1)

            async def lock(customer: int) -> None:
                async with sessions() as s, s.begin():
                    await AppointmentRepository(s).lock_customer(1, customer)

            await asyncio.wait_for(lock(2), timeout=2)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(lock(1), timeout=0.5)
