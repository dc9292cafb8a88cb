"""Cal.com's 120 requests a minute: what a conversation costs, bursts, and four workers.

    .venv/bin/python -m bench.calcom_budget [--conversations 1000] [--minutes 3] [--only NAME]

Three measurements on a throwaway PostgreSQL database and the Cal.com emulator over HTTP:

``conversations``: one salon, N booking conversations one after another (check_customer →
collect_appointment_data → book_appointment, each caller a new phone number asking for a free
half hour). Cal.com requests per conversation, by kind. The emulator and slotguard allow the
key 100,000 requests a minute here: the figure is the cost of a conversation, not its pace.

``burst``: 16 callers ask 12 availability questions each, all at once, about one salon's next
14 days (three services). Unanswered questions, and slot lookups per event type and window.
Real limit (120 per 60 s).

``workers``: ``slotguard serve --workers 4``, one key, the emulator enforcing the real limit;
300 questions and 60 bookings a minute (open loop, evenly spaced) for ``--minutes``. 429s
received, bookings refused for lack of budget, question latency as the caller sees it and as
slotguard's log line ``function_call`` measures it (``duration_ms``: slotguard's own time,
including any wait for Cal.com).

One JSON object on stdout, progress on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from tests.calcom.conftest import CALCOM_TENANTS, SECRETS, WEBHOOK_SECRET, apply_calcom_tenants
from tests.concurrency import processes
from tests.signing import function_request

from bench.harness import log, machine, scratch_database
from bench.latency import _ms as percentiles_ms
from slotguard.api import create_app
from slotguard.observability import configure_logging
from slotguard.settings import Settings
from slotguard.store.db import create_engine
from slotguard.store.migrate import upgrade
from slotguard.testing import CalcomEmulator, EmulatorConfig, serve_in_thread

RETELL_KEY = "key_bench_budget"
BERLIN = ZoneInfo("Europe/Berlin")
SERVICES = ("Haarschnitt", "Damenhaarschnitt")  # on grids that have every full hour all year
UNLIMITED = 100_000
Say = Callable[[str], None]


class Caller:
    """Signed Retell function calls to one base URL."""

    def __init__(self, base: str, *, fresh_connections: bool = False) -> None:
        limits = httpx.Limits(max_keepalive_connections=0) if fresh_connections else None
        self.client = httpx.AsyncClient(
            base_url=base, timeout=60, **({"limits": limits} if limits else {})
        )

    async def call(
        self, name: str, args: dict[str, Any], call_id: str, phone: str
    ) -> tuple[dict[str, Any], float]:
        """The reply and the seconds it took as the caller saw it."""
        call = {"call_id": call_id, "agent_id": "agent_cal", "from_number": phone}
        body, headers = function_request(name, call, args, RETELL_KEY)
        started = time.perf_counter()
        response = await self.client.post(
            f"/retell/functions/{name}", content=body, headers=headers
        )
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            return {"status": f"http_{response.status_code}"}, seconds
        reply: dict[str, Any] = response.json()
        return reply, seconds


def _phone(n: int) -> str:
    return f"+4915{n:09d}"


def _day(offset: int) -> date:
    return datetime.now(BERLIN).date() + timedelta(days=offset)


def _slot(n: int, first_day: int = 2) -> tuple[str, str]:
    """The n-th distinct half hour between 08:00 and 19:30 from ``first_day`` days ahead."""
    per_day = 24
    day = _day(first_day + n // per_day)
    minute = 8 * 60 + 30 * (n % per_day)
    return day.isoformat(), f"{minute // 60:02d}:{minute % 60:02d}"


def _requests(emulator: CalcomEmulator) -> Counter[str]:
    return Counter(r.route or f"{r.method} {r.path}" for r in emulator.request_log)


async def _migrated(url: str) -> None:
    """Migrate and load the Cal.com salon of the tests (one key, event types 1001–1003)."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        await apply_calcom_tenants(engine)
    finally:
        await engine.dispose()


def _settings(url: str, emulator_url: str, **extra: Any) -> Settings:
    os.environ.update(SECRETS)
    return Settings(
        database_url=url,
        config=extra.pop("config"),
        retell_api_key=RETELL_KEY,
        calcom_base_url=emulator_url,
        reconcile_interval_seconds=0,
        calendar_sync_interval_seconds=0,
        log_level="warning",
        **extra,
    )


async def conversations(url: str, tenants: Path, count: int, say: Say) -> dict[str, Any]:
    """Requests per booking conversation over ``count`` conversations of one salon."""
    emulator = CalcomEmulator(EmulatorConfig(rate_limit=UNLIMITED))
    with serve_in_thread(emulator.app) as emulator_url:
        settings = _settings(
            url, emulator_url, config=tenants, calcom_rate_limit_per_minute=UNLIMITED
        )
        with serve_in_thread(create_app(settings)) as base:
            emulator.subscribe_webhook(f"{base}/calcom/webhook/salon-cal", WEBHOOK_SECRET)
            caller = Caller(base)
            booked = Counter[str]()
            for n in range(count):
                day, at = _slot(n)
                wish = {"customer_name": f"Kunde {n}", "service": SERVICES[0], "date": day,
                        "time": at}  # fmt: skip
                phone, call_id = _phone(n), f"conv-{n}"
                await caller.call("check_customer", {}, call_id, phone)
                await caller.call("collect_appointment_data", wish, call_id, phone)
                reply, _s = await caller.call("book_appointment", wish, call_id, phone)
                booked[reply["status"]] += 1
                if n % 100 == 99:
                    say(f"conversations: {n + 1}/{count}")
            await caller.client.aclose()
            kinds = _requests(emulator)
    lookups, creates = kinds["GET /v2/slots"], kinds["POST /v2/bookings"]
    return {
        "conversations": count,
        "replies_of_book": dict(booked),
        "calcom_requests": dict(kinds),
        "slot_lookups_per_conversation": round(lookups / count, 3),
        "creates_per_conversation": round(creates / count, 3),
        "requests_per_conversation": round(sum(kinds.values()) / count, 3),
        "goal": "<= 1 slot lookup + 1 create per conversation",
        "goal_met": lookups / count <= 1.0 and creates / count <= 1.0,
    }


async def burst(url: str, tenants: Path, say: Say) -> dict[str, Any]:
    """16 callers × 12 availability questions at once about one salon's next 14 days."""
    emulator = CalcomEmulator(EmulatorConfig())
    rng = random.Random(14)
    with serve_in_thread(emulator.app) as emulator_url:
        settings = _settings(url, emulator_url, config=tenants)
        with serve_in_thread(create_app(settings)) as base:
            caller = Caller(base)

            async def one_caller(c: int) -> list[tuple[dict[str, Any], float]]:
                replies = []
                for q in range(12):
                    day = _day(1 + rng.randrange(14)).isoformat()
                    args = {"service": rng.choice(("Haarschnitt", "Damenhaarschnitt", "Färben")),
                            "date": day, "time": f"{rng.randrange(9, 18):02d}:00"}  # fmt: skip
                    replies.append(
                        await caller.call("check_availability", args, f"b-{c}-{q}", _phone(c))
                    )
                return replies

            started = time.perf_counter()
            results = await asyncio.gather(*(one_caller(c) for c in range(16)))
            wall = time.perf_counter() - started
            await caller.client.aclose()
    replies = [r for per_caller in results for r in per_caller]
    outcomes = Counter(f"{r['status']}/{r.get('reason')}" for r, _s in replies)
    per_window: Counter[tuple[str, str]] = Counter(
        (r.query.get("eventTypeId", "?"), r.query.get("start", "?")[:10])
        for r in emulator.request_log
        if r.path == "/v2/slots"
    )
    unanswered = sum(n for k, n in outcomes.items() if not k.startswith(("available", "unav")))
    say(f"burst: {len(replies)} questions in {wall:.2f} s, {sum(per_window.values())} lookups")
    return {
        "questions": len(replies),
        "wall_seconds": round(wall, 2),
        "outcomes": dict(outcomes),
        "unanswered": unanswered,
        "slot_lookups": sum(per_window.values()),
        "windows_looked_up": len(per_window),
        "max_lookups_per_event_type_and_window": max(per_window.values(), default=0),
        "latency_ms": percentiles_ms([s for _r, s in replies]),
        "goal": "0 unanswered, <= 2 lookups per event type and window",
        "goal_met": unanswered == 0 and max(per_window.values(), default=0) <= 2,
    }


async def workers(url: str, tenants: Path, minutes: float, say: Say) -> dict[str, Any]:
    """Four workers, 300 questions + 60 bookings a minute on one key, real limit."""
    emulator = CalcomEmulator(EmulatorConfig())
    rng = random.Random(1414)
    workdir = Path(tempfile.mkdtemp(prefix="bench-budget-"))
    with serve_in_thread(emulator.app) as emulator_url:
        env = {
            **SECRETS,
            "SLOTGUARD_RETELL_API_KEY": RETELL_KEY,
            "SLOTGUARD_CALCOM_BASE_URL": emulator_url,
            "SLOTGUARD_RECONCILE_INTERVAL_SECONDS": "30",
            "SLOTGUARD_LOG_LEVEL": "info",
        }
        log_file = workdir / "serve.log"
        with processes.serve(url, tenants, workers=4, env=env, log_file=log_file) as (base, _p):
            emulator.subscribe_webhook(f"{base}/calcom/webhook/salon-cal", WEBHOOK_SECRET)
            caller = Caller(base, fresh_connections=True)
            questions: list[tuple[dict[str, Any], float]] = []
            bookings: list[tuple[dict[str, Any], float]] = []
            tasks: list[asyncio.Task[None]] = []

            async def ask(n: int) -> None:
                day = _day(1 + rng.randrange(14)).isoformat()
                time_of_day = f"{rng.randrange(8, 19):02d}:{rng.choice(('00', '30'))}"
                args = {"service": rng.choice(SERVICES), "date": day, "time": time_of_day}
                questions.append(await caller.call("check_availability", args, f"q-{n}", _phone(n)))

            async def book(n: int) -> None:
                day, at = _slot(n, first_day=15)  # beyond the questions' days: a free slot each
                wish = {"customer_name": f"Kunde {n}", "service": SERVICES[0], "date": day,
                        "time": at}  # fmt: skip
                bookings.append(
                    await caller.call("book_appointment", wish, f"k-{n}", _phone(100_000 + n))
                )

            started = time.monotonic()
            end = started + minutes * 60
            q = b = 0
            while (now := time.monotonic()) < end:
                if now >= started + q * 0.2:  # 300 a minute
                    tasks.append(asyncio.create_task(ask(q)))
                    q += 1
                if now >= started + b * 1.0:  # 60 a minute
                    tasks.append(asyncio.create_task(book(b)))
                    b += 1
                if b % 60 == 0 and now >= started + b * 1.0 - 0.01:
                    say(f"workers: {q} questions, {b} bookings sent")
                await asyncio.sleep(0.01)
            await asyncio.gather(*tasks)
            await caller.client.aclose()
    statuses = Counter(r.status for r in emulator.request_log)
    kinds = _requests(emulator)
    q_outcomes = Counter(f"{r['status']}/{r.get('reason')}" for r, _s in questions)
    b_outcomes = Counter(f"{r['status']}/{r.get('reason')}" for r, _s in bookings)
    refused = sum(n for k, n in b_outcomes.items() if not k.startswith(("booked", "pending")))
    whole, own = _server_durations(log_file, "check_availability")
    return {
        "minutes": minutes,
        "questions": len(questions),
        "bookings": len(bookings),
        "question_outcomes": dict(q_outcomes),
        "booking_outcomes": dict(b_outcomes),
        "calcom_requests": dict(kinds),
        "calcom_statuses": {str(k): v for k, v in statuses.items()},
        "received_429": statuses.get(429, 0),
        "bookings_not_booked": refused,
        "question_latency_client_ms": percentiles_ms([s for _r, s in questions]),
        "question_latency_server_ms": percentiles_ms(whole),
        "question_latency_own_ms": percentiles_ms(own),
        "peak_requests_in_any_60s": _peak(emulator),
        "goal": "0 x 429, 0 bookings refused for lack of budget, question p99 <= 50 ms own time",
        "goal_met": statuses.get(429, 0) == 0
        and refused == 0
        and percentiles_ms(own).get("p99", 1e9) <= 50,
    }


def _peak(emulator: CalcomEmulator) -> int:
    times = sorted(r.received_at.timestamp() for r in emulator.request_log)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - 60:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _server_durations(log_file: Path, function: str) -> tuple[list[float], list[float]]:
    """(whole, own) seconds of ``function`` per call from the workers' ``function_call`` lines:
    own = ``duration_ms`` − ``calendar_ms`` (Cal.com's answers, the key's budget, a peer's
    lookup of the same window)."""
    whole: list[float] = []
    own: list[float] = []
    for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"function_call"' not in line or function not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("action") == function and "duration_ms" in record:
            duration = float(record["duration_ms"]) / 1000
            whole.append(duration)
            own.append(duration - float(record.get("calendar_ms", 0.0)) / 1000)
    return whole, own


async def run(options: argparse.Namespace, say: Say) -> dict[str, Any]:
    """Each selected measurement on a fresh database; returns the report."""
    report: dict[str, Any] = {
        "benchmark": "calcom_budget",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": " ".join(["python -m bench.calcom_budget", *sys.argv[1:]]),
    }
    parts: dict[str, Callable[[str, Path], Awaitable[dict[str, Any]]]] = {
        "conversations": lambda u, t: conversations(u, t, options.conversations, say),
        "burst": lambda u, t: burst(u, t, say),
        "workers": lambda u, t: workers(u, t, options.minutes, say),
    }
    with tempfile.TemporaryDirectory() as directory:
        tenants = Path(directory) / "tenants.toml"
        tenants.write_text(CALCOM_TENANTS, encoding="utf-8")
        for name, part in parts.items():
            if options.only and name not in options.only:
                continue
            async with scratch_database(f"bench_budget_{name}") as url:
                await _migrated(url)
                say(f"{name}: start")
                report[name] = await part(url, tenants)
    return report


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=3.0, help="of the four-worker run")
    parser.add_argument(
        "--only", action="append", choices=("conversations", "burst", "workers"), default=[]
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run and print the JSON report."""
    options = _parse(argv)
    configure_logging("warning", "json")  # the in-process server's lines would drown progress
    report = asyncio.run(run(options, log))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
