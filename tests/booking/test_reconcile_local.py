"""The reconciler on the local calendar: a crash between calendar and settle loses nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.booking import reconcile
from slotguard.booking.context import Context
from slotguard.store.appointments import MAX_RESENDS, AppointmentRepository
from slotguard.store.db import session_factory
from slotguard.store.tables import AppointmentRow, DuplicateDecisionRow
from tests import factories as f
from tests.retell.conftest import NOW

START = NOW + timedelta(days=2)


async def _stuck(engine: AsyncEngine, confirmed: bool) -> int:
    """A pending row as a crash leaves it: confirmed by the calendar or not."""
    w = await f.world(engine)
    earlier = NOW - timedelta(minutes=10)
    ids = (w["company"].id, w["customer"].id, w["cut"].id)
    row = f.appointment(*ids, START, status="pending", created_at=earlier, updated_at=earlier)
    await f.add(engine, row)
    if confirmed:
        async with session_factory(engine)() as s, s.begin():
            await AppointmentRepository(s).confirm_in_calendar(row.reservation_key, "local-x")
    return int(row.id)


def _ctx(engine: AsyncEngine) -> Context:
    return Context(engine=engine, sessions=session_factory(engine), clock=lambda: NOW)


class TestReconcileLocal:
    """reconcile.run_once against the local calendar."""

    async def test_confirmed_pending_becomes_booked(self, engine: AsyncEngine) -> None:
        """A pending row the calendar confirmed before the crash is settled as booked."""
        appointment_id = await _stuck(engine, confirmed=True)
        report = await reconcile.run_once(_ctx(engine), grace=timedelta(minutes=2))
        assert (report.booked, report.failed) == (1, 0)
        async with session_factory(engine)() as s:
            row = await s.get(AppointmentRow, appointment_id)
            layer3 = await s.scalar(select(DuplicateDecisionRow.reason))
        assert row is not None and row.status == "booked"
        assert layer3 == "reservation_matched"

    async def test_absent_pending_is_sent_once_more(self, engine: AsyncEngine) -> None:
        """A pending row the calendar never saw still holds its slot: sent again, booked."""
        appointment_id = await _stuck(engine, confirmed=False)
        report = await reconcile.run_once(_ctx(engine), grace=timedelta(minutes=2))
        assert (report.booked, report.failed) == (1, 0)
        async with session_factory(engine)() as s:
            row = await s.get(AppointmentRow, appointment_id)
        assert row is not None and row.status == "booked" and row.resent_at is not None
        assert row.resends == 1
        assert not row.needs_callback

    async def test_absent_after_an_unanswered_resend_is_sent_again(
        self, engine: AsyncEngine
    ) -> None:
        """A resend that got no clear answer (a 500, a timeout) and is still absent once it
        can no longer land: sent again, booked — not failed with its slot free."""
        appointment_id = await _stuck(engine, confirmed=False)
        async with session_factory(engine)() as s, s.begin():
            row = await s.get(AppointmentRow, appointment_id)
            assert row is not None
            row.resent_at, row.resends = NOW - timedelta(minutes=5), 1
        report = await reconcile.run_once(_ctx(engine), grace=timedelta(minutes=2))
        assert (report.booked, report.failed) == (1, 0)
        async with session_factory(engine)() as s:
            row = await s.get(AppointmentRow, appointment_id)
        assert row is not None and row.status == "booked" and row.resends == 2

    async def test_no_second_resend_while_one_may_still_land(self, engine: AsyncEngine) -> None:
        """Another reconciler resent it 30 s ago (inside the grace): this one finds nothing
        yet, but sends nothing either; the row stays pending for the next round."""
        appointment_id = await _stuck(engine, confirmed=False)
        async with session_factory(engine)() as s, s.begin():
            row = await s.get(AppointmentRow, appointment_id)
            assert row is not None
            row.resent_at, row.resends = NOW - timedelta(seconds=30), 1
        report = await reconcile.run_once(_ctx(engine), grace=timedelta(minutes=2))
        assert (report.booked, report.failed, report.unreachable) == (0, 0, 1)
        async with session_factory(engine)() as s:
            row = await s.get(AppointmentRow, appointment_id)
        assert row is not None and (row.status, row.resends) == ("pending", 1)

    async def test_absent_after_its_last_resend_fails(self, engine: AsyncEngine) -> None:
        """Sent again MAX_RESENDS times already and still absent: failed, slot released."""
        appointment_id = await _stuck(engine, confirmed=False)
        async with session_factory(engine)() as s, s.begin():
            row = await s.get(AppointmentRow, appointment_id)
            assert row is not None
            row.resent_at, row.resends = NOW - timedelta(minutes=5), MAX_RESENDS
        report = await reconcile.run_once(_ctx(engine), grace=timedelta(minutes=2))
        assert (report.booked, report.failed) == (0, 1)
        async with session_factory(engine)() as s:
            row = await s.get(AppointmentRow, appointment_id)
        assert row is not None and row.status == "failed"

    async def test_fresh_pending_is_left_alone(self, engine: AsyncEngine) -> None:
        """A pending row younger than the grace period may still be in flight: untouched."""
        await _stuck(engine, confirmed=False)
        report = await reconcile.run_once(_ctx(engine), grace=timedelta(minutes=30))
        assert (report.booked, report.failed) == (0, 0)

    async def test_two_reconcilers_settle_once(self, engine: AsyncEngine) -> None:
        """Two rounds at once settle each row exactly once (leases)."""
        await _stuck(engine, confirmed=True)
        reports = await asyncio.gather(
            *(reconcile.run_once(_ctx(engine), grace=timedelta(minutes=2)) for _ in range(2))
        )
        assert sum(r.booked for r in reports) == 1
