"""The one-query path of Layers 1 and 2: `examine` over real rows equals the rules over all rows."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.booking.detect import Findings, examine
from slotguard.domain import (
    Appointment,
    BookingRequest,
    Company,
    Decision,
    Reason,
    early_warning,
    refusal,
    search_window,
)
from slotguard.store.appointments import AppointmentRepository, to_domain
from slotguard.store.companies import company_from_row
from slotguard.store.db import session_factory
from slotguard.store.tables import AppointmentRow
from tests import factories as f

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
INDEX = "ix_appointments_company_id_customer_id_starts_at"


def berlin(month: int, day: int, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    """A Berlin wall-clock time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


@dataclass
class World:
    """A Berlin company with two services and one customer, committed to the database."""

    engine: AsyncEngine
    company: Company
    customer_id: int
    phone: str
    cut: int  # 30 minutes
    color: int  # 90 minutes

    async def book(self, start: datetime, minutes: int = 30, **overrides: Any) -> int:
        """Insert an appointment of the customer (cut, booked, unless overridden)."""
        overrides.setdefault("service_id", self.cut)
        overrides.setdefault("customer_id", self.customer_id)
        overrides.setdefault("company_id", self.company.id)
        row = f.appointment(
            overrides.pop("company_id"),
            overrides.pop("customer_id"),
            overrides.pop("service_id"),
            start.astimezone(UTC),
            minutes,
            **overrides,
        )
        return int((await f.add(self.engine, row)).id)

    def request(
        self, start: datetime, minutes: int = 30, *, service: int | None = None, **kw: Any
    ) -> BookingRequest:
        """A request of the customer as the booking layer builds it (company zone)."""
        end = (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(start.tzinfo)
        service_id = self.cut if service is None else service
        return BookingRequest(self.company.id, self.customer_id, service_id, start, end, **kw)

    async def examine(self, request: BookingRequest, now: datetime = NOW) -> Findings:
        """Both layers through the one-query store path."""
        async with session_factory(self.engine)() as session:
            return await examine(session, self.company, request, now)

    async def all_rows(self) -> list[Appointment]:
        """Every row of the customer in this company, whatever its status or age."""
        async with session_factory(self.engine)() as session:
            rows = await session.scalars(
                select(AppointmentRow).where(
                    AppointmentRow.company_id == self.company.id,
                    AppointmentRow.customer_id == self.customer_id,
                )
            )
            return [to_domain(row) for row in rows]

    async def pure(self, request: BookingRequest, now: datetime = NOW) -> tuple[Decision, Decision]:
        """Both layers as pure functions over all of the customer's rows."""
        rows = await self.all_rows()
        co = self.company
        return (
            early_warning(
                request, rows, now=now, tz=co.tz, window_days=co.same_service_window_days
            ),
            refusal(request, rows, tz=co.tz, daily_limit=co.max_appointments_per_day),
        )


def outcome(decision: Decision) -> tuple[Any, ...]:
    """A decision without the row objects: layer, result, reason, action and the ids named."""
    ids = tuple(a.id for a in decision.existing)
    return (decision.layer, decision.result, decision.reason, decision.action, ids)


async def world(engine: AsyncEngine, **company: Any) -> World:
    """A committed company (Berlin, limit 3, window 30 unless overridden) and its customer."""
    rows = await f.world(engine, **company)
    return World(
        engine=engine,
        company=company_from_row(rows["company"]),
        customer_id=rows["customer"].id,
        phone=rows["customer"].phone_e164,
        cut=rows["cut"].id,
        color=rows["color"].id,
    )


async def agree(
    w: World, request: BookingRequest, now: datetime = NOW
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Assert the store path equals the pure rules over all rows; return (warning, refusal).

    Also checks what was fetched: exactly the slot-holding rows starting inside the window.
    """
    found = await w.examine(request, now)
    warning, refused = await w.pure(request, now)
    assert outcome(found.warning) == outcome(warning)
    assert outcome(found.refusal) == outcome(refused)
    co = w.company
    window = search_window(request, now=now, tz=co.tz, window_days=co.same_service_window_days)
    expected = {
        a.id
        for a in await w.all_rows()
        if a.is_active and window.start <= a.span.start < window.end
    }
    assert {a.id for a in found.existing} == expected
    return _short(found.warning), _short(found.refusal)


def _short(decision: Decision) -> tuple[Any, ...]:
    return (decision.reason, tuple(a.id for a in decision.existing))


CLEAR = (Reason.NONE, ())
LAYER_1_AND_2_REASONS = {
    Reason.NONE,
    Reason.SAME_DAY,
    Reason.SAME_SERVICE_UPCOMING,
    Reason.EXACT_DUPLICATE,
    Reason.OVERLAPPING,
    Reason.DAILY_LIMIT,
}


class TestExamineMatchesPureRules:
    """`examine` (one query over the search window) decides exactly as the rules over all rows."""

    async def test_exact_duplicate(self, engine: AsyncEngine) -> None:
        """The same service and start is refused and warned about, naming the row."""
        w = await world(engine)
        row = await w.book(berlin(12, 2, 10))
        warning, refused = await agree(w, w.request(berlin(12, 2, 10)))
        assert (warning, refused) == ((Reason.SAME_DAY, (row,)), (Reason.EXACT_DUPLICATE, (row,)))

    async def test_overlap_with_another_service(self, engine: AsyncEngine) -> None:
        """A 90-minute colour at 09:30 blocks a cut at 10:00."""
        w = await world(engine)
        row = await w.book(berlin(12, 2, 9, 30), 90, service_id=w.color)
        _, refused = await agree(w, w.request(berlin(12, 2, 10)))
        assert refused == (Reason.OVERLAPPING, (row,))

    async def test_back_to_back_is_allowed(self, engine: AsyncEngine) -> None:
        """A request starting when the row ends is not refused, only warned about."""
        w = await world(engine)
        row = await w.book(berlin(12, 2, 9, 30))
        warning, refused = await agree(w, w.request(berlin(12, 2, 10)))
        assert (warning, refused) == ((Reason.SAME_DAY, (row,)), CLEAR)

    async def test_overlap_from_the_previous_local_day(self, engine: AsyncEngine) -> None:
        """A row from 23:30 to 00:30 blocks 00:00 the next day, though it is another day."""
        w = await world(engine, max_appointments_per_day=1)
        row = await w.book(berlin(12, 2, 23, 30), 60, service_id=w.color)
        warning, refused = await agree(w, w.request(berlin(12, 3, 0, 0)))
        assert (warning, refused) == (CLEAR, (Reason.OVERLAPPING, (row,)))

    async def test_midnight_splits_local_days_not_utc_dates(self, engine: AsyncEngine) -> None:
        """23:30 and 00:30 Berlin share a UTC date but are different local days."""
        w = await world(engine, max_appointments_per_day=1)
        await w.book(berlin(12, 2, 23, 30), service_id=w.color)
        assert await agree(w, w.request(berlin(12, 3, 0, 30))) == (CLEAR, CLEAR)

    async def test_same_local_day_across_utc_dates(self, engine: AsyncEngine) -> None:
        """00:30 and 23:00 Berlin are one local day although their UTC dates differ."""
        w = await world(engine, max_appointments_per_day=1)
        row = await w.book(berlin(12, 3, 0, 30), service_id=w.color)
        warning, refused = await agree(w, w.request(berlin(12, 3, 23)))
        assert (warning, refused) == ((Reason.SAME_DAY, (row,)), (Reason.DAILY_LIMIT, (row,)))

    @pytest.mark.parametrize("day", [(3, 29), (10, 25)], ids=["23h", "25h"])
    async def test_daily_limit_on_dst_days(self, engine: AsyncEngine, day: tuple[int, int]) -> None:
        """The first and last minutes of a 23- or 25-hour day fill its limit; neighbours don't."""
        month, dom = day
        w = await world(engine, max_appointments_per_day=2)
        first = await w.book(berlin(month, dom, 0, 5))
        last = await w.book(berlin(month, dom, 23, 30))
        await w.book(berlin(month, dom - 1, 23, 30))
        await w.book(berlin(month, dom + 1, 0, 30))
        now = berlin(month, dom, 0) - timedelta(days=40)
        warning, refused = await agree(w, w.request(berlin(month, dom, 12)), now)
        assert refused == (Reason.DAILY_LIMIT, (first, last))
        assert warning == (Reason.SAME_DAY, (first, last))

    async def test_repeated_hour_of_a_fall_back(self, engine: AsyncEngine) -> None:
        """The second 02:30 of 25 October duplicates its own row, not the first 02:30's."""
        w = await world(engine, max_appointments_per_day=2)
        first = await w.book(berlin(10, 25, 2, 30))  # 00:30 UTC, summer time
        second = await w.book(berlin(10, 25, 2, 30, fold=1))  # 01:30 UTC, winter time
        _, refused = await agree(w, w.request(berlin(10, 25, 2, 30, fold=1)))
        assert refused == (Reason.EXACT_DUPLICATE, (second,))
        _, refused = await agree(w, w.request(berlin(10, 25, 3, 0), 90, service=w.color))
        assert refused == (Reason.DAILY_LIMIT, (first, second))

    async def test_other_customers_and_companies_never_count(self, engine: AsyncEngine) -> None:
        """Rows of another caller, and of the same phone number at another company, are ignored."""
        w = await world(engine, max_appointments_per_day=1)
        other = await f.add(engine, f.customer(w.company.id))
        await w.book(berlin(12, 2, 10), customer_id=other.id)
        elsewhere = await f.world(engine)
        twin = await f.add(engine, f.customer(elsewhere["company"].id, phone_e164=w.phone))
        await w.book(
            berlin(12, 2, 10),
            company_id=elsewhere["company"].id,
            customer_id=twin.id,
            service_id=elsewhere["cut"].id,
        )
        assert await agree(w, w.request(berlin(12, 2, 10))) == (CLEAR, CLEAR)

    @pytest.mark.parametrize(
        "overrides",
        [
            {"status": "cancelled"},
            {"status": "rescheduled"},
            {"status": "no_show"},
            {"status": "completed"},
            {"status": "failed"},
            {"deleted_at": NOW},
        ],
        ids=["cancelled", "rescheduled", "no_show", "completed", "failed", "soft-deleted"],
    )
    async def test_inactive_and_deleted_rows_never_count(
        self, engine: AsyncEngine, overrides: dict[str, Any]
    ) -> None:
        """A cancelled, moved, missed, done, failed or soft-deleted row holds no slot."""
        w = await world(engine, max_appointments_per_day=1)
        await w.book(berlin(12, 2, 10), **overrides)
        await w.book(berlin(12, 12, 10), **overrides)
        assert await agree(w, w.request(berlin(12, 2, 10))) == (CLEAR, CLEAR)

    @pytest.mark.parametrize("status", ["pending", "scheduled", "confirmed", "booked"])
    async def test_active_rows_count(self, engine: AsyncEngine, status: str) -> None:
        """Every active status holds its slot."""
        w = await world(engine)
        row = await w.book(berlin(12, 2, 10), status=status)
        _, refused = await agree(w, w.request(berlin(12, 2, 10)))
        assert refused == (Reason.EXACT_DUPLICATE, (row,))

    async def test_same_service_upcoming_within_the_window(self, engine: AsyncEngine) -> None:
        """Upcoming same-service rows at most 30 days away (inclusive) are mentioned."""
        w = await world(engine)
        near = await w.book(berlin(12, 12, 10))
        await w.book(berlin(12, 12, 14), service_id=w.color)  # other service
        await w.book(berlin(10, 20, 10))  # before now
        edge = await w.book(berlin(12, 2, 10) + timedelta(days=30))  # exactly a window away
        await w.book(berlin(12, 2, 10) + timedelta(days=30, minutes=30))  # beyond it
        warning, refused = await agree(w, w.request(berlin(12, 2, 10)), berlin(11, 1, 9))
        assert (warning, refused) == ((Reason.SAME_SERVICE_UPCOMING, (near, edge)), CLEAR)

    async def test_window_edge_across_a_dst_switch(self, engine: AsyncEngine) -> None:
        """A row 29 days 23.5 hours after a winter-time request is fetched and mentioned."""
        w = await world(engine)
        request = w.request(berlin(3, 20, 10))  # winter time; 30 days later is summer time
        row = await w.book(request.start.astimezone(UTC) + timedelta(days=30, minutes=-30))
        warning, _ = await agree(w, request, berlin(3, 1, 0))
        assert warning == (Reason.SAME_SERVICE_UPCOMING, (row,))

    async def test_rescheduled_row_does_not_count_against_itself(self, engine: AsyncEngine) -> None:
        """Moving a row 15 minutes later is clear of the row itself but not of others."""
        w = await world(engine, max_appointments_per_day=2)
        moved = await w.book(berlin(12, 2, 10))
        other = await w.book(berlin(12, 2, 15))
        request = w.request(berlin(12, 2, 10, 15), ignore_appointment_id=moved)
        warning, refused = await agree(w, request)
        assert (warning, refused) == ((Reason.SAME_DAY, (other,)), CLEAR)

    async def test_busy_customer_many_requests(self, engine: AsyncEngine) -> None:
        """Over 150 seeded rows of many statuses, 80 requests decide as the rules over all rows."""
        w = await world(engine, max_appointments_per_day=2, same_service_window_days=14)
        rng = random.Random(20261025)
        rows = _busy_rows(w, rng, count=150)
        async with session_factory(engine)() as session, session.begin():
            session.add_all(rows)
        base = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
        seen: set[Reason] = set()
        for number in range(80):
            start = base + timedelta(minutes=15 * rng.randint(-4 * 24 * 30, 4 * 24 * 30))
            service = rng.choice((w.cut, w.color))
            if number % 4 == 0:  # every fourth request copies a row: exact duplicates too
                copied = rows[rng.randrange(len(rows))]
                start, service = copied.starts_at, copied.service_id
            request = w.request(
                start.astimezone(rng.choice((UTC, BERLIN))),
                15 * rng.randint(1, 12),
                service=service,
                ignore_appointment_id=rng.choice((None, rows[rng.randrange(len(rows))].id)),
            )
            now = base + timedelta(days=rng.randint(-40, 10))
            warning, refused = await agree(w, request, now)
            seen.update((warning[0], refused[0]))
        assert seen == LAYER_1_AND_2_REASONS  # the sample really exercises every rule


def _busy_rows(w: World, rng: random.Random, count: int) -> list[AppointmentRow]:
    """Rows over ±30 days; active ones never overlap (PostgreSQL's constraint would refuse)."""
    base = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    statuses = ["booked", "pending", "confirmed", "scheduled", "cancelled", "failed", "completed"]
    taken: list[tuple[datetime, datetime]] = []
    rows: list[AppointmentRow] = []
    while len(rows) < count:
        start = base + timedelta(minutes=15 * rng.randint(-4 * 24 * 30, 4 * 24 * 30))
        minutes = 15 * rng.randint(1, 12)
        end = start + timedelta(minutes=minutes)
        status = rng.choice(statuses)
        deleted = rng.random() < 0.1
        holds = status in ("booked", "pending", "confirmed", "scheduled") and not deleted
        if holds and any(s < end and start < e for s, e in taken):
            continue
        if holds:
            taken.append((start, end))
        service = rng.choice((w.cut, w.color))
        row = f.appointment(
            w.company.id,
            w.customer_id,
            service,
            start,
            minutes,
            status=status,
            deleted_at=NOW if deleted else None,
        )
        rows.append(row)
    return rows


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """Record every statement the engine sends to the database while the block runs."""
    seen: list[tuple[str, Any]] = []

    def _record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", _record)


class TestOneRoundTrip:
    """Layers 1 and 2 cost exactly one SELECT, on both engines."""

    async def test_for_rules_is_one_select(self, engine: AsyncEngine) -> None:
        """`for_rules` sends exactly one statement, a SELECT."""
        w = await world(engine)
        await w.book(berlin(12, 2, 10))
        request = w.request(berlin(12, 2, 12))
        window = search_window(request, now=NOW, tz=BERLIN, window_days=30)
        async with session_factory(engine)() as session:
            await session.connection()  # BEGIN (IMMEDIATE on SQLite) is not the query
            with statements(engine) as seen:
                found = await AppointmentRepository(session).for_rules(
                    w.company.id, w.customer_id, window
                )
        assert len(found) == 1
        [(sql, _)] = seen
        assert sql.lstrip().upper().startswith("SELECT")

    async def test_examine_is_one_select(self, engine: AsyncEngine) -> None:
        """`examine` runs both layers on the result of that single SELECT."""
        w = await world(engine)
        await w.book(berlin(12, 2, 10))
        async with session_factory(engine)() as session:
            await session.connection()
            with statements(engine) as seen:
                found = await examine(session, w.company, w.request(berlin(12, 2, 10)), NOW)
        assert found.refusal.reason == Reason.EXACT_DUPLICATE
        assert [sql.lstrip().split()[0].upper() for sql, _ in seen] == ["SELECT"]


class TestIndexUse:
    """On PostgreSQL the for_rules query is served by the (company, customer, starts_at) index."""

    async def test_for_rules_uses_the_customer_index(self, pg_engine: AsyncEngine) -> None:
        """With 20k analysed rows, EXPLAIN of the real query names the index."""
        w = await world(pg_engine)
        await _bulk_appointments(pg_engine, w, customers=200, per_customer=100)
        await w.book(berlin(12, 2, 10))
        request = w.request(berlin(12, 2, 12))
        window = search_window(request, now=NOW, tz=BERLIN, window_days=30)
        async with session_factory(pg_engine)() as session:
            await session.connection()
            with statements(pg_engine) as seen:
                await AppointmentRepository(session).for_rules(w.company.id, w.customer_id, window)
            [(sql, parameters)] = seen
            conn = await session.connection()
            plan = (await conn.exec_driver_sql(f"EXPLAIN {sql}", parameters)).scalars().all()
        assert any(INDEX in line for line in plan), "\n".join(plan)


async def _bulk_appointments(
    engine: AsyncEngine, w: World, *, customers: int, per_customer: int
) -> None:
    """200 × 100 active rows, a day apart around the requested dates, server-side; ANALYZE.

    All active on purpose: with a mostly inactive history PostgreSQL rightly prefers the
    smaller partial unique index (customer_id, service_id, starts_at) WHERE active, which is
    just as customer-scoped; this test pins the index the design names for Layers 1 and 2.
    """
    params = {"company": w.company.id, "customers": customers}
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customers (company_id, name, phone_e164)"
                " SELECT :company, 'Bulk', '+4930' || lpad(g::text, 8, '0')"
                " FROM generate_series(1, :customers) AS g"
            ),
            params,
        )
        await conn.execute(
            text(
                "INSERT INTO appointments (company_id, customer_id, service_id, starts_at,"
                " ends_at, status, reservation_key, source, reconcile_attempts)"
                " SELECT :company, c.id,"
                "  CASE WHEN n % 2 = 0 THEN CAST(:cut AS bigint) ELSE CAST(:color AS bigint) END,"
                "  timestamptz '2026-09-01 09:00+00' + n * interval '1 day 1 hour',"
                "  timestamptz '2026-09-01 09:30+00' + n * interval '1 day 1 hour',"
                "  'booked',"
                "  'bulk-' || c.id || '-' || n, 'import', 0"
                " FROM customers AS c CROSS JOIN generate_series(1, :per_customer) AS n"
                " WHERE c.company_id = :company AND c.name = 'Bulk'"
            ),
            {**params, "per_customer": per_customer, "cut": w.cut, "color": w.color},
        )
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE appointments"))
