"""Fast, deterministic, realistic data for benchmarks: the filler behind ``slotguard seed``.

PostgreSQL is filled with binary COPY (asyncpg ``copy_records_to_table``), SQLite with batched
executemany. The generated rows respect every guard of the schema: phone numbers are unique
per company, and the slot-holding appointments of one customer never share a start or overlap
(partial unique index, exclusion constraint); only inactive appointments may overlap anything.
"""

from __future__ import annotations

import itertools
import random
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.domain import ACTIVE_STATUSES, Action, AppointmentStatus, Layer, Reason, Result
from slotguard.testing.seed_bulk import (
    APPOINTMENTS,
    COMPANIES,
    CUSTOMERS,
    DECISIONS,
    SERVICES_TABLE,
    TABLES,
    BatchWriter,
    CopyWriter,
    Row,
    writer_for,
)
from slotguard.testing.seed_data import (
    APPOINTMENTS_PER_DECISION,
    BACK_TO_BACK_SHARE,
    CUSTOMER_WEIGHTS,
    FIRST_NAMES,
    GRID_MINUTES,
    LAST_NAMES,
    LAST_START_MINUTE,
    MAX_APPOINTMENTS_PER_CUSTOMER,
    MAX_LEAD_MINUTES,
    MAX_SLOT_ATTEMPTS,
    OPENS_MINUTE,
    REBOOK_SHARE,
    SERVICES,
    SPREAD_DAYS,
    STATUS_MIX,
    TRADES,
    WEEK,
    ZONES,
)

_Counts = tuple[int, int, int, int, int]  # companies, services, customers, appointments, decisions
Progress = Callable[[str], None]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATUSES = tuple(STATUS_MIX)
_STATUS_DRAW = tuple(code for code, s in enumerate(STATUSES) for _ in range(STATUS_MIX[s]))
_ACTIVE_CODES = frozenset(code for code, s in enumerate(STATUSES) if s in ACTIVE_STATUSES)
_CANCELLED = STATUSES.index(AppointmentStatus.CANCELLED)
_PAST_ONLY = frozenset(
    STATUSES.index(s) for s in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)
)
_FUTURE_ONLY = frozenset({STATUSES.index(AppointmentStatus.PENDING)})
_IN_CALENDAR = frozenset(
    s for s in STATUSES if s not in (AppointmentStatus.PENDING, AppointmentStatus.FAILED)
)
_SOURCE_DRAW = ("agent",) * 16 + ("webhook",) * 3 + ("import",)
_L1, _L2, _L3 = Layer.EARLY_WARNING, Layer.PRE_BOOKING, Layer.POST_BOOKING
_COLLECT, _BOOK = "collect_appointment_data", "book_appointment"
_DECISION_KINDS = (
    (_L1, Result.WARNING, Reason.SAME_DAY, Action.WARNING, _COLLECT),
    (_L1, Result.WARNING, Reason.SAME_SERVICE_UPCOMING, Action.WARNING, _COLLECT),
    (_L1, Result.WARNING, Reason.SAME_DAY, Action.OVERRIDDEN, _BOOK),
    (_L2, Result.BLOCKED, Reason.EXACT_DUPLICATE, Action.BLOCKED, _BOOK),
    (_L2, Result.BLOCKED, Reason.OVERLAPPING, Action.BLOCKED, _BOOK),
    (_L2, Result.BLOCKED, Reason.DAILY_LIMIT, Action.BLOCKED, _BOOK),
    (_L3, Result.MERGED, Reason.KNOWN_BOOKING_UID, Action.LINKED, "calcom_webhook"),
)


class DatabaseNotEmpty(Exception):
    """The appointments table already has rows and appending was not asked for."""


@dataclass(frozen=True)
class SeedPlan:
    """How much to generate, from which random seed, around which instant."""

    companies: int = 50
    customers: int = 100_000
    appointments: int = 1_000_000
    seed: int = 1
    now: datetime = field(default_factory=lambda: start_of_today())

    def __post_init__(self) -> None:
        if self.companies < 1 or self.customers < self.companies or self.appointments < 0:
            raise ValueError("need companies ≥ 1, customers ≥ companies and appointments ≥ 0")
        if self.appointments > self.customers * MAX_APPOINTMENTS_PER_CUSTOMER:
            raise ValueError(f"at most {MAX_APPOINTMENTS_PER_CUSTOMER} appointments per customer")
        if self.now.tzinfo is None:
            raise ValueError("now must be an aware datetime")


@dataclass(frozen=True)
class SeedReport:
    """What ``fill`` wrote, and how long it took."""

    companies: int
    services: int
    customers: int
    appointments: int
    decisions: int
    seconds: float

    @property
    def appointments_per_second(self) -> float:
        """Appointments written per second of the whole run (generation included)."""
        return self.appointments / self.seconds if self.seconds else 0.0


def start_of_today() -> datetime:
    """Today's 00:00 UTC: the default ``now``, so a seed gives the same rows all day."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


async def fill(
    engine: AsyncEngine,
    plan: SeedPlan,
    *,
    append: bool = False,
    progress: Progress = lambda _line: None,
) -> SeedReport:
    """Write ``plan``'s rows in one transaction, then ANALYZE; same plan, same rows.

    Refuses a database that already has appointments unless ``append`` is set; appended rows
    get fresh ids and companies of their own, and the id sequences are moved past them.
    """
    started = time.perf_counter()
    async with engine.connect() as connection:
        writer = await writer_for(connection)
        async with writer.transaction():
            await writer.prepare()
            if not append and not await writer.is_empty():
                raise DatabaseNotEmpty("appointments is not empty; pass --append to add rows")
            counts = await _fill(writer, plan, progress)
        progress("analyzing …")
        await writer.analyze()
    return SeedReport(*counts, seconds=time.perf_counter() - started)


@dataclass(frozen=True)
class _Company:
    id: int
    services: tuple[tuple[int, int], ...]  # (service id, minutes)
    day_starts: tuple[int, ...]  # UTC minute of local 00:00 for days -SPREAD..+SPREAD


class _Planned:
    """Appointments as compact columns: a million fit in a few dozen megabytes."""

    def __init__(self) -> None:
        self.created: array[int] = array("q")
        self.customer: array[int] = array("q")
        self.company: array[int] = array("q")
        self.service: array[int] = array("q")
        self.start: array[int] = array("q")
        self.minutes: array[int] = array("h")
        self.status: array[int] = array("b")

    def add(self, *values: int) -> None:
        created, customer, company, service, start, minutes, status = values
        self.created.append(created)
        self.customer.append(customer)
        self.company.append(company)
        self.service.append(service)
        self.start.append(start)
        self.minutes.append(minutes)
        self.status.append(status)

    def __len__(self) -> int:
        return len(self.created)

    def time_order(self) -> list[int]:
        """Indexes by creation time: the physical order a real table grows in."""
        return sorted(range(len(self)), key=self.created.__getitem__)


async def _fill(writer: CopyWriter | BatchWriter, plan: SeedPlan, progress: Progress) -> _Counts:
    rng = random.Random(plan.seed)
    first = {t.name: await writer.first_id(t) for t in TABLES}
    companies = _company_rows(rng, plan, first[COMPANIES.name])
    services = _service_rows(rng, companies, first[SERVICES_TABLE.name])
    customers = _customer_rows(rng, plan, companies, first[CUSTOMERS.name])
    for table, rows in ((COMPANIES, companies), (SERVICES_TABLE, services), (CUSTOMERS, customers)):
        await writer.write(table, rows)
        progress(f"{table.name}: {len(rows):,} rows")
    progress(f"planning {plan.appointments:,} appointments …")
    planned = _plan(rng, plan, _calendars(companies, services, plan.now), customers)
    order = planned.time_order()
    appointments = _appointment_rows(rng, planned, order, first[APPOINTMENTS.name])
    await writer.write(APPOINTMENTS, _counted(appointments, len(order), "appointments", progress))
    decisions = _decision_rows(rng, planned, order, first)
    await writer.write(DECISIONS, decisions)
    counts: _Counts = (len(companies), len(services), len(customers), len(order), len(decisions))
    for table, count in zip(TABLES, counts, strict=True):
        if count:
            await writer.advance(table, first[table.name] + count - 1)
    return counts


def _counted(rows: Iterable[Row], total: int, label: str, progress: Progress) -> Iterator[Row]:
    step, started = max(1, total // 10), time.perf_counter()
    for done, row in enumerate(rows, 1):
        yield row
        if done % step == 0:
            rate = done / max(time.perf_counter() - started, 1e-9)
            progress(f"{label}: {done:,}/{total:,} ({100 * done // total}%), {rate:,.0f} rows/s")


def _at(minute: int) -> datetime:
    return EPOCH + timedelta(minutes=minute)


def _company_rows(rng: random.Random, plan: SeedPlan, first_id: int) -> list[Row]:
    hours = {day: "08:00-20:00" for day in WEEK}
    created = plan.now - timedelta(days=2 * SPREAD_DAYS)
    rows = []
    for n in range(plan.companies):
        ident = first_id + n
        zone, language, _prefix = ZONES[n % len(ZONES)]
        name = f"{rng.choice(TRADES)} {ident}"
        limit = rng.choice((2, 3, 3, 3, 4, 5))
        row = (ident, f"seed-{ident}", name, zone, language, limit, 30, "local", hours)
        rows.append((*row, created, created))
    return rows


def _service_rows(rng: random.Random, companies: list[Row], first_id: int) -> list[Row]:
    rows: list[Row] = []
    for company in companies:
        german = company[4] == "de"
        offered = sorted(rng.sample(SERVICES, rng.randint(3, 6)), key=lambda s: s[2])
        for de, en, minutes in offered:
            ident = first_id + len(rows)
            rows.append(
                (ident, company[0], de if german else en, [], minutes, 10_000 + ident, True)
            )
    return rows


def _customer_rows(
    rng: random.Random, plan: SeedPlan, companies: list[Row], first_id: int
) -> list[Row]:
    rows: list[Row] = []
    share, extra = divmod(plan.customers, len(companies))
    for n, company in enumerate(companies):
        prefix = next(p for zone, _l, p in ZONES if zone == company[3])
        count = share + (n < extra)
        for number in rng.sample(range(10_000_000, 100_000_000), count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            withheld = rng.random() < 0.02  # callers who suppress their number
            phone = None if withheld else f"{prefix}{number}"
            email = f"{first}.{last}.{number}@example.com".lower()
            created = plan.now - timedelta(minutes=rng.randrange(2 * SPREAD_DAYS * 24 * 60))
            row = (first_id + len(rows), company[0], f"{first} {last}", phone)
            rows.append((*row, email if withheld or rng.random() < 0.3 else None, created, created))
    return rows


def _calendars(companies: list[Row], services: list[Row], now: datetime) -> dict[int, _Company]:
    offered: dict[int, list[tuple[int, int]]] = {}
    for service in services:
        offered.setdefault(service[1], []).append((service[0], service[4]))
    result = {}
    for company in companies:
        tz = ZoneInfo(company[3])
        today = now.astimezone(tz).date()
        days = (today + timedelta(days=d) for d in range(-SPREAD_DAYS, SPREAD_DAYS + 1))
        result[company[0]] = _Company(
            company[0], tuple(offered[company[0]]), tuple(_day_start(d, tz) for d in days)
        )
    return result


def _day_start(day: date, tz: ZoneInfo) -> int:
    # The offset at noon: business hours never fall inside a DST switch, midnight might.
    offset = datetime.combine(day, wall_time(12), tzinfo=tz).utcoffset() or timedelta()
    return (day - EPOCH.date()).days * 24 * 60 - int(offset.total_seconds()) // 60


def _plan(
    rng: random.Random, plan: SeedPlan, calendars: dict[int, _Company], customers: list[Row]
) -> _Planned:
    weights = [w for w, percent in CUSTOMER_WEIGHTS for _ in range(percent)]
    cumulative = list(itertools.accumulate(rng.choice(weights) for _ in customers))
    owners = rng.choices(range(len(customers)), cum_weights=cumulative, k=plan.appointments)
    counts = [0] * len(customers)
    for owner in owners:
        counts[owner] += 1
    planned, now = _Planned(), int(plan.now.timestamp()) // 60
    for customer, count in zip(customers, counts, strict=True):
        if count:
            _plan_customer(rng, planned, calendars[customer[1]], customer[0], count, now)
    return planned


def _plan_customer(
    rng: random.Random, out: _Planned, company: _Company, customer: int, count: int, now: int
) -> None:
    held: list[tuple[int, int]] = []  # spans of this customer's slot-holding appointments
    history: list[tuple[int, int, int]] = []  # (start, minutes, service) so far
    for _ in range(count):
        status = _STATUS_DRAW[rng.randrange(len(_STATUS_DRAW))]
        service, minutes = company.services[rng.randrange(len(company.services))]
        if status in _ACTIVE_CODES:
            start = _free_start(rng, company, status, minutes, held, history)
            held.append((start, start + minutes))
        elif status == _CANCELLED and history and rng.random() < REBOOK_SHARE:
            start, minutes, service = history[rng.randrange(len(history))]
        else:
            start = _random_start(rng, company, status)
        history.append((start, minutes, service))
        created = min(start - rng.randrange(MAX_LEAD_MINUTES), now - rng.randrange(1, 10_080))
        out.add(created, customer, company.id, service, start, minutes, status)


def _free_start(
    rng: random.Random,
    company: _Company,
    status: int,
    minutes: int,
    held: list[tuple[int, int]],
    history: list[tuple[int, int, int]],
) -> int:
    for attempt in range(MAX_SLOT_ATTEMPTS):
        if attempt == 0 and history and rng.random() < BACK_TO_BACK_SHARE:
            start = history[-1][0] + history[-1][1]
        else:
            start = _random_start(rng, company, status)
        if all(start + minutes <= begin or start >= end for begin, end in held):
            return start
    raise RuntimeError("no free slot found; lower the appointments per customer")


def _random_start(rng: random.Random, company: _Company, status: int) -> int:
    low, high = -SPREAD_DAYS, SPREAD_DAYS
    if status in _PAST_ONLY:
        high = -1
    elif status in _FUTURE_ONLY:
        low = 1
    day = company.day_starts[rng.randint(low, high) + SPREAD_DAYS]
    slots = (LAST_START_MINUTE - OPENS_MINUTE) // GRID_MINUTES + 1
    return day + OPENS_MINUTE + GRID_MINUTES * rng.randrange(slots)


def _appointment_rows(
    rng: random.Random, planned: _Planned, order: list[int], first_id: int
) -> Iterator[Row]:
    for offset, i in enumerate(order):
        ident, status = first_id + offset, STATUSES[planned.status[i]]
        start, created = planned.start[i], _at(planned.created[i])
        booked = status in _IN_CALENDAR
        deleted = created if status == AppointmentStatus.CANCELLED and rng.random() < 0.02 else None
        failure = "calendar refused the slot" if status == AppointmentStatus.FAILED else None
        who = (ident, planned.company[i], planned.customer[i], planned.service[i])
        span = (_at(start), _at(start + planned.minutes[i]), status.value)
        calendar = (ident if booked else None, f"seed{ident:012x}" if booked else None)
        source = _SOURCE_DRAW[rng.randrange(len(_SOURCE_DRAW))]
        key = f"{ident:010x}{rng.getrandbits(88):022x}"
        yield (*who, *span, *calendar, key, source, failure, 0, deleted, created, created)


def _decision_rows(
    rng: random.Random, planned: _Planned, order: list[int], first: dict[str, int]
) -> list[Row]:
    wanted = len(order) // APPOINTMENTS_PER_DECISION or min(len(order), 3)
    rows = []
    for n, position in enumerate(sorted(rng.sample(range(len(order)), wanted))):
        i = order[position]
        layer, result, reason, action, function = rng.choice(_DECISION_KINDS)
        start = _at(planned.start[i])
        who = (first[DECISIONS.name] + n, planned.company[i], planned.customer[i], function)
        what = (int(layer), result.value, reason.value, action.value, planned.service[i])
        span = (start, start + timedelta(minutes=planned.minutes[i]))
        existing = first[APPOINTMENTS.name] + position
        rows.append((*who, *what, *span, existing, False, _at(planned.created[i])))
    return rows
