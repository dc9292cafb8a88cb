"""The database itself refuses duplicates: partial unique index (both engines), exclusion (PG)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import factories as f

START = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


class TestActiveSlotIndex:
    """The partial unique index on (customer, service, start) of slot-holding appointments."""

    async def test_refuses_second_active_appointment(self, engine: AsyncEngine) -> None:
        """A second active appointment with the same customer, service and start is refused."""
        w = await f.world(engine)
        ids = (w["company"].id, w["customer"].id, w["cut"].id)
        await f.add(engine, f.appointment(*ids, START))
        with pytest.raises(IntegrityError, match=r"appointments_active_slot_key|UNIQUE"):
            await f.add(engine, f.appointment(*ids, START, status="pending"))

    @pytest.mark.parametrize("status", ["cancelled", "failed", "rescheduled", "completed"])
    async def test_accepts_after_first_is_inactive(self, engine: AsyncEngine, status: str) -> None:
        """Once the first appointment is inactive the same slot can be booked again."""
        w = await f.world(engine)
        ids = (w["company"].id, w["customer"].id, w["cut"].id)
        await f.add(engine, f.appointment(*ids, START, status=status))
        again = await f.add(engine, f.appointment(*ids, START))
        assert again.id is not None

    async def test_accepts_after_soft_delete(self, engine: AsyncEngine) -> None:
        """A soft-deleted appointment no longer holds its slot."""
        w = await f.world(engine)
        ids = (w["company"].id, w["customer"].id, w["cut"].id)
        await f.add(engine, f.appointment(*ids, START, deleted_at=START))
        again = await f.add(engine, f.appointment(*ids, START))
        assert again.id is not None

    async def test_other_customer_may_take_same_slot(self, engine: AsyncEngine) -> None:
        """The index is per customer: two customers can hold the same service and start."""
        w = await f.world(engine)
        other = await f.add(engine, f.customer(w["company"].id))
        await f.add(engine, f.appointment(w["company"].id, w["customer"].id, w["cut"].id, START))
        second = await f.add(engine, f.appointment(w["company"].id, other.id, w["cut"].id, START))
        assert second.id is not None

    async def test_calcom_uid_is_unique(self, engine: AsyncEngine) -> None:
        """Two local appointments can never mirror the same Cal.com booking."""
        w = await f.world(engine)
        other = await f.add(engine, f.customer(w["company"].id))
        co, cut = w["company"].id, w["cut"].id
        await f.add(
            engine, f.appointment(co, w["customer"].id, cut, START, calcom_booking_uid="u1")
        )
        with pytest.raises(IntegrityError):
            later = START + timedelta(days=1)
            await f.add(engine, f.appointment(co, other.id, cut, later, calcom_booking_uid="u1"))


class TestNoOverlapExclusion:
    """PostgreSQL's exclusion constraint against overlapping active appointments of a customer."""

    async def test_refuses_overlap_across_services(self, pg_engine: AsyncEngine) -> None:
        """An overlapping active appointment of the same customer is refused, any service."""
        w = await f.world(pg_engine)
        co, person = w["company"].id, w["customer"].id
        await f.add(pg_engine, f.appointment(co, person, w["color"].id, START, minutes=90))
        with pytest.raises(IntegrityError, match="appointments_no_overlap_excl"):
            later = START + timedelta(minutes=60)
            await f.add(pg_engine, f.appointment(co, person, w["cut"].id, later))

    async def test_allows_back_to_back(self, pg_engine: AsyncEngine) -> None:
        """Half-open ranges: an appointment may start exactly when the previous one ends."""
        w = await f.world(pg_engine)
        co, person = w["company"].id, w["customer"].id
        await f.add(pg_engine, f.appointment(co, person, w["cut"].id, START))
        nxt = await f.add(
            pg_engine, f.appointment(co, person, w["color"].id, START + timedelta(minutes=30))
        )
        assert nxt.id is not None

    async def test_allows_overlap_with_cancelled(self, pg_engine: AsyncEngine) -> None:
        """Only slot-holding appointments take part in the exclusion."""
        w = await f.world(pg_engine)
        co, person = w["company"].id, w["customer"].id
        await f.add(pg_engine, f.appointment(co, person, w["cut"].id, START, status="cancelled"))
        row = await f.add(pg_engine, f.appointment(co, person, w["color"].id, START))
        assert row.id is not None

    async def test_flagged_external_duplicate_is_kept(self, pg_engine: AsyncEngine) -> None:
        """A booking kept as a flagged external duplicate does not trip the constraint."""
        w = await f.world(pg_engine)
        co, person = w["company"].id, w["customer"].id
        first = await f.add(pg_engine, f.appointment(co, person, w["cut"].id, START))
        kept = await f.add(
            pg_engine,
            f.appointment(co, person, w["cut"].id, START, duplicate_of_id=first.id),
        )
        assert kept.duplicate_of_id == first.id

    async def test_other_customers_may_overlap(self, pg_engine: AsyncEngine) -> None:
        """The exclusion is per customer."""
        w = await f.world(pg_engine)
        other = await f.add(pg_engine, f.customer(w["company"].id))
        co = w["company"].id
        await f.add(pg_engine, f.appointment(co, w["customer"].id, w["cut"].id, START))
        row = await f.add(pg_engine, f.appointment(co, other.id, w["cut"].id, START))
        assert row.id is not None
