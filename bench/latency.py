"""Latency: collect_appointment_data and book_appointment over HTTP at 1, 16 and 64 callers.

    .venv/bin/python -m bench.latency [--appointments 1000000] [--requests 2000]

A throwaway PostgreSQL database is filled by ``slotguard.testing.seed`` (COPY; 1,000,000
appointments by default), its companies become Cal.com salons (one API key each, their
services' event types in the emulator, one host per service, open all day), and
``slotguard serve --workers 2`` answers signed Retell calls. The emulator runs with zero
latency in a process of its own, behind a timing wrapper that measures how long it took to
answer each request; matching each function call to its calendar request (event type and
start are unique per conversation) gives slotguard's own part per request:
client-observed latency minus the calendar's answer time. Every level also reads the
``/metrics`` histograms of each worker (scraped until every worker answered) for the share of
time spent waiting on the calendar.

``--calendar local`` keeps the salons on the local calendar instead (no emulator request is
made, so the own part is the worker's whole time): the shape ``bench/throughput.sh`` measures,
at set numbers of callers.

Each simulated caller is an existing seeded customer (their history is what Layers 1 and 2
read) asking for a free slot beyond the seeded half year, so most bookings succeed. One JSON
object on stdout, progress on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from tests import databases
from tests.concurrency import processes

from slotguard.booking.resolve import normalise_phone
from slotguard.retell.signature import sign
from slotguard.store.db import create_engine, session_factory
from slotguard.store.tables import CompanyRow, CustomerRow, ServiceRow
from slotguard.testing import (
    CalcomEmulator,
    EmulatorConfig,
    EventTypeConfig,
    HostConfig,
    serve_in_thread,
)

LEVELS = (1, 16, 64)
GOAL_LEVEL = 16
# slotguard's own part of a function call, p99 at 16 concurrent callers (milliseconds).
GOALS_MS = {"book_appointment": 15.0, "collect_appointment_data": 10.0}
FUNCTIONS = ("collect_appointment_data", "book_appointment")
# The calendar endpoint each function waits on (the metrics label).
CALENDAR_ENDPOINT = {"collect_appointment_data": "slots", "book_appointment": "bookings.create"}
RETELL_KEY = "key_latency_retell"
# Requests land beyond the seeded ±180 days, so Layers 1 and 2 read history and let them pass.
FIRST_DAY = 200
# Starts in UTC: Cal.com offers slots on a grid of the event's length from the start of the
# host's working hours (00:00 UTC here), and every seeded length (15-120 min) divides 6 h.
# The salons' local times follow (zones of +05:30 or +13:45 included); the days requested
# (200-260 days ahead) hold no DST switch in the seeded zones.
UTC_HOURS = (0, 6, 12, 18)
ROOT = Path(__file__).resolve().parent.parent


def _stderr(line: str) -> None:
    print(f"[latency] {line}", file=sys.stderr, flush=True)


@dataclass
class Options:
    """What to run."""

    appointments: int = 1_000_000
    requests: int = 2_000  # measured per level: half collect, half book
    warmup: int = 100  # conversations per level before measuring
    levels: tuple[int, ...] = LEVELS
    workers: int = 2
    seed: int = 1
    workdir: Path | None = None
    calendar: str = "calcom"  # or "local": the salons book in our own database


# -- the emulator in its own process, timed ---------------------------------------------------


class TimedApp:
    """ASGI wrapper: how long the emulator took to answer each request (GET /_bench/timings)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.samples: list[tuple[str, str, bytes, bytes, float]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/_bench/timings":
            await self._timings(send)
            return
        started, chunks = time.perf_counter(), []

        async def receive_body() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        async def send_timed(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                elapsed = time.perf_counter() - started
                sample = (scope["method"], scope["path"], scope["query_string"], b"".join(chunks))
                self.samples.append((*sample, elapsed))

        await self.app(scope, receive_body, send_timed)

    async def _timings(self, send: Any) -> None:
        samples, self.samples = self.samples, []
        body = json.dumps([[m, _key(m, p, q, b), s] for m, p, q, b, s in samples]).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _key(method: str, path: str, query: bytes, body: bytes) -> str | None:
    """``eventTypeId|start`` of a slots lookup or a create: unique per conversation."""
    if method == "GET" and path == "/v2/slots":
        params = parse_qs(query.decode())
        return f"{params.get('eventTypeId', ['?'])[0]}|{params.get('start', ['?'])[0]}"
    if method == "POST" and path == "/v2/bookings":
        data = json.loads(body or b"{}")
        return f"{data.get('eventTypeId')}|{data.get('start')}"
    return None


def emulator_main(config_file: Path, port: int) -> None:
    """Serve the emulator described by ``config_file`` on ``port`` until SIGTERM."""
    spec = json.loads(config_file.read_text())
    event_types = tuple(
        EventTypeConfig(
            e["id"],
            f"service-{e['id']}",
            e["length"],
            f"Service {e['id']}",
            HostConfig(
                id=e["id"],
                name=f"Host {e['id']}",
                email=f"host{e['id']}@lat.example",
                username=f"host-{e['id']}",
            ),
        )
        for e in spec["event_types"]
    )
    # The client paces itself per key; the emulator must not add 429s to a latency figure.
    config = EmulatorConfig(
        api_keys=tuple(spec["api_keys"]), event_types=event_types, rate_limit=10_000_000
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with serve_in_thread(TimedApp(CalcomEmulator(config).app), port=port):
        print("ready", flush=True)
        stop.wait()


@contextlib.contextmanager
def _emulator_process(config: dict[str, Any], workdir: Path) -> Iterator[str]:
    path = workdir / "emulator.json"
    path.write_text(json.dumps(config))
    port = processes.free_port()
    command = [
        sys.executable,
        "-m",
        "bench.latency",
        "--emulator-only",
        str(path),
        "--port",
        str(port),
    ]
    log = (workdir / "emulator.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/_bench/timings", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the emulator process did not start (see emulator.log)")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


# -- the salons and callers -------------------------------------------------------------------


@dataclass
class Salon:
    """A seeded company turned into a Cal.com salon."""

    id: int
    slug: str
    zone: ZoneInfo
    services: list[tuple[str, int, int]]  # (name, minutes, event type id)
    callers: list[tuple[str, str]]  # (phone, name)
    used_slots: Counter[int] = field(default_factory=Counter)  # per event type (one host each)

    @property
    def agent_id(self) -> str:
        """The Retell agent routed to it."""
        return f"agent_lat_{self.id}"

    @property
    def api_key(self) -> str:
        """Its Cal.com API key."""
        return f"cal_lat_{self.id}"

    @property
    def env(self) -> dict[str, str]:
        """The variables its tenants entry names."""
        return {f"LAT_KEY_{self.id}": self.api_key, f"LAT_SECRET_{self.id}": f"whsec_{self.id}"}

    def next_start(self, today: date, event_type: int) -> datetime:
        """A start (in the salon's zone) the host of ``event_type`` has not been asked for
        (0: the salon's one local calendar)."""
        n = self.used_slots[event_type]
        self.used_slots[event_type] += 1
        day = today + timedelta(days=FIRST_DAY + n // len(UTC_HOURS))
        hour = UTC_HOURS[n % len(UTC_HOURS)]
        return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).astimezone(self.zone)


async def _salons(url: str, calendar: str) -> tuple[list[Salon], str]:
    """Seeded companies with callers whose numbers slotguard accepts, and their tenants file."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s:
            companies = list(await s.scalars(select(CompanyRow).order_by(CompanyRow.id)))
            services = list(await s.scalars(select(ServiceRow).where(ServiceRow.active)))
            people = (
                await s.execute(
                    select(CustomerRow.company_id, CustomerRow.phone_e164, CustomerRow.name).where(
                        CustomerRow.phone_e164.is_not(None)
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    offered: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    for service in services:
        event_type = service.calcom_event_type_id or 900_000 + service.id
        offered[service.company_id].append((service.name, service.duration_minutes, event_type))
    callers: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for company_id, phone, name in people:
        if phone and normalise_phone(phone) == phone and len(callers[company_id]) < 400:
            callers[company_id].append((phone, name or "Anrufer"))
    salons = [
        Salon(c.id, c.slug, ZoneInfo(c.timezone), offered[c.id], callers[c.id])
        for c in companies
        if offered[c.id] and callers[c.id]
    ]
    toml = "\n".join(
        _toml(c, salon, calendar) for c in companies for salon in salons if salon.id == c.id
    )
    return salons, toml


def _toml(company: CompanyRow, salon: Salon, calendar: str) -> str:
    key_env, secret_env = list(salon.env)
    account = (
        f'calendar = "calcom"\ncalcom_api_key_env = "{key_env}"\n'
        f'calcom_webhook_secret_env = "{secret_env}"\n'
        if calendar == "calcom"
        else 'calendar = "local"\n'
    )
    days = "\n".join(
        f'{d} = "00:00-24:00"' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    )
    services = "".join(
        f"\n[[companies.services]]\nname = {json.dumps(name, ensure_ascii=False)}\n"
        f"duration_minutes = {minutes}\ncalcom_event_type_id = {event_type}\n"
        for name, minutes, event_type in salon.services
    )
    return (
        f"[[companies]]\nslug = {json.dumps(company.slug)}\n"
        f"name = {json.dumps(company.name, ensure_ascii=False)}\n"
        f'timezone = "{company.timezone}"\nlanguage = "{company.language}"\n'
        f"max_appointments_per_day = {company.max_appointments_per_day}\n"
        f'retell_agent_ids = ["{salon.agent_id}"]\n{account}'
        f"\n[companies.opening_hours]\n{days}\n{services}"
    )


def _emulator_config(salons: list[Salon]) -> dict[str, Any]:
    return {
        "api_keys": [s.api_key for s in salons],
        "event_types": [{"id": e, "length": m} for s in salons for _n, m, e in s.services],
    }


# -- load -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversation:
    """One caller asking for one free slot: collect, then book."""

    salon: Salon
    phone: str
    name: str
    service: tuple[str, int, int]
    start: datetime

    @property
    def key(self) -> str:
        """How the calendar requests of this conversation are recognised."""
        return f"{self.service[2]}|{self.start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"

    def args(self) -> dict[str, Any]:
        """The Retell arguments (local date and time of the salon)."""
        return {
            "customer_name": self.name,
            "service": self.service[0],
            "date": self.start.date().isoformat(),
            "time": self.start.strftime("%H:%M"),
        }


@dataclass(frozen=True)
class Sample:
    """One measured function call."""

    function: str
    status: str
    seconds: float
    key: str
    call_id: str


def _conversations(
    salons: list[Salon], count: int, today: date, calendar: str
) -> list[Conversation]:
    """``count`` conversations round-robin over the salons, each caller and slot used once."""
    result = []
    for n in range(count):
        salon = salons[n % len(salons)]
        phone, name = salon.callers.pop()
        service = salon.services[n % len(salon.services)]
        start = salon.next_start(today, service[2] if calendar == "calcom" else 0)
        result.append(Conversation(salon, phone, name, service, start))
    return result


async def _call(
    client: httpx.AsyncClient, conversation: Conversation, function: str, call_id: str
) -> tuple[str, float]:
    call = {
        "call_id": call_id,
        "agent_id": conversation.salon.agent_id,
        "from_number": conversation.phone,
    }
    body = json.dumps({"name": function, "call": call, "args": conversation.args()}).encode()
    headers = {
        "content-type": "application/json",
        "x-retell-signature": sign(body, RETELL_KEY, int(time.time() * 1000)),
    }
    started = time.perf_counter()
    response = await client.post(f"/retell/functions/{function}", content=body, headers=headers)
    seconds = time.perf_counter() - started
    status = (
        response.json()["status"] if response.status_code == 200 else f"http_{response.status_code}"
    )
    return status, seconds


async def _drive(
    client: httpx.AsyncClient, conversations: list[Conversation], concurrency: int
) -> list[Sample]:
    queue = list(reversed(conversations))
    samples: list[Sample] = []

    async def caller() -> None:
        while queue:
            conversation = queue.pop()
            call_id = f"lat-{conversation.key}"
            for function in FUNCTIONS:
                status, seconds = await _call(client, conversation, function, call_id)
                samples.append(Sample(function, status, seconds, conversation.key, call_id))

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return samples


# -- /metrics of every worker -----------------------------------------------------------------


def _scrape(base: str, workers: int) -> tuple[dict[tuple[str, str], float], int]:
    """Sum the histograms over every worker; a new connection per scrape reaches any of them.

    Idle workers answer identical text every time, so distinct texts are distinct workers.
    """
    seen: dict[str, str] = {}
    for _ in range(80):
        text = httpx.get(f"{base}/metrics", timeout=10).text
        seen.setdefault(hashlib.sha256(text.encode()).hexdigest(), text)
        if len(seen) >= workers:
            break
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for text in seen.values():
        for line in text.splitlines():
            if line.startswith(("slotguard_function_call_seconds_", "slotguard_calendar_")):
                series, value = line.rsplit(" ", 1)
                name, _, labels = series.partition("{")
                totals[(name, labels)] += float(value)
    return totals, len(seen)


def _metric_means(
    before: dict[tuple[str, str], float], after: dict[tuple[str, str], float], function: str
) -> dict[str, Any]:
    def total(name: str, label: str) -> float:
        return sum(after[k] - before.get(k, 0.0) for k in after if k[0] == name and label in k[1])

    count = total("slotguard_function_call_seconds_count", f'function="{function}"')
    spent = total("slotguard_function_call_seconds_sum", f'function="{function}"')
    endpoint = f'endpoint="{CALENDAR_ENDPOINT[function]}"'
    waited = total("slotguard_calendar_request_seconds_sum", endpoint)
    if not count:
        return {}
    return {
        "server_mean_ms": round(spent / count * 1000, 2),
        "calendar_mean_ms": round(waited / count * 1000, 2),
        "own_mean_ms": round((spent - waited) / count * 1000, 2),
        "calendar_share": round(waited / spent, 3) if spent else None,
    }


# -- running ----------------------------------------------------------------------------------


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    return {"p50": rank(0.5), "p99": rank(0.99), "max": round(ordered[-1] * 1000, 2)}


async def _seed(url: str, appointments: int, seed: int, say: Callable[[str], None]) -> Any:
    try:
        from slotguard.testing.seed import SeedPlan, fill
    except ImportError:  # written by another engineer; run without it and say so
        say("slotguard.testing.seed is missing: running on an empty database")
        return {"skipped": "slotguard.testing.seed is not available"}
    customers = max(50, min(100_000, appointments // 10))
    plan = SeedPlan(companies=50, customers=customers, appointments=appointments, seed=seed)
    engine = create_engine(url)
    try:
        report = await fill(engine, plan, progress=say)
    finally:
        await engine.dispose()
    return {
        "companies": report.companies,
        "customers": report.customers,
        "appointments": report.appointments,
        "seconds": round(report.seconds, 1),
    }


async def run(options: Options, say: Callable[[str], None] = _stderr) -> dict[str, Any]:
    """Seed, serve, drive every level; returns the report."""
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        workdir = options.workdir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="slotguard-latency-"))
        )
        workdir.mkdir(parents=True, exist_ok=True)
        url = await asyncio.to_thread(databases.create_pg_database, "slotguard_latency")
        try:
            await asyncio.to_thread(databases.migrate, url)
            say(f"seeding {options.appointments:,} appointments")
            seeded = await _seed(url, options.appointments, options.seed, say)
            say(f"seeded: {seeded}")
            report = await _serve_and_drive(url, options, workdir, say)
        finally:
            await asyncio.to_thread(databases.drop_pg_database, url)
    report["seeded"] = seeded
    report["load_average"] = {"before": load_before, "after": os.getloadavg()}
    return report


async def _serve_and_drive(
    url: str, options: Options, workdir: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    salons, toml = await _salons(url, options.calendar)
    if not salons:
        raise RuntimeError("no seeded company has callers with valid numbers")
    tenants_file = workdir / "tenants.toml"
    tenants_file.write_text(toml, encoding="utf-8")
    secrets = {k: v for salon in salons for k, v in salon.env.items()}
    with contextlib.ExitStack() as stack:
        emulator_url = stack.enter_context(_emulator_process(_emulator_config(salons), workdir))
        env = {
            **secrets,
            "SLOTGUARD_RETELL_API_KEY": RETELL_KEY,
            "SLOTGUARD_CALCOM_BASE_URL": emulator_url,
            "SLOTGUARD_RECONCILE_INTERVAL_SECONDS": "0",
            "SLOTGUARD_CALENDAR_SYNC_INTERVAL_SECONDS": "0",
            # The emulator allows 10M a minute here (latency, not pacing, is measured).
            "SLOTGUARD_CALCOM_RATE_LIMIT_PER_MINUTE": "10000000",
            # The function_call log line carries each call's server-side duration.
            "SLOTGUARD_LOG_LEVEL": "info",
        }
        base, _process = stack.enter_context(
            processes.serve(
                url, tenants_file, workers=options.workers, env=env, log_file=workdir / "serve.log"
            )
        )
        say(f"{len(salons)} salons on {base}; calendar {emulator_url} (own process)")
        today = datetime.now(UTC).date()
        limits = httpx.Limits(max_connections=max(options.levels) + 8)
        levels: dict[str, Any] = {}
        measured_calls: dict[str, Measured] = {}
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
            for concurrency in options.levels:
                warm = _conversations(salons, options.warmup, today, options.calendar)
                await _drive(client, warm, concurrency)
                measured = _conversations(salons, options.requests // 2, today, options.calendar)
                levels[str(concurrency)], measured_calls[str(concurrency)] = await _level(
                    client, base, emulator_url, measured, concurrency, options.workers
                )
                book = levels[str(concurrency)]["book_appointment"]
                say(f"{concurrency} callers: book, client side {json.dumps(book['client_ms'])}")
    durations = _server_durations(workdir / "serve.log")
    replies: Counter[str] = Counter()
    for level, calls in measured_calls.items():
        replies.update(f"{s.function}:{s.status}" for s in calls.samples)
        for function in FUNCTIONS:
            levels[level][function].update(_own_part(calls, function, durations))
    return {
        "engine": "postgresql",
        "calendar": options.calendar,
        "workers": options.workers,
        "salons": len(salons),
        "requests_per_level": options.requests,
        "levels": levels,
        "replies": dict(replies),
        "goals": _goals(levels),
    }


@dataclass(frozen=True)
class Measured:
    """The calls of one level and how long the calendar took for each conversation."""

    samples: list[Sample]
    calendar: dict[tuple[str, str], float]  # (GET|POST, key) → seconds in the emulator


async def _level(
    client: httpx.AsyncClient,
    base: str,
    emulator_url: str,
    conversations: list[Conversation],
    concurrency: int,
    workers: int,
) -> tuple[dict[str, Any], Measured]:
    await client.get(f"{emulator_url}/_bench/timings")  # forget the warm-up's
    before, _seen = await asyncio.to_thread(_scrape, base, workers)
    started = time.perf_counter()
    samples = await _drive(client, conversations, concurrency)
    wall = time.perf_counter() - started
    after, seen = await asyncio.to_thread(_scrape, base, workers)
    timings = (await client.get(f"{emulator_url}/_bench/timings")).json()
    calendar: dict[tuple[str, str], float] = defaultdict(float)
    for method, key, seconds in timings:
        if key is not None:
            calendar[(method, key)] += seconds
    measured = Measured(samples, calendar)
    result: dict[str, Any] = {"wall_seconds": round(wall, 2), "workers_scraped": seen}
    for function in FUNCTIONS:
        mine = [s for s in samples if s.function == function]
        waits = [measured.calendar.get((_METHOD[function], s.key), 0.0) for s in mine]
        result[function] = {
            "requests": len(mine),
            "requests_per_second": round(len(mine) / wall, 1),
            "client_ms": _ms([s.seconds for s in mine]),
            "calendar_ms": _ms(waits),
            "client_minus_calendar_ms": _ms(
                [s.seconds - w for s, w in zip(mine, waits, strict=True)]
            ),
            "metrics": _metric_means(before, after, function),
        }
    return result, measured


_METHOD = {"collect_appointment_data": "GET", "book_appointment": "POST"}


def _server_durations(log: Path) -> dict[tuple[str, str], float]:
    """(call id, function) → seconds the worker spent, from its ``function_call`` log lines."""
    durations: dict[tuple[str, str], float] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"function_call"' not in line:
            continue
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            durations[(event["call_id"], event["action"])] = event["duration_ms"] / 1000
    return durations


def _own_part(
    calls: Measured, function: str, durations: dict[tuple[str, str], float]
) -> dict[str, Any]:
    """slotguard's own part per call: the worker's time minus the calendar's answer time."""
    server, own = [], []
    for sample in calls.samples:
        spent = durations.get((sample.call_id, function))
        if sample.function != function or spent is None:
            continue
        server.append(spent)
        own.append(spent - calls.calendar.get((_METHOD[function], sample.key), 0.0))
    return {"server_ms": _ms(server), "own_ms": _ms(own), "server_samples": len(server)}


def _goals(levels: dict[str, Any]) -> dict[str, Any]:
    at = levels.get(str(GOAL_LEVEL))
    if at is None:
        return {}
    goals = {}
    for function, goal in GOALS_MS.items():
        own = at[function]["own_ms"].get("p99")
        goals[function] = {
            "own_p99_ms": own,
            "goal_ms": goal,
            "met": own is not None and own <= goal,
        }
    return goals


def _parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="bench.latency", description=__doc__.split("\n")[0])
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2_000, help="measured per level")
    parser.add_argument("--warmup", type=int, default=100, help="conversations per level")
    parser.add_argument("--levels", default="1,16,64", help="concurrent callers, comma-separated")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument(
        "--calendar",
        choices=("calcom", "local"),
        default="calcom",
        help="where the salons book: Cal.com (the emulator) or the local calendar",
    )
    a = parser.parse_args(argv)
    levels = tuple(int(x) for x in a.levels.split(","))
    return Options(
        a.appointments, a.requests, a.warmup, levels, a.workers, a.seed, a.workdir, a.calendar
    )


def main(argv: list[str] | None = None) -> int:
    """Run and print the JSON report (or serve the emulator, for the child process)."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--emulator-only"]:
        emulator_main(Path(args[1]), int(args[3]))
        return 0
    report = asyncio.run(run(_parse(args)))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
