"""Chaos: N phone calls with real duplicate patterns against slotguard and a faulty Cal.com.

    .venv/bin/python -m bench.chaos [--calls 2000] [--seed 7] [--sqlite] [--fast]

Starts a throwaway database (PostgreSQL, or a SQLite file with ``--sqlite``), the Cal.com
emulator on loopback, a webhook router (the emulator is one Cal.com account; the router hands
each salon's webhooks to that salon's URL, signed with its secret) and ``slotguard serve
--workers N`` as real processes. It plays the scenarios of ``bench.chaos_scenarios`` under
injected faults (5 % 500s, 2 % timeouts after the booking was made, 429 bursts, 200-800 ms
latency, webhooks replayed, delayed, reversed or never sent), lets webhooks finish, runs the
reconciler until nothing is pending and ``sync_company`` once per salon, then checks:

* no caller holds two overlapping active bookings in Cal.com that slotguard let through;
* no caller holds two overlapping active appointments locally (kept external duplicates,
  flagged with ``duplicate_of_id``, are counted apart);
* no booking is lost: every active Cal.com booking has exactly one active local row with its
  uid, every active local row has its active Cal.com booking, nothing is left ``pending``.

One JSON object on stdout, progress on stderr; the exit status is 1 when an invariant broke.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests import databases
from tests.concurrency import processes

from bench.chaos_scenarios import (
    ZONE,
    ZONE_NAME,
    Kind,
    Plan,
    Reply,
    Wish,
    build_plan,
    default_tenants,
    play,
)
from slotguard.booking import reconcile
from slotguard.booking.sync import sync_company
from slotguard.calendar.provider import RESERVATION_METADATA_KEY
from slotguard.domain import ACTIVE_STATUSES
from slotguard.observability import configure_logging
from slotguard.retell.signature import sign
from slotguard.runtime import open_context
from slotguard.settings import Settings
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.companies import CompanyRepository
from slotguard.store.db import create_engine, session_factory
from slotguard.store.tables import AppointmentRow, WebhookEventRow
from slotguard.testing import CalcomEmulator, EmulatorConfig, serve_in_thread
from slotguard.testing.calcom_emulator import Booking, CalcomError, Delivery
from slotguard.testing.calcom_emulator import sign as calcom_sign

RETELL_KEY = "key_chaos_retell"
ROUTER_SECRET = "whsec_chaos_router"
P500 = 0.05  # share of Cal.com requests answered 500 before anything happens
P_TIMEOUT_AFTER_COMMIT = 0.02  # share of mutations that commit, then never answer
BURST = 4  # 429s in a row per burst, each with Retry-After: 1
# Webhook delivery modes, switched every phase: (mode, share of the time).
MODES = (
    ("normal", 0.5),
    ("duplicate", 0.15),
    ("delay", 0.15),
    ("hold_reverse", 0.1),
    ("drop", 0.1),
)
MAX_RECONCILE_ROUNDS = 20
ACTIVE = frozenset(s.value for s in ACTIVE_STATUSES)
CALCOM_ACTIVE = frozenset({"accepted", "pending"})


@dataclass(frozen=True)
class Pace:
    """Every duration of a run; ``--fast`` scales the calendar and the callers down."""

    latency_ms: tuple[float, float]  # Cal.com latency, uniform
    scale: float  # multiplies retry delays and the time between website and agent bookings
    calcom_timeout: float  # slotguard's Cal.com client timeout
    grace: float  # the servers' reconciler leaves younger pending rows alone
    reconcile_interval: float
    phase: float  # seconds per webhook mode
    burst_every: float  # seconds between 429 bursts
    webhook_delay: tuple[float, float]  # the delay knob's range in "delay" phases


NORMAL = Pace((200, 800), 1.0, 3.0, 8.0, 2.0, 2.0, 5.0, (1.0, 3.0))
FAST = Pace((20, 80), 0.1, 1.5, 6.0, 1.0, 0.4, 3.0, (0.2, 0.8))


@dataclass
class Options:
    """What to run."""

    calls: int = 2_000
    seed: int = 7
    concurrency: int = 32  # phone calls in flight
    fast: bool = False
    sqlite: bool = False
    workers: int | None = None  # default: 2 on PostgreSQL, 1 on SQLite
    tenants: int | None = None  # default: one salon per 20 calls
    log_level: str = "warning"
    workdir: Path | None = None  # keep the servers' log here (default: a temporary directory)
    keep_database: bool = False  # for a post-mortem: the PostgreSQL database is not dropped

    @property
    def pace(self) -> Pace:
        """The durations of this run."""
        return FAST if self.fast else NORMAL

    @property
    def worker_count(self) -> int:
        """slotguard worker processes."""
        return self.workers or (1 if self.sqlite else 2)


def _stderr(line: str) -> None:
    print(f"[chaos] {line}", file=sys.stderr, flush=True)


# -- the webhook router ----------------------------------------------------------------------


class WebhookRouter:
    """Cal.com webhooks belong to one account; route each to its salon's URL, re-signed."""

    def __init__(self, base: str, plan: Plan) -> None:
        self.base = base
        self.by_event_type = plan.tenant_of_event_type()
        self.unrouted = 0
        self._client: httpx.AsyncClient | None = None
        self.app = Starlette(
            routes=[Route("/", self._deliver, methods=["POST"])], lifespan=self._lifespan
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self._client = httpx.AsyncClient(timeout=30)
        try:
            yield
        finally:
            await self._client.aclose()

    async def _deliver(self, request: Request) -> Response:
        body = await request.body()
        payload = json.loads(body).get("payload") or {}
        tenant = self.by_event_type.get(int(payload.get("eventTypeId") or 0))
        if tenant is None or self._client is None:
            self.unrouted += 1
            return Response(status_code=404)
        headers = {
            "content-type": "application/json",
            "x-cal-signature-256": calcom_sign(tenant.secret, body),
            "x-cal-webhook-version": request.headers.get("x-cal-webhook-version", "2021-10-20"),
        }
        url = f"{self.base}/calcom/webhook/{tenant.slug}"
        answer = await self._client.post(url, content=body, headers=headers)
        return Response(answer.content, answer.status_code, media_type="application/json")


# -- the weather: faults on the emulator -----------------------------------------------------


class Weather:
    """The faults of the call phase: chaos, latency, 429 bursts and webhook delivery modes."""

    def __init__(self, emulator: CalcomEmulator, pace: Pace, seed: int) -> None:
        self.emulator, self.pace, self.seed = emulator, pace, seed
        self.rng = random.Random(seed)
        self.mode_seconds: dict[str, float] = defaultdict(float)
        self.bursts = 0
        self.released = 0
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Turn every fault on."""
        faults = self.emulator.faults
        faults.chaos(self.seed, p500=P500, p_timeout_after_commit=P_TIMEOUT_AFTER_COMMIT)
        faults.set_latency(self.pace.latency_ms)
        self._tasks = [asyncio.create_task(self._modes()), asyncio.create_task(self._bursts())]

    async def calm(self) -> None:
        """Turn every fault off and send what is held."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        knobs = self.emulator.webhooks.knobs
        knobs.drop = knobs.duplicate = False
        knobs.delay_seconds = 0.0
        if knobs.hold:
            knobs.hold = False
            self.released += self.emulator.webhooks.release("reverse")
        self.emulator.faults.clear()

    async def _modes(self) -> None:
        names, weights = [m for m, _ in MODES], [w for _, w in MODES]
        knobs = self.emulator.webhooks.knobs
        while True:
            mode = self.rng.choices(names, weights)[0]
            knobs.duplicate, knobs.drop = mode == "duplicate", mode == "drop"
            knobs.delay_seconds = (
                self.rng.uniform(*self.pace.webhook_delay) if mode == "delay" else 0
            )
            knobs.hold = mode == "hold_reverse"
            started = time.perf_counter()
            try:
                await asyncio.sleep(self.pace.phase)
            finally:
                self.mode_seconds[mode] += time.perf_counter() - started
                if mode == "hold_reverse":
                    knobs.hold = False
                    self.released += self.emulator.webhooks.release("reverse")

    async def _bursts(self) -> None:
        while True:
            await asyncio.sleep(self.pace.burst_every)
            self.emulator.faults.fail_next(BURST, status=429, retry_after=1)
            self.bursts += 1


# -- the phone lines -------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One function call as Retell saw it."""

    function: str
    kind: str
    status: str
    reason: str | None
    seconds: float
    repeat: bool
    appointment_id: int | None = None


@dataclass
class Lines:
    """The ``Stage`` of the scenarios: signed calls to slotguard, website bookings in Cal.com."""

    client: httpx.AsyncClient
    plan: Plan
    emulator: CalcomEmulator
    scale: float
    exchanges: list[Exchange] = field(default_factory=list)
    website_outcomes: Counter[str] = field(default_factory=Counter)
    repeats: Counter[str] = field(default_factory=Counter)
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)

    async def call(
        self,
        function: str,
        args: dict[str, Any],
        *,
        call_id: str,
        wish: Wish,
        kind: Kind,
        repeat: bool = False,
    ) -> Reply:
        """One signed Retell function call; transport errors and non-200s become ``http_error``."""
        tenant = self.plan.tenants[wish.tenant]
        call = {"call_id": call_id, "agent_id": tenant.agent_id, "from_number": wish.caller}
        body = json.dumps({"name": function, "call": call, "args": args}, ensure_ascii=False)
        raw = body.encode()
        headers = {
            "content-type": "application/json",
            "x-retell-signature": sign(raw, RETELL_KEY, int(time.time() * 1000)),
        }
        started = time.perf_counter()
        try:
            response = await self.client.post(
                f"/retell/functions/{function}", content=raw, headers=headers
            )
        except httpx.HTTPError as problem:
            reply: Reply = {"status": "http_error", "reason": type(problem).__name__}
        else:
            if response.status_code == 200:
                reply = response.json()
            else:
                reply = {"status": "http_error", "reason": f"HTTP {response.status_code}"}
        seconds = time.perf_counter() - started
        if reply["status"] == "http_error":
            self.http_errors.append(f"{function} {call_id}: {reply['reason']}")
        appointment = reply.get("appointment") or {}
        self.exchanges.append(
            Exchange(
                function, kind.value, reply["status"], reply.get("reason"), seconds, repeat,
                appointment.get("id"),
            )
        )  # fmt: skip
        return reply

    def website(self, wish: Wish, kind: Kind) -> bool:
        """Book directly in Cal.com, as the caller on the website (the webhook fires)."""
        tenant = self.plan.tenants[wish.tenant]
        try:
            self.emulator.book_directly(
                self.plan.start(wish.slot).astimezone(UTC),
                event_type_id=tenant.event_type_id(wish.service),
                name=wish.name,
                email=None,
                phone_number=wish.caller,
                time_zone=ZONE_NAME,
            )
        except CalcomError:
            self.website_outcomes["refused_slot_taken"] += 1
            return False
        self.website_outcomes["booked"] += 1
        return True

    def repeat_answered(self, first: Reply, again: Reply, how: str) -> None:
        """Count whether a repeated request got the first reply (or what became of it)."""
        verdict = _compare(first, again)
        self.repeats[f"{how}:{verdict}"] += 1
        if verdict == "different":
            self.mismatches.append({"how": how, "first": _brief(first), "again": _brief(again)})


def _brief(reply: Reply) -> dict[str, Any]:
    appointment = reply.get("appointment") or {}
    return {"status": reply["status"], "reason": reply.get("reason"), "id": appointment.get("id")}


def _compare(first: Reply, again: Reply) -> str:
    a, b = _brief(first), _brief(again)
    if a == b:
        return "identical"
    if a["status"] == "pending" and b["status"] in ("booked", "error") and a["id"] == b["id"]:
        return "settled_since"  # refresh_pending tells what became of it
    if b["status"] == "pending" and b["reason"] == "busy":
        return "still_busy"
    return "different"


# -- running ---------------------------------------------------------------------------------


async def run(options: Options, say: Callable[[str], None] = _stderr) -> dict[str, Any]:
    """Run the chaos described by ``options``; returns the report (``violations`` empty = ok)."""
    today = datetime.now(ZONE).date()
    tenants = options.tenants or default_tenants(options.calls)
    plan = build_plan(options.calls, options.seed, tenants, today)
    say(
        f"{len(plan.scenarios)} scenarios, {plan.calls} calls, {tenants} salons, "
        f"{'SQLite' if options.sqlite else 'PostgreSQL'} × {options.worker_count} workers"
    )
    load_before = os.getloadavg()
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        workdir = options.workdir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="slotguard-chaos-"))
        )
        workdir.mkdir(parents=True, exist_ok=True)
        url = await _database(options.sqlite, workdir)
        try:
            report = await _run_on(url, plan, options, workdir, say)
        finally:
            if options.keep_database:
                say(f"database kept: {url}")
            elif not options.sqlite:
                await asyncio.to_thread(databases.drop_pg_database, url)
    report["run_seconds"] = round(time.perf_counter() - started, 1)
    report["load_average"] = {"before": load_before, "after": os.getloadavg()}
    return report


async def _database(sqlite: bool, workdir: Path) -> str:
    if sqlite:
        url = f"sqlite:///{workdir / 'chaos.db'}"
    else:
        url = await asyncio.to_thread(databases.create_pg_database, "slotguard_chaos")
    await asyncio.to_thread(databases.migrate, url)
    return url


async def _run_on(
    url: str, plan: Plan, options: Options, workdir: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    pace = options.pace
    config = EmulatorConfig(
        api_keys=tuple(t.api_key for t in plan.tenants), event_types=tuple(plan.event_types())
    )
    emulator = CalcomEmulator(config)
    tenants_file = workdir / "tenants.toml"
    tenants_file.write_text(plan.tenants_toml(), encoding="utf-8")
    with contextlib.ExitStack() as stack:
        emulator_url = stack.enter_context(serve_in_thread(emulator.app))
        env = {
            **plan.secrets(),
            "SLOTGUARD_RETELL_API_KEY": RETELL_KEY,
            "SLOTGUARD_CALCOM_BASE_URL": emulator_url,
            "SLOTGUARD_CALCOM_TIMEOUT_SECONDS": str(pace.calcom_timeout),
            "SLOTGUARD_PENDING_GRACE_SECONDS": str(pace.grace),
            "SLOTGUARD_RECONCILE_INTERVAL_SECONDS": str(pace.reconcile_interval),
            "SLOTGUARD_LOG_LEVEL": options.log_level,
        }
        log = workdir / "serve.log"
        base, _process = stack.enter_context(
            processes.serve(url, tenants_file, workers=options.worker_count, env=env, log_file=log)
        )
        router = WebhookRouter(base, plan)
        emulator.subscribe_webhook(
            stack.enter_context(serve_in_thread(router.app)) + "/", ROUTER_SECRET
        )
        stack.callback(setattr, emulator.webhooks.knobs, "hold", True)  # nothing after the end
        say(f"serving on {base}; calendar {emulator_url}; log {log}")
        weather = Weather(emulator, pace, options.seed)
        limits = httpx.Limits(max_connections=options.concurrency * 3)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
            lines = Lines(client, plan, emulator, pace.scale)
            weather.start()
            calls_started = time.perf_counter()
            harness_errors = await _play_all(lines, plan, options.concurrency, say)
            calls_seconds = time.perf_counter() - calls_started
            await weather.calm()
        say("calls done; waiting for webhooks")
        await _webhooks_finished(emulator)
        settled = await _settle(url, emulator_url, plan, say, sync=False)
        # Production runs no final sync: what slotguard made must hold before it, too.
        before = await _check(url, emulator, plan, ours_only=True)
        settled_after = await _settle(url, emulator_url, plan, say, sync=True)
        settled = {k: [settled[k], settled_after[k]] for k in settled}
        checks = await _check(url, emulator, plan)
        checks["failed_after_pending"] = await _failed_after_pending(url, lines, checks)
    report = _report(plan, options, lines, weather, emulator, settled, checks)
    report["invariants_before_sync"] = before["invariants"]
    report["violations"] += [f"before sync: {v}" for v in before["violations"]]
    report["calls_seconds"] = round(calls_seconds, 1)
    report["webhooks"]["unrouted"] = router.unrouted
    report["violations"] += [f"harness: {e}" for e in harness_errors]
    report["ok"] = not report["violations"]
    report["unexplained_violations"] = [v for v in report["violations"] if "[known: " not in v]
    return report


async def _play_all(
    lines: Lines, plan: Plan, concurrency: int, say: Callable[[str], None]
) -> list[str]:
    gate = asyncio.Semaphore(concurrency)
    errors: list[str] = []
    done = 0
    step = max(1, len(plan.scenarios) // 10)

    async def one(number: int) -> None:
        nonlocal done
        async with gate:
            try:
                await play(lines, plan.scenarios[number])
            except Exception as problem:  # a harness bug must not hide the other results
                errors.append(f"scenario {number}: {problem!r}")
        done += 1
        if done % step == 0:
            say(f"{done}/{len(plan.scenarios)} scenarios, {len(lines.exchanges)} function calls")

    await asyncio.gather(*(one(n) for n in range(len(plan.scenarios))))
    return errors


async def _webhooks_finished(emulator: CalcomEmulator, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while any(d.outcome in ("pending", "held") for d in emulator.webhooks.deliveries):
        if time.monotonic() > deadline:
            raise TimeoutError("webhook deliveries did not finish")
        await asyncio.sleep(0.1)


async def _settle(
    url: str, emulator_url: str, plan: Plan, say: Callable[[str], None], *, sync: bool
) -> dict[str, Any]:
    """Reconcile until nothing is pending; with ``sync``, then sync every salon and reconcile."""
    os.environ.update(plan.secrets())  # the Cal.com client reads each salon's key from here
    settings = Settings(
        database_url=url,
        calcom_base_url=emulator_url,
        calcom_timeout_seconds=10,
        reconcile_interval_seconds=0,
    )
    totals: Counter[str] = Counter()
    synced: Counter[str] = Counter()
    async with open_context(settings) as ctx:
        rounds = await _reconcile_until_clear(ctx, totals)
        if sync:
            async with ctx.sessions() as session:
                companies = {c.slug: c for c in await CompanyRepository(session).all()}
            for tenant in plan.tenants:
                since, until = tenant.window()
                synced += await sync_company(ctx, companies[tenant.slug], since, until)
            rounds += await _reconcile_until_clear(ctx, totals)
    say(f"settled: {rounds} reconciler rounds {dict(totals)}; sync {dict(synced)}")
    return {"reconcile_rounds": rounds, "reconciled": dict(totals), "sync": dict(synced)}


async def _reconcile_until_clear(ctx: Any, totals: Counter[str]) -> int:
    for round_number in range(1, MAX_RECONCILE_ROUNDS + 1):
        report = await reconcile.run_once(ctx, grace=timedelta(0))
        totals.update(
            booked=report.booked,
            failed=report.failed,
            unreachable=report.unreachable,
            events_applied=report.events_applied,
        )
        async with ctx.sessions() as session:
            pending, _age = await AppointmentRepository(session).pending_stats(ctx.clock())
        if pending == 0:
            return round_number
    return MAX_RECONCILE_ROUNDS


# -- the invariants --------------------------------------------------------------------------


async def _failed_after_pending(url: str, lines: Lines, checks: dict[str, Any]) -> dict[str, int]:
    """Bookings answered ``pending`` that ended failed: (slot taken by another booking, not).

    The goal is zero unless the slot was taken meanwhile; a failure with the slot free is a
    booking the service lost, and a violation.
    """
    promised = {
        e.appointment_id
        for e in lines.exchanges
        if e.function == "book_appointment" and e.status == "pending" and e.appointment_id
    }
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            rows = list(await session.scalars(select(AppointmentRow)))
    finally:
        await engine.dispose()
    active = [r for r in rows if r.status in ACTIVE and r.deleted_at is None]
    taken = free = 0
    for row in rows:
        if row.id not in promised or row.status != "failed":
            continue
        if any(
            o.company_id == row.company_id
            and o.starts_at < row.ends_at
            and row.starts_at < o.ends_at
            for o in active
        ):
            taken += 1
        else:
            free += 1
            checks["violations"].append(
                f"appointment {row.id} failed after a pending answer with its slot free"
            )
    return {"promised": len(promised), "failed_slot_taken": taken, "failed_slot_free": free}


def _overlapping(items: list[tuple[datetime, datetime, Any]]) -> Iterable[tuple[Any, Any]]:
    """Every overlapping pair (half-open spans)."""
    ordered = sorted(items, key=lambda item: item[0])
    for i, (_start, end, a) in enumerate(ordered):
        for other_start, _other_end, b in ordered[i + 1 :]:
            if other_start >= end:
                break
            yield a, b


async def _check(
    url: str, emulator: CalcomEmulator, plan: Plan, *, ours_only: bool = False
) -> dict[str, Any]:
    """The invariants; ``ours_only`` checks only the bookings slotguard made (before the sync,
    a website booking whose webhook was lost is legitimately not mirrored yet)."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            rows = list(await session.scalars(select(AppointmentRow)))
            failed_events = list(
                await session.scalars(
                    select(WebhookEventRow).where(WebhookEventRow.error.is_not(None))
                )
            )
    finally:
        await engine.dispose()
    bookings = emulator.bookings
    if ours_only:
        bookings = [b for b in bookings if RESERVATION_METADATA_KEY in b.metadata]
        rows = [r for r in rows if r.source == "agent"]
    by_uid: dict[str, list[AppointmentRow]] = defaultdict(list)
    for row in rows:
        if row.calcom_booking_uid:
            by_uid[row.calcom_booking_uid].append(row)
    violations: list[str] = []
    calcom_duplicates, external = _calcom_duplicates(bookings, by_uid, plan, violations)
    local_duplicates, kept_external = _local_duplicates(rows, violations)
    lost, phantom, pending, known = _lost(bookings, rows, by_uid, violations)
    for event in failed_events:
        race = "appointments_no_overlap_excl" in (event.error or "")
        known.update(["mirror_races_agent"] if race else [])
        violations.append(
            f"webhook event {event.id} ({event.trigger}) failed to apply: {event.error}"
            + (" [known: mirror_races_agent]" if race else "")
        )
    return {
        "invariants": {
            "calcom_duplicates": calcom_duplicates,
            "local_duplicates": local_duplicates,
            "lost_bookings": lost,
            "local_rows_without_calcom_booking": phantom,
            "pending_left": pending,
            "webhook_events_failed": len(failed_events),
        },
        "known_bug_hits": dict(known),
        "external_duplicates_kept_flagged": kept_external,
        "external_collisions_in_calcom": external,
        "local_rows": dict(Counter(row.status for row in rows)),
        "calcom_bookings": dict(Counter(b.status for b in bookings)),
        "violations": violations,
    }


def _calcom_duplicates(
    bookings: list[Booking],
    by_uid: dict[str, list[AppointmentRow]],
    plan: Plan,
    violations: list[str],
) -> tuple[int, int]:
    """Per salon and attendee, overlapping active bookings: (let through, external and flagged).

    Two bookings slotguard made must never overlap. A booking made on the website may collide
    with one of ours (its webhook came late or never); then its mirror must carry the flag.
    """
    tenant_of = plan.tenant_of_event_type()
    people: dict[tuple[str, str], list[tuple[datetime, datetime, Any]]] = defaultdict(list)
    for b in bookings:
        if b.status in CALCOM_ACTIVE:
            who = b.attendees[0].phone_number or b.attendees[0].email.lower()
            people[(tenant_of[b.event_type.id].slug, who)].append((b.start, b.end, b))
    duplicates = external = 0
    for items in people.values():
        for a, b in _overlapping(items):
            ours = "slotguard_reservation" in a.metadata and "slotguard_reservation" in b.metadata
            flagged = any(r.duplicate_of_id for u in (a.uid, b.uid) for r in by_uid.get(u, []))
            if not ours and flagged:
                external += 1
                continue
            duplicates += 1
            note = "" if ours else " (one made on the website, its mirror not flagged)"
            violations.append(
                f"Cal.com duplicate for {a.attendees[0].phone_number}: {a.uid} "
                f"{a.start:%F %H:%M} / {b.uid} {b.start:%F %H:%M}{note}"
            )
    return duplicates, external


def _local_duplicates(rows: list[AppointmentRow], violations: list[str]) -> tuple[int, int]:
    """Per customer, overlapping slot-holding appointments: (duplicates, kept external ones)."""
    local: dict[int, list[tuple[datetime, datetime, Any]]] = defaultdict(list)
    kept_external = 0
    for row in rows:
        if row.status in ACTIVE and row.deleted_at is None:
            if row.duplicate_of_id is not None:
                kept_external += 1
            else:
                local[row.customer_id].append((row.starts_at, row.ends_at, row))
    duplicates = 0
    for items in local.values():
        for a, b in _overlapping(items):
            duplicates += 1
            violations.append(f"local duplicate: appointments {a.id} and {b.id}")
    return duplicates, kept_external


# Defects of slotguard this harness found (bench/README.md § chaos); a lost booking that fits
# one is named after it, so a run tells known trouble from new trouble.
KNOWN_BUGS = {
    "reschedule_answer_lost": "Cal.com moved the booking but its answer was lost (timeout): "
    "the new booking carries the old reservation key, so neither the webhook nor the "
    "reconciler links it; the new row ends failed",
    "cancel_of_pending": "a pending appointment was cancelled locally only; Cal.com had "
    "booked it, and the late webhook cannot revive a cancelled row",
    "reschedule_of_pending": "a pending appointment was moved by creating a new booking; "
    "Cal.com had booked the old one, which nobody cancels",
    "reschedule_unsettled": "a reschedule got no clear answer (500, 429) and Cal.com did not "
    "move the booking; the reconciler fails the new row but leaves the old one 'rescheduled'",
    "mirror_races_agent": "the webhook of a website booking and the agent's booking of an "
    "overlapping slot for the same caller race (the mirror takes no customer lock): the "
    "exclusion constraint fails the webhook, which is stored as applied-with-error and never "
    "retried, so the booking stays unmirrored until `calcom sync`",
}


def _diagnosis(
    booking: Booking, by_key: dict[str, AppointmentRow], by_uid: dict[str, list[AppointmentRow]]
) -> str | None:
    """Which known defect explains a lost booking, if any."""
    mirror = by_uid.get(booking.uid, [])
    if len(mirror) == 1 and mirror[0].status == "rescheduled":
        return "reschedule_unsettled"
    ours = by_key.get(booking.metadata.get("slotguard_reservation", ""))
    if ours is None:
        return None
    moved_from = by_uid.get(booking.rescheduled_from_uid or "", [])
    if any(r.id == ours.id and r.status == "rescheduled" for r in moved_from):
        return "reschedule_answer_lost"
    if ours.calcom_booking_uid is None and ours.status == "cancelled":
        return "cancel_of_pending"
    if ours.calcom_booking_uid is None and ours.status == "rescheduled":
        return "reschedule_of_pending"
    return None


def _lost(
    bookings: list[Booking],
    rows: list[AppointmentRow],
    by_uid: dict[str, list[AppointmentRow]],
    violations: list[str],
) -> tuple[int, int, int, Counter[str]]:
    """Cal.com and the mirror agree one to one: (lost, rows without booking, pending, known)."""
    lost = phantom = 0
    known: Counter[str] = Counter()
    by_key = {row.reservation_key: row for row in rows}
    for b in bookings:
        mirror = by_uid.get(b.uid, [])
        if b.status in CALCOM_ACTIVE and (len(mirror) != 1 or mirror[0].status not in ACTIVE):
            lost += 1
            diagnosis = _diagnosis(b, by_key, by_uid)
            known.update([diagnosis] if diagnosis else [])
            violations.append(
                f"lost: Cal.com booking {b.uid} ({b.start:%F %H:%M}, "
                f"{b.attendees[0].phone_number}) has local rows "
                f"{[(r.id, r.status) for r in mirror]}"
                + (f" [known: {diagnosis}]" if diagnosis else "")
            )
    calcom_by_uid = {b.uid: b for b in bookings}
    for row in rows:
        if row.status not in ACTIVE or row.deleted_at is not None or row.status == "pending":
            continue
        booking = calcom_by_uid.get(row.calcom_booking_uid or "")
        if booking is None or booking.status not in CALCOM_ACTIVE:
            phantom += 1
            violations.append(
                f"appointment {row.id} ({row.status}) has no active Cal.com booking: "
                f"{row.calcom_booking_uid} is {booking.status if booking else 'unknown'}"
            )
    pending = sum(1 for row in rows if row.status == "pending")
    if pending:
        violations.append(f"{pending} appointments still pending")
    return lost, phantom, pending, known


# -- the report ------------------------------------------------------------------------------


def _percentiles(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {}
    ordered = sorted(seconds)

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

    return {"p50": rank(0.50), "p99": rank(0.99), "max": round(ordered[-1] * 1000, 1)}


def _calcom_figures(emulator: CalcomEmulator) -> dict[str, Any]:
    creates = [r for r in emulator.request_log if r.route == "POST /v2/bookings"]
    keys = Counter(
        ((r.body or {}).get("metadata") or {}).get("slotguard_reservation") for r in creates
    )
    made = [
        b
        for b in emulator.bookings
        if "slotguard_reservation" in b.metadata and b.rescheduled_from_uid is None
    ]
    refused_by_faults = sum(1 for r in creates if r.status in (429, 500))
    return {
        "requests": len(emulator.request_log),
        "requests_by_route": dict(Counter(r.route or "?" for r in emulator.request_log)),
        "request_statuses": dict(Counter(str(r.status) for r in emulator.request_log)),
        "creates": len(creates),
        "create_answers": dict(Counter(f"{r.status}/{r.outcome}" for r in creates)),
        "bookings_created_by_slotguard": len(made),
        "creates_per_successful_booking": round(len(creates) / len(made), 4) if made else None,
        "creates_per_successful_booking_without_injected_429_500": round(
            (len(creates) - refused_by_faults) / len(made), 4
        )
        if made
        else None,
        "reservations_sent_more_than_once": sum(1 for n in keys.values() if n > 1),
        # A pending create that never reached Cal.com is sent once more with the same key;
        # one key must never become two bookings.
        "reservations_booked_more_than_once": sum(
            1 for n in Counter(b.metadata["slotguard_reservation"] for b in made).values() if n > 1
        ),
    }


def _webhook_figures(deliveries: list[Delivery], weather: Weather) -> dict[str, Any]:
    bodies = Counter(d.body for d in deliveries)
    return {
        "deliveries": dict(Counter(d.outcome for d in deliveries)),
        "replayed": sum(n - 1 for n in bodies.values()),
        "released_reversed": weather.released,
        "mode_seconds": {k: round(v, 1) for k, v in weather.mode_seconds.items()},
    }


def _report(
    plan: Plan,
    options: Options,
    lines: Lines,
    weather: Weather,
    emulator: CalcomEmulator,
    settled: dict[str, Any],
    checks: dict[str, Any],
) -> dict[str, Any]:
    replies: dict[str, Counter[str]] = defaultdict(Counter)
    for e in lines.exchanges:
        replies[e.function][e.status if e.reason is None else f"{e.status}:{e.reason}"] += 1
    avoided = Counter(
        f"{e.function}:{e.status}"
        for e in lines.exchanges
        if e.status in ("warning", "refused")
        and e.function in ("book_appointment", "collect_appointment_data")
    )
    by_scenario: dict[str, Counter[str]] = defaultdict(Counter)
    for e in lines.exchanges:
        by_scenario[e.kind][f"{e.function.split('_')[0]}:{e.status}"] += 1
    latency = {"all": _percentiles([e.seconds for e in lines.exchanges])}
    for function in sorted({e.function for e in lines.exchanges}):
        latency[function] = _percentiles(
            [e.seconds for e in lines.exchanges if e.function == function]
        )
    return {
        "engine": "sqlite" if options.sqlite else "postgresql",
        "workers": options.worker_count,
        "calls": plan.calls,
        "scenarios": dict(Counter(f"{s.kind}:{s.variant}" for s in plan.scenarios)),
        "salons": len(plan.tenants),
        "seed": options.seed,
        "fast": options.fast,
        "concurrency": options.concurrency,
        "function_calls": len(lines.exchanges),
        "replies": {f: dict(c.most_common()) for f, c in sorted(replies.items())},
        "replies_by_scenario": {k: dict(c.most_common()) for k, c in sorted(by_scenario.items())},
        "calcom_calls_avoided_by_layers_1_and_2": {
            "book_appointment (creates)": avoided["book_appointment:warning"]
            + avoided["book_appointment:refused"],
            "collect_appointment_data (slot lookups)": avoided["collect_appointment_data:warning"]
            + avoided["collect_appointment_data:refused"],
            "by_reply": dict(avoided),
        },
        "repeats": dict(lines.repeats),
        "repeat_mismatches": lines.mismatches[:10],
        "website_bookings": dict(lines.website_outcomes),
        "latency_ms": latency,
        "calcom": _calcom_figures(emulator),
        "faults": {
            "p500": P500,
            "p_timeout_after_commit": P_TIMEOUT_AFTER_COMMIT,
            "bursts_of_429": weather.bursts,
            "burst_size": BURST,
            "latency_ms": list(options.pace.latency_ms),
        },
        "webhooks": _webhook_figures(emulator.webhooks.deliveries, weather),
        "settle": settled,
        **{k: v for k, v in checks.items() if k != "violations"},
        "http_errors": len(lines.http_errors),
        "violations": checks["violations"]
        + [f"slotguard did not answer 200: {e}" for e in lines.http_errors],
    }


def _parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="bench.chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2_000, help="phone calls to simulate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight")
    parser.add_argument("--fast", action="store_true", help="20-80 ms Cal.com, short delays")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, one worker")
    parser.add_argument("--workers", type=int, help="slotguard workers (2 PostgreSQL, 1 SQLite)")
    parser.add_argument("--tenants", type=int, help="salons (default: one per 20 calls)")
    parser.add_argument("--log-level", default="warning", help="the servers' log level")
    parser.add_argument("--workdir", type=Path, help="keep the servers' log here")
    parser.add_argument("--keep-database", action="store_true", help="do not drop it")
    a = parser.parse_args(argv)
    return Options(
        a.calls,
        a.seed,
        a.concurrency,
        a.fast,
        a.sqlite,
        a.workers,
        a.tenants,
        a.log_level,
        a.workdir,
        a.keep_database,
    )


def main(argv: list[str] | None = None) -> int:
    """Run, print the JSON report, exit 1 on a broken invariant."""
    options = _parse(argv)
    configure_logging(options.log_level, "console")  # the settle phase runs in this process
    report = asyncio.run(run(options))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    for violation in report["violations"][:20]:
        _stderr(f"VIOLATION {violation}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
