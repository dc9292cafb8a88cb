"""Shared benchmark harness: scratch databases, seeding, the request mix, both decision paths.

"Ours" is ``slotguard.booking.detect.examine``: one indexed query plus the pure rules. The
"seed-style" path is the design a naive document writes: one ORM round trip per check, an
inclusive ``BETWEEN`` for overlap and the UTC date (``whereDate``) for "same day". Its SQL
lives here on purpose, as the counter-example; slotguard's own SQL lives in ``store``.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import random
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from slotguard.booking.detect import examine
from slotguard.domain import (
    ACTIVE_STATUSES,
    BookingRequest,
    Company,
    Reason,
    Service,
)
from slotguard.store.companies import CompanyRepository
from slotguard.store.db import create_engine, session_factory
from slotguard.store.migrate import upgrade
from slotguard.store.tables import AppointmentRow
from slotguard.testing.seed import SeedPlan, SeedReport, fill

ADMIN_URL_ENV = "SLOTGUARD_BENCH_PG_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# The share of each kind of request: callers mostly ask for a free time, but repeats (the
# LLM calls twice), back-to-back visits and second bookings on a day are what the checks
# exist for, so they are over-represented compared with real traffic.
PROBE_KINDS = (
    ("random", 40),
    ("repeat", 20),
    ("back_to_back", 15),
    ("same_day", 15),
    ("inside", 10),
)
# Requests are for times callers ask for: the next 60 days, local business hours.
HORIZON_DAYS = 60
OPENS_MINUTE, LAST_START_MINUTE, GRID_MINUTES = 8 * 60, 19 * 60 + 45, 15
_ACTIVE = [s.value for s in ACTIVE_STATUSES]

Decisions = tuple[Reason, Reason]  # (Layer 1 reason, Layer 2 reason)
Path = Callable[[AsyncSession, "Probe", datetime], Awaitable[Decisions]]


def log(message: str) -> None:
    """Progress for humans on stderr; stdout carries only the JSON result."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def admin_url() -> str:
    """The server benchmarks create their databases on (``SLOTGUARD_BENCH_PG_URL``)."""
    return os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL)


@contextlib.asynccontextmanager
async def scratch_database(name: str, *, keep: bool = False) -> AsyncIterator[str]:
    """Create database ``name`` on the admin server, yield its URL, drop it unless ``keep``."""
    admin = make_url(admin_url())
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            log(f"kept database {name}")
        else:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(statement: str) -> None:
    engine = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def bench_engine(url: str) -> AsyncEngine:
    """An engine whose sessions use UTC, so ``DATE(starts_at)`` is the UTC date (whereDate)."""
    return create_engine(url, connect_args={"server_settings": {"timezone": "UTC"}})


async def prepare(url: str, plan: SeedPlan) -> SeedReport:
    """Migrate the scratch database and seed it; progress goes to stderr."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        report = await fill(engine, plan, progress=lambda line: log(f"seed: {line}"))
    finally:
        await engine.dispose()
    log(
        f"seeded {report.appointments:,} appointments in {report.seconds:.1f} s "
        f"({report.appointments_per_second:,.0f}/s)"
    )
    return report


@dataclass(frozen=True)
class Probe:
    """One booking request to decide, and how it was made up."""

    kind: str
    company: Company
    request: BookingRequest


@dataclass
class World:
    """The seeded tenants, as the use cases see them."""

    companies: dict[int, Company]
    services: dict[int, list[Service]] = field(default_factory=dict)


async def load_world(engine: AsyncEngine) -> World:
    """Companies and their services, loaded once."""
    async with session_factory(engine)() as session:
        repository = CompanyRepository(session)
        companies = {c.id: c for c in await repository.all()}
        world = World(companies)
        for company_id in companies:
            world.services[company_id] = await repository.services(company_id)
    return world


async def make_probes(
    engine: AsyncEngine, world: World, count: int, now: datetime, rng: random.Random
) -> list[Probe]:
    """``count`` requests in the PROBE_KINDS mix, from random customers and appointments."""
    kinds = [kind for kind, share in PROBE_KINDS for _ in range(share)]
    wanted = [rng.choice(kinds) for _ in range(count)]
    anchors = await _anchors(engine, sum(k != "random" for k in wanted), now, rng)
    customers = await _customers(engine, wanted.count("random"), rng)
    probes = []
    for kind in wanted:
        if kind == "random":
            customer_id, company_id = customers.pop()
            probes.append(_random_probe(world, company_id, customer_id, now, rng))
        else:
            probes.append(_anchored_probe(world, kind, anchors.pop(), rng))
    return probes


async def _id_sample(engine: AsyncEngine, table: str, count: int, rng: random.Random) -> list[int]:
    async with engine.connect() as connection:
        low, high = (await connection.execute(text(f"SELECT MIN(id), MAX(id) FROM {table}"))).one()  # noqa: S608 - own table names
    return [rng.randint(low, high) for _ in range(count)]


async def _customers(engine: AsyncEngine, count: int, rng: random.Random) -> list[tuple[int, int]]:
    ids = await _id_sample(engine, "customers", count, rng)
    query = text("SELECT id, company_id FROM customers WHERE id = ANY(:ids)")
    async with engine.connect() as connection:
        found: dict[int, int] = dict((await connection.execute(query, {"ids": ids})).tuples().all())
    return [(i, found[i]) for i in ids]


async def _anchors(
    engine: AsyncEngine, count: int, now: datetime, rng: random.Random
) -> list[tuple[Any, ...]]:
    """Upcoming appointments (any status) that anchored requests are made relative to."""
    query = text(
        "SELECT id, company_id, customer_id, service_id, starts_at, ends_at FROM appointments "
        "WHERE id = ANY(:ids) AND starts_at > :now AND starts_at < :horizon"
    )
    horizon = now + timedelta(days=HORIZON_DAYS)
    found: list[tuple[Any, ...]] = []
    async with engine.connect() as connection:
        while len(found) < count:
            ids = await _id_sample(engine, "appointments", 8 * (count - len(found)), rng)
            rows = await connection.execute(query, {"ids": ids, "now": now, "horizon": horizon})
            found.extend(tuple(row) for row in rows)
    rng.shuffle(found)
    return found[:count]


def _request(
    company: Company, customer_id: int, service: Service, start: datetime
) -> BookingRequest:
    local = start.astimezone(company.tz)
    return BookingRequest(
        company.id,
        customer_id,
        service.id,
        local,
        local + timedelta(minutes=service.duration_minutes),
    )


def _random_probe(
    world: World, company_id: int, customer_id: int, now: datetime, rng: random.Random
) -> Probe:
    company = world.companies[company_id]
    day = now.astimezone(company.tz).date() + timedelta(days=rng.randint(1, HORIZON_DAYS))
    start = _local_slot(company, day, rng)
    service = rng.choice(world.services[company_id])
    return Probe("random", company, _request(company, customer_id, service, start))


def _local_slot(company: Company, day: date, rng: random.Random) -> datetime:
    slots = (LAST_START_MINUTE - OPENS_MINUTE) // GRID_MINUTES + 1
    minute = OPENS_MINUTE + GRID_MINUTES * rng.randrange(slots)
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=company.tz)


def _anchored_probe(world: World, kind: str, anchor: tuple[Any, ...], rng: random.Random) -> Probe:
    _id, company_id, customer_id, service_id, starts, ends = anchor
    company, offered = world.companies[company_id], world.services[company_id]
    service = rng.choice(offered)
    if kind == "repeat":  # the same request again: an LLM retry or a forgetful caller
        service = next(s for s in offered if s.id == service_id)
        start = starts
    elif kind == "back_to_back":  # right after, or right before, the existing appointment
        before = starts - timedelta(minutes=service.duration_minutes)
        start = ends if rng.random() < 0.5 else before
    elif kind == "same_day":  # another time on the same local day
        start = _local_slot(company, starts.astimezone(company.tz).date(), rng)
    else:  # "inside": a short service starting within the existing appointment
        service = min(offered, key=lambda s: s.duration_minutes)
        start = starts + timedelta(minutes=GRID_MINUTES)
    return Probe(kind, company, _request(company, customer_id, service, start))


async def ours(session: AsyncSession, probe: Probe, now: datetime) -> Decisions:
    """slotguard's path: ``examine`` = one query + the pure rules of Layers 1 and 2."""
    found = await examine(session, probe.company, probe.request, now)
    return found.warning.reason, found.refusal.reason


async def seed_style(session: AsyncSession, probe: Probe, now: datetime) -> Decisions:
    """The naive path: five ORM round trips, inclusive BETWEEN, UTC dates."""
    request, company = probe.request, probe.company
    start, end = request.start, request.end
    day = start.astimezone(UTC).date()  # whereDate('starts_at', $start->toDateString())
    mine = (
        AppointmentRow.company_id == company.id,
        AppointmentRow.customer_id == request.customer_id,
        AppointmentRow.status.in_(_ACTIVE),
        AppointmentRow.deleted_at.is_(None),
    )
    rows = select(AppointmentRow).where(*mine)
    exact = await session.scalar(
        rows.where(AppointmentRow.service_id == request.service_id)
        .where(AppointmentRow.starts_at == start)
        .limit(1)
    )
    overlap = await session.scalar(
        rows.where(
            or_(
                AppointmentRow.starts_at.between(start, end),
                AppointmentRow.ends_at.between(start, end),
            )
        ).limit(1)
    )
    same_day = (await session.scalars(rows.where(func.date(AppointmentRow.starts_at) == day))).all()
    booked_that_day = await session.scalar(
        select(func.count())
        .select_from(AppointmentRow)
        .where(*mine, func.date(AppointmentRow.starts_at) == day)
    )
    window = timedelta(days=company.same_service_window_days)
    upcoming = (
        await session.scalars(
            rows.where(AppointmentRow.service_id == request.service_id)
            .where(AppointmentRow.starts_at >= now)
            .where(AppointmentRow.starts_at.between(start - window, start + window))
        )
    ).all()
    layer2 = Reason.NONE
    if exact is not None:
        layer2 = Reason.EXACT_DUPLICATE
    elif overlap is not None:
        layer2 = Reason.OVERLAPPING
    elif (booked_that_day or 0) >= company.max_appointments_per_day:
        layer2 = Reason.DAILY_LIMIT
    layer1 = Reason.SAME_DAY if same_day else Reason.NONE
    if layer1 is Reason.NONE and upcoming:
        layer1 = Reason.SAME_SERVICE_UPCOMING
    return layer1, layer2


@dataclass
class Timings:
    """Latency samples (nanoseconds) and the decisions of one path."""

    samples: list[int] = field(default_factory=list)
    decisions: list[Decisions] = field(default_factory=list)


async def time_in_open_transaction(
    sessions: async_sessionmaker[AsyncSession],
    path: Path,
    probes: Sequence[Probe],
    now: datetime,
) -> Timings:
    """Time ``path`` per request inside one open read transaction: the checks alone."""
    timings = Timings()
    async with sessions() as session:
        await session.execute(text("SELECT 1"))  # BEGIN now, not inside the first sample
        for probe in probes:
            started = time.perf_counter_ns()
            decided = await path(session, probe, now)
            timings.samples.append(time.perf_counter_ns() - started)
            timings.decisions.append(decided)
            session.expunge_all()
        await session.rollback()
    return timings


async def time_own_transaction(
    sessions: async_sessionmaker[AsyncSession],
    path: Path,
    probes: Sequence[Probe],
    now: datetime,
) -> Timings:
    """Time ``path`` with a session and transaction per request, as the use cases run it."""
    timings = Timings()
    for probe in probes:
        started = time.perf_counter_ns()
        async with sessions() as session, session.begin():
            decided = await path(session, probe, now)
        timings.samples.append(time.perf_counter_ns() - started)
        timings.decisions.append(decided)
    return timings


async def compare(
    engine: AsyncEngine,
    probes: Sequence[Probe],
    now: datetime,
    *,
    timer: Callable[..., Awaitable[Timings]] = time_in_open_transaction,
    block: int = 50,
    flip: bool = False,
) -> tuple[Timings, Timings]:
    """Both paths on the same probes, alternating in blocks so load noise hits both alike.

    Blocks alternate which path goes first; ``flip`` makes the seed-style path start.
    """
    sessions = session_factory(engine)
    mine, theirs = Timings(), Timings()
    for offset in range(0, len(probes), block):
        chunk = probes[offset : offset + block]
        order = ((ours, mine), (seed_style, theirs))
        for path, into in order if (offset // block + flip) % 2 == 0 else reversed(order):
            done = await timer(sessions, path, chunk, now)
            into.samples.extend(done.samples)
            into.decisions.extend(done.decisions)
    return mine, theirs


def stats(samples: Sequence[int]) -> dict[str, float]:
    """p50/p95/p99/max/mean in milliseconds (nearest-rank percentiles)."""
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] / 1e6

    return {
        "n": len(ordered),
        "p50_ms": round(rank(50), 3),
        "p95_ms": round(rank(95), 3),
        "p99_ms": round(rank(99), 3),
        "max_ms": round(ordered[-1] / 1e6, 3),
        "mean_ms": round(sum(ordered) / len(ordered) / 1e6, 3),
    }


def speedup(mine: dict[str, float], theirs: dict[str, float]) -> dict[str, float]:
    """How many times faster our path is, per percentile."""
    return {
        key.removesuffix("_ms"): round(theirs[key] / mine[key], 2)
        for key in ("p50_ms", "p95_ms", "p99_ms", "mean_ms")
    }


async def server_facts(engine: AsyncEngine) -> dict[str, Any]:
    """PostgreSQL version and the settings that matter for these numbers."""
    async with engine.connect() as connection:
        version = await connection.scalar(text("SELECT version()"))
        settings = {
            name: await connection.scalar(text(f"SHOW {name}"))
            for name in ("shared_buffers", "effective_cache_size", "work_mem", "jit")
        }
        size = await connection.scalar(
            text("SELECT pg_size_pretty(pg_total_relation_size('appointments'))")
        )
    return {"version": version, "settings": settings, "appointments_total_size": size}


def machine() -> dict[str, Any]:
    """Platform, CPU model and count, RAM, and the load average right now."""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": _proc_field("/proc/cpuinfo", "model name"),
        "cpu_count": os.cpu_count(),
        "memory": _proc_field("/proc/meminfo", "MemTotal"),
        "load_average_at_start": load(),
    }


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages (other engineers' tests share this machine)."""
    return [round(x, 2) for x in os.getloadavg()]


def _proc_field(path: str, name: str) -> str | None:
    with contextlib.suppress(OSError), open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.startswith(name):
                return line.split(":", 1)[1].strip()
    return None
