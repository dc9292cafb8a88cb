"""Failover: the chaos workload on a pg_auto_failover cluster whose primary is killed mid-run.

    .venv/bin/python -m bench.failover [--calls 1200] [--servers 3] [--kill-after 15]
                                       [--down-for 20] [--seed 7] [--pgbench-seconds 20]

Starts a cluster with ``scripts/pg-cluster.sh`` (monitor, primary, synchronous standby on
loopback), ``--servers`` separate ``slotguard serve`` processes on its multi-host URL behind a
round-robin balancer, and plays ``bench.chaos``'s scenarios with its Cal.com faults. After
``--kill-after`` seconds the primary's keeper and postmaster are SIGKILLed; ``--down-for``
seconds after a new primary took over, the old one is started again and rejoins as a standby.
A function call answered 503 (or cut off) is sent again after the Retry-After, to the next
server, as Retell and a load balancer do. Then the chaos checks run (duplicates in Cal.com
and locally, lost bookings, pending rows, reservation keys sent twice).

It also measures what one primary can carry: SQL statements and commits per booking
conversation (counted in-process) and pgbench's TPC-B rate on the cluster's primary with its
synchronous standby. One JSON object on stdout, progress on stderr; exit status 1 when an
invariant broke.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine
from tests import databases
from tests.calcom.conftest import SECRETS, WEBHOOK_SECRET, apply_calcom_tenants
from tests.concurrency import processes
from tests.pg_cluster import Cluster
from tests.signing import function_request

from bench import chaos
from bench.chaos_scenarios import Plan, Reply, build_plan, default_tenants
from slotguard.api import create_app
from slotguard.api.errors import RETRY_AFTER_SECONDS
from slotguard.observability import configure_logging
from slotguard.settings import Settings
from slotguard.store.db import create_engine
from slotguard.testing import CalcomEmulator, EmulatorConfig, serve_in_thread

# Retell sends a failed tool call at most twice more; we keep going to finish every scenario,
# and count the calls that needed more than Retell would have given them.
RETELL_ATTEMPTS = 3


def _say(line: str) -> None:
    print(f"[failover] {line}", file=sys.stderr, flush=True)


@dataclass
class Options:
    """What to run."""

    calls: int = 1_200
    seed: int = 7
    servers: int = 3
    concurrency: int = 24
    kill_after: float = 15.0
    down_for: float = 20.0
    attempts: int = 12
    pgbench_seconds: int = 20
    conversations: int = 40
    log_level: str = "warning"
    workdir: Path | None = None  # keep the servers' logs here (default: a temporary directory)


# -- the load balancer and Retell's retries --------------------------------------------------


class Balancer(httpx.AsyncBaseTransport):
    """Round robin over the serve processes: each request goes to the next one."""

    def __init__(self, bases: list[str]) -> None:
        self.ports = [httpx.URL(base).port for base in bases]
        self.turn = itertools.count()
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` to the next server."""
        request.url = request.url.copy_with(port=self.ports[next(self.turn) % len(self.ports)])
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self.inner.aclose()


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt of a function call."""

    function: str
    started: float
    seconds: float
    status: str  # the reply's status, or "http_error"
    detail: str | None


@dataclass
class RetryingLines(chaos.Lines):
    """chaos.Lines whose calls are sent again after a 503 or a cut connection."""

    attempts: int = 12
    timeline: list[Attempt] = field(default_factory=list)
    retries_needed: Counter[int] = field(default_factory=Counter)

    async def call(self, function: str, args: dict[str, Any], **how: Any) -> Reply:
        """One function call as Retell makes it, retried until answered (or attempts run out)."""
        for attempt in range(1, self.attempts + 1):
            started = time.monotonic()
            reply = await super().call(function, args, **how)
            detail = reply.get("reason")
            self.timeline.append(
                Attempt(function, started, time.monotonic() - started, reply["status"], detail)
            )
            if reply["status"] != "http_error" or attempt == self.attempts:
                self.retries_needed[attempt - 1] += 1
                return reply
            self.http_errors.remove(f"{function} {how['call_id']}: {detail}")  # retried, not final
            await asyncio.sleep(RETRY_AFTER_SECONDS)
        raise AssertionError("unreachable")


# -- the outage ------------------------------------------------------------------------------


@dataclass
class Outage:
    """When the primary died, when a new one took over, when the old one was back in sync."""

    old_primary: str = ""
    new_primary: str = ""
    killed: float = 0.0
    promoted: float = 0.0
    restarted: float = 0.0
    in_sync: float = 0.0


async def _kill_and_restore(cluster: Cluster, options: Options, outage: Outage) -> None:
    await asyncio.sleep(options.kill_after)
    outage.old_primary = await asyncio.to_thread(cluster.primary)
    _say(f"SIGKILL {outage.old_primary} (primary)")
    outage.killed = time.monotonic()
    await asyncio.to_thread(cluster.kill, outage.old_primary)
    await asyncio.to_thread(cluster.wait_primary, 120)
    outage.promoted = time.monotonic()
    outage.new_primary = await asyncio.to_thread(cluster.primary)
    _say(f"{outage.new_primary} is primary after {outage.promoted - outage.killed:.1f} s")
    await asyncio.sleep(options.down_for)
    outage.restarted = time.monotonic()
    await asyncio.to_thread(cluster.start, outage.old_primary)
    await asyncio.to_thread(cluster.wait_in_sync, 300)
    outage.in_sync = time.monotonic()
    _say(f"{outage.old_primary} is a synchronous standby again")


# -- the chaos run against the cluster -------------------------------------------------------


async def _chaos(
    cluster: Cluster, url: str, plan: Plan, options: Options, workdir: Path
) -> dict[str, Any]:
    shape = chaos.Options(calls=options.calls, seed=options.seed, concurrency=options.concurrency)
    pace = shape.pace
    emulator = CalcomEmulator(
        EmulatorConfig(
            api_keys=tuple(t.api_key for t in plan.tenants), event_types=tuple(plan.event_types())
        )
    )
    tenants_file = workdir / "tenants.toml"
    tenants_file.write_text(plan.tenants_toml(), encoding="utf-8")
    outage = Outage()
    with contextlib.ExitStack() as stack:
        emulator_url = stack.enter_context(serve_in_thread(emulator.app))
        env = {
            **plan.secrets(),
            "SLOTGUARD_RETELL_API_KEY": chaos.RETELL_KEY,
            "SLOTGUARD_CALCOM_BASE_URL": emulator_url,
            "SLOTGUARD_CALCOM_TIMEOUT_SECONDS": str(pace.calcom_timeout),
            "SLOTGUARD_PENDING_GRACE_SECONDS": str(pace.grace),
            "SLOTGUARD_RECONCILE_INTERVAL_SECONDS": str(pace.reconcile_interval),
            "SLOTGUARD_LOG_LEVEL": options.log_level,
        }
        bases = [
            stack.enter_context(
                processes.serve(
                    url, tenants_file, workers=1, env=env, log_file=workdir / f"serve-{n}.log"
                )
            )[0]
            for n in range(options.servers)
        ]
        router = chaos.WebhookRouter(bases[0], plan)
        emulator.subscribe_webhook(
            stack.enter_context(serve_in_thread(router.app)) + "/", chaos.ROUTER_SECRET
        )
        stack.callback(setattr, emulator.webhooks.knobs, "hold", True)
        _say(f"{len(bases)} servers {bases}; logs in {workdir}")
        weather = chaos.Weather(emulator, pace, options.seed)
        async with httpx.AsyncClient(
            base_url=bases[0], timeout=120, transport=Balancer(bases)
        ) as client:
            lines = RetryingLines(client, plan, emulator, pace.scale, attempts=options.attempts)
            weather.start()
            started = time.monotonic()
            playing = asyncio.create_task(chaos._play_all(lines, plan, options.concurrency, _say))
            await _kill_and_restore(cluster, options, outage)
            harness_errors = await playing
            ended = time.monotonic()
            await weather.calm()
        _say("calls done; waiting for webhooks")
        await chaos._webhooks_finished(emulator)
        settled = await chaos._settle(url, emulator_url, plan, _say)
        checks = await chaos._check(url, emulator, plan)
    report = chaos._report(plan, shape, lines, weather, emulator, settled, checks)
    report["violations"] += [f"harness: {e}" for e in harness_errors]
    report["failover"] = _failover_figures(lines, outage, started, ended)
    report["failover"]["server_log_events"] = _log_events(workdir)
    return report


def _log_events(workdir: Path) -> dict[str, int]:
    """Warnings and errors the servers logged (JSON lines), by event name."""
    events: Counter[str] = Counter()
    for path in workdir.glob("serve-*.log"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict) and entry.get("level") in ("warning", "error"):
                    events[str(entry.get("event"))] += 1
    return dict(events.most_common())


def _failover_figures(
    lines: RetryingLines, outage: Outage, started: float, ended: float
) -> dict[str, Any]:
    def p(attempts: list[Attempt], q: float) -> float | None:
        ordered = sorted(a.seconds for a in attempts)
        return (
            round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)
            if ordered
            else None
        )

    def window(low: float, high: float) -> list[Attempt]:
        return [a for a in lines.timeline if low <= a.started < high]

    before = window(started, outage.killed)
    during = window(outage.killed, outage.promoted)
    after = window(outage.promoted, ended)
    rejoined = window(outage.in_sync, ended)
    unanswered = Counter(
        a.detail for a in lines.timeline if a.status == "http_error"
    )  # "HTTP 503", or the transport error
    return {
        "old_primary": outage.old_primary,
        "new_primary": outage.new_primary,
        "seconds_without_primary": round(outage.promoted - outage.killed, 1),
        "seconds_until_old_primary_in_sync_as_standby": round(outage.in_sync - outage.restarted, 1),
        "attempts": len(lines.timeline),
        "not_answered_200": dict(unanswered),
        "answered_503_while_no_primary": sum(1 for a in during if a.detail == "HTTP 503"),
        "answered_503_after_promotion": sum(1 for a in after if a.detail == "HTTP 503"),
        "function_calls_by_retries_needed": {
            str(k): v for k, v in sorted(lines.retries_needed.items())
        },
        "function_calls_beyond_retells_two_retries": sum(
            n for k, n in lines.retries_needed.items() if k >= RETELL_ATTEMPTS
        ),
        "slowest_after_promotion": [
            [a.function, a.status, a.detail, round(a.seconds, 1), round(a.started - started, 1)]
            for a in sorted(after, key=lambda a: -a.seconds)[:8]
        ],
        "latency_ms": {
            "before_kill": {"n": len(before), "p50": p(before, 0.5), "p99": p(before, 0.99)},
            "no_primary": {"n": len(during), "p50": p(during, 0.5), "p99": p(during, 0.99)},
            "after_promotion": {"n": len(after), "p50": p(after, 0.5), "p99": p(after, 0.99)},
            "after_old_primary_rejoined": {
                "n": len(rejoined),
                "p50": p(rejoined, 0.5),
                "p99": p(rejoined, 0.99),
            },
        },
        "seconds": {
            "kill_at": round(outage.killed - started, 1),
            "primary_back_at": round(outage.promoted - started, 1),
            "old_primary_restarted_at": round(outage.restarted - started, 1),
            "old_primary_in_sync_at": round(outage.in_sync - started, 1),
            "calls_ended_at": round(ended - started, 1),
        },
    }


# -- what one primary carries ----------------------------------------------------------------


class StatementCounter:
    """SQL statements and commits of every engine in this process (class-level listeners)."""

    def __init__(self) -> None:
        self.statements = 0
        self.commits = 0
        self._lock = threading.Lock()

    def __enter__(self) -> StatementCounter:
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "commit", self._commit)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._statement)
        event.remove(Engine, "commit", self._commit)

    def _statement(self, *_: object) -> None:
        with self._lock:
            self.statements += 1

    def _commit(self, *_: object) -> None:
        with self._lock:
            self.commits += 1


async def statements_per_conversation(conversations: int) -> dict[str, Any]:
    """check_customer, collect, book and the Cal.com webhook of one booking: SQL it costs.

    In-process (the app in a thread, the emulator delivering its webhook back), on a scratch
    database of the benchmark server; every conversation is a new caller and a free slot.
    """
    url = await asyncio.to_thread(databases.create_pg_database, "slotguard_capacity")
    try:
        await asyncio.to_thread(databases.migrate, url)
        engine = create_engine(url)
        try:
            await apply_calcom_tenants(engine)
        finally:
            await engine.dispose()
        os.environ.update(SECRETS)
        emulator = CalcomEmulator(EmulatorConfig())
        key = "key_capacity"
        with serve_in_thread(emulator.app) as emulator_url:
            settings = Settings(
                database_url=url,
                retell_api_key=key,
                calcom_base_url=emulator_url,
                reconcile_interval_seconds=0,
            )
            with serve_in_thread(create_app(settings)) as base:
                emulator.subscribe_webhook(f"{base}/calcom/webhook/salon-cal", WEBHOOK_SECRET)
                async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                    await _conversation(client, key, 0)  # warm-up: caches, prepared statements
                    await _deliveries(emulator, 1)
                    by_function: Counter[str] = Counter()
                    with StatementCounter() as total:
                        for number in range(1, conversations + 1):
                            await _conversation(client, key, number, by_function)
                            await _deliveries(emulator, number + 1)
            emulator.webhooks.knobs.hold = True
    finally:
        await asyncio.to_thread(databases.drop_pg_database, url)
    return {
        "conversations": conversations,
        "functions": ["check_customer", "collect_appointment_data", "book_appointment"],
        "statements_per_conversation": round(total.statements / conversations, 1),
        "commits_per_conversation": round(total.commits / conversations, 1),
        "statements_per_function": {
            name: round(n / conversations, 1) for name, n in sorted(by_function.items())
        },
        "statements_of_webhook_and_rest": round(
            (total.statements - sum(by_function.values())) / conversations, 1
        ),
    }


async def _conversation(
    client: httpx.AsyncClient, key: str, number: int, counts: Counter[str] | None = None
) -> None:
    day = datetime.now(chaos.ZONE).date() + timedelta(days=10 + number // 20)
    start = datetime(day.year, day.month, day.day, 8, tzinfo=chaos.ZONE) + timedelta(
        minutes=30 * (number % 20)
    )
    args = {
        "customer_name": f"Anrufer {number}",
        "service": "Haarschnitt",
        "date": start.date().isoformat(),
        "time": start.strftime("%H:%M"),
    }
    call = {"call_id": f"capacity-{number}", "agent_id": "agent_cal"}
    call["from_number"] = f"+49152{number:08d}"
    for name, sent in (
        ("check_customer", {}),
        ("collect_appointment_data", args),
        ("book_appointment", args),
    ):
        with StatementCounter() as one:
            body, headers = function_request(name, call, sent, key)
            response = await client.post(f"/retell/functions/{name}", content=body, headers=headers)
        response.raise_for_status()
        if counts is not None:
            counts[name] += one.statements
    if counts is not None and response.json()["status"] != "booked":
        raise RuntimeError(f"conversation {number} did not book: {response.json()}")


async def _deliveries(emulator: CalcomEmulator, count: int) -> None:
    deadline = time.monotonic() + 30
    while sum(d.outcome == "delivered" for d in emulator.webhooks.deliveries) < count:
        if time.monotonic() > deadline:
            raise TimeoutError("webhooks were not delivered")
        await asyncio.sleep(0.05)


def pgbench_rate(cluster: Cluster, seconds: int) -> dict[str, Any]:
    """TPC-B (pgbench's default: 5 statements, 1 commit per transaction) on the primary."""
    node = cluster.primary()
    where = ["-h", "127.0.0.1", "-p", str(cluster.port_of(node)), "-U", "postgres"]
    subprocess.run(  # noqa: S603 - fixed arguments
        ["psql", *where, "-d", "postgres", "-qc", "CREATE DATABASE pgbench"],  # noqa: S607
        check=True,
        capture_output=True,
    )
    subprocess.run(  # noqa: S603
        ["pgbench", *where, "-i", "-q", "-s", "10", "pgbench"],  # noqa: S607
        check=True,
        capture_output=True,
    )
    clients = 8
    done = subprocess.run(  # noqa: S603
        ["pgbench", *where, "-c", str(clients), "-j", "2", "-T", str(seconds), "pgbench"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    )
    tps = float(re.search(r"tps = ([0-9.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    return {
        "node": node,
        "clients": clients,
        "seconds": seconds,
        "scale": 10,
        "synchronous_standby": True,
        "transactions_per_second": round(tps, 1),
        "statements_per_second": round(tps * 5, 1),
    }


def _capacity(rate: dict[str, Any], cost: dict[str, Any]) -> dict[str, Any]:
    by_statements = rate["statements_per_second"] / cost["statements_per_conversation"]
    by_commits = rate["transactions_per_second"] / cost["commits_per_conversation"]
    per_second = min(by_statements, by_commits)
    return {
        "conversations_per_second_by_statements": round(by_statements, 1),
        "conversations_per_second_by_commits": round(by_commits, 1),
        "conversations_per_second": round(per_second, 1),
        "conversations_per_hour": round(per_second * 3600),
    }


# -- running ---------------------------------------------------------------------------------


async def run(options: Options) -> dict[str, Any]:
    """Cluster up, chaos with a dead primary, capacity figures, cluster down."""
    load_before = os.getloadavg()
    begun = time.perf_counter()
    tenants = default_tenants(options.calls)
    plan = build_plan(options.calls, options.seed, tenants, datetime.now(chaos.ZONE).date())
    _say(f"{len(plan.scenarios)} scenarios, {plan.calls} calls, {tenants} salons")
    cluster = await asyncio.to_thread(Cluster.up)
    try:
        url = cluster.url()
        _say(f"cluster up: {url}")
        await asyncio.to_thread(databases.migrate, url)
        with contextlib.ExitStack() as stack:
            workdir = options.workdir or Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="slotguard-failover-"))
            )
            workdir.mkdir(parents=True, exist_ok=True)
            report = await _chaos(cluster, url, plan, options, workdir)
        _say(f"pgbench on the primary for {options.pgbench_seconds} s")
        rate = await asyncio.to_thread(pgbench_rate, cluster, options.pgbench_seconds)
    finally:
        await asyncio.to_thread(cluster.down)
    _say(f"statements of {options.conversations} booking conversations")
    cost = await statements_per_conversation(options.conversations)
    report["servers"] = options.servers
    report["capacity"] = {"primary_rate": rate, "cost": cost, **_capacity(rate, cost)}
    report["run_seconds"] = round(time.perf_counter() - begun, 1)
    report["load_average"] = {"before": load_before, "after": os.getloadavg()}
    report["ok"] = not report["violations"]
    return report


def _parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="bench.failover", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_200, help="phone calls to simulate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--servers", type=int, default=3, help="slotguard serve processes")
    parser.add_argument("--concurrency", type=int, default=24, help="calls in flight")
    parser.add_argument("--kill-after", type=float, default=15.0, help="seconds into the calls")
    parser.add_argument("--down-for", type=float, default=20.0, help="seconds before restart")
    parser.add_argument("--attempts", type=int, default=12, help="tries per function call")
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--conversations", type=int, default=40, help="for statement counts")
    parser.add_argument("--log-level", default="warning", help="the servers' log level")
    parser.add_argument("--workdir", type=Path, help="keep the servers' logs here")
    a = parser.parse_args(argv)
    return Options(
        a.calls,
        a.seed,
        a.servers,
        a.concurrency,
        a.kill_after,
        a.down_for,
        a.attempts,
        a.pgbench_seconds,
        a.conversations,
        a.log_level,
        a.workdir,
    )


def main(argv: list[str] | None = None) -> int:
    """Run, print the JSON report, exit 1 on a broken invariant."""
    options = _parse(argv)
    configure_logging(options.log_level, "console")
    report = asyncio.run(run(options))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    for violation in report["violations"][:20]:
        _say(f"VIOLATION {violation}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
