"""store.driver: the same rows as through a session, and the same errors, on both engines."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import exc, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.api.errors import database_unavailable as answered_503
from slotguard.domain import TimeRange
from slotguard.store.appointments import (
    LONGEST_APPOINTMENT,
    AppointmentRepository,
    calendar_busy_by_host,
    for_rules_on,
)
from slotguard.store.db import database_unavailable, session_factory, statement_session_factory
from slotguard.store.driver import Driver
from slotguard.store.tables import CustomerRow
from slotguard.tenants import MAX_SERVICE_MINUTES
from tests import factories

START = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
_ADD_PERSON = insert(CustomerRow.__table__)  # type: ignore[arg-type]
_BACKEND = select(func.pg_backend_pid())


def _driver(engine: AsyncEngine) -> Driver:
    return Driver(engine, statement_session_factory(engine))


async def _world(engine: AsyncEngine) -> tuple[int, int, int]:
    """A company, two people, and three appointments of a service with a 15-minute buffer."""
    co = await factories.add(engine, factories.company())
    cut = await factories.add(
        engine, factories.service(co.id, rules={"buffer_minutes": 15}, duration_minutes=30)
    )
    max_id = (await factories.add(engine, factories.customer(co.id))).id
    eva_id = (await factories.add(engine, factories.customer(co.id))).id
    for person, hours, staff in ((max_id, 0, "anna"), (max_id, 2, "jonas"), (eva_id, 1, None)):
        start = START + timedelta(hours=hours)
        await factories.add(
            engine, factories.appointment(co.id, person, cut.id, start, staff_key=staff)
        )
    return co.id, max_id, eva_id


class TestTheSameRows:
    """What the first look and the local calendar read on a lane equals the session's read."""

    async def test_layer_reads_for_one_and_for_two_people(self, engine: AsyncEngine) -> None:
        company, max_id, eva_id = await _world(engine)
        window = TimeRange(START - timedelta(days=1), START + timedelta(days=1))
        for people in ([max_id], [max_id, eva_id], [eva_id]):  # one list length, then another
            async with _driver(engine).lane() as lane:
                driven = await for_rules_on(lane, company, people, window)
            async with session_factory(engine)() as session:
                sessioned = await AppointmentRepository(session).for_rules(company, people, window)
            assert driven == sessioned and driven, people
            assert {a.customer_id for a in driven} == set(people)

    async def test_busy_reads_carry_the_service_rules(self, engine: AsyncEngine) -> None:
        """The JSON column arrives decoded: the buffer after each appointment can be read."""
        company, _max, _eva = await _world(engine)
        async with _driver(engine).lane() as lane:
            busy = await calendar_busy_by_host(
                lane, company, TimeRange(START, START + timedelta(hours=4))
            )
        assert sorted((key or "", span.start, rules) for key, span, rules in busy) == [
            ("", START + timedelta(hours=1), {"buffer_minutes": 15}),
            ("anna", START, {"buffer_minutes": 15}),
            ("jonas", START + timedelta(hours=2), {"buffer_minutes": 15}),
        ]


class TestCalendarReadsOfAWindow:
    """A window's read sees what reaches into it, not the company's whole past."""

    async def test_the_longest_service_from_the_evening_before_still_blocks(
        self, engine: AsyncEngine
    ) -> None:
        """A 12-hour service (the longest the tenants file allows) from 20:00 the day before
        holds the early morning; years of earlier appointments are read by neither path."""
        assert timedelta(minutes=MAX_SERVICE_MINUTES) < LONGEST_APPOINTMENT
        co = await factories.add(engine, factories.company())
        long = await factories.add(engine, factories.service(co.id, duration_minutes=720))
        person = (await factories.add(engine, factories.customer(co.id))).id
        night = START - timedelta(hours=13)  # 20:00 the evening before, until 08:00
        await factories.add(engine, factories.appointment(co.id, person, long.id, night, 720))
        for years in (1, 3):  # old history, its time long over
            old = START - timedelta(days=365 * years)
            await factories.add(engine, factories.appointment(co.id, person, long.id, old, 720))
        window = TimeRange(START - timedelta(hours=2), START)  # 07:00–09:00
        async with _driver(engine).lane() as lane:
            driven = await calendar_busy_by_host(lane, co.id, window)
        async with session_factory(engine)() as session:
            sessioned = await AppointmentRepository(session).calendar_busy(
                co.id, window, staff_key=None
            )
        assert [span for _key, span, _rules in driven] == [
            TimeRange(night, night + timedelta(hours=12))
        ]
        assert [span for span, _rules in sessioned] == [span for _k, span, _r in driven]


class TestTheSameErrors:
    """Errors come out as SQLAlchemy's, so the API answers them as before."""

    async def test_a_unique_violation_is_an_integrity_error(self, engine: AsyncEngine) -> None:
        co = await factories.add(engine, factories.company())
        phone = "+4915112345678"
        person = {
            "company_id": co.id, "phone_e164": phone, "household_phone": phone,
            "created_at": START, "updated_at": START,
        }  # fmt: skip
        async with _driver(engine).lane() as lane:
            await lane.rows(_ADD_PERSON, person)
        with pytest.raises(exc.IntegrityError) as raised:
            async with _driver(engine).lane() as lane:
                await lane.rows(_ADD_PERSON, person)
        assert not database_unavailable(raised.value)

    async def test_a_dropped_connection_is_replaced(self, engine: AsyncEngine) -> None:
        """The server ends our connection: a 503-kind error, invalidated; the next lane works."""
        if engine.dialect.name != "postgresql":
            pytest.skip("a SQLite file has no connection to drop")
        driver = _driver(engine)
        with pytest.raises(exc.OperationalError) as raised:
            async with driver.lane() as lane:
                [row] = await lane.rows(_BACKEND, {})
                async with engine.connect() as admin:
                    await admin.execute(text(f"SELECT pg_terminate_backend({int(row[0])})"))
                await asyncio.sleep(0.1)
                await lane.rows(_BACKEND, {})
        assert raised.value.connection_invalidated
        assert database_unavailable(raised.value) and answered_503(raised.value)
        async with driver.lane() as lane:
            [again] = await lane.rows(_BACKEND, {})
        assert again[0] != row[0]


class TestSharedLane:
    """``Driver.shared``: one task's lanes in the block are one connection, checked out once."""

    async def test_one_task_shares_and_others_open_their_own(self, engine: AsyncEngine) -> None:
        """Two lanes of the task read on one backend; a task started meanwhile reads on another
        at the same time; after the block every connection is back in the pool."""
        if engine.dialect.name != "postgresql":
            pytest.skip("SQLite's lanes are transactions of their own; nothing is shared")
        driver = _driver(engine)
        pool = engine.sync_engine.pool

        async def backend() -> int:
            async with driver.lane() as lane:
                [row] = await lane.rows(_BACKEND, {})
                await asyncio.sleep(0.05)  # the other task reads meanwhile
                return int(row[0])

        async with driver.shared():
            first = await backend()
            other = asyncio.create_task(backend())
            second = await backend()
            third = await other
            assert pool.checkedout() == 1  # type: ignore[attr-defined]
        assert first == second != third
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
