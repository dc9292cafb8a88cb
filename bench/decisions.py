"""Layer 1+2 decision latency on a seeded database: our one-query path vs the seed-style path.

    python -m bench.decisions [--appointments 1000000 --customers 100000 --companies 50]

Creates ``slotguard_bench_<pid>`` on ``SLOTGUARD_BENCH_PG_URL``, migrates and seeds it, then
decides the same random requests with ``examine()`` (one query + pure rules) and with the
seed-style design (five ORM round trips, inclusive BETWEEN, UTC dates). Prints one JSON
object to stdout; progress goes to stderr. The database is dropped unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import harness
from slotguard.store.db import session_factory
from slotguard.testing.seed import SeedPlan

# Issue 3: what a phone agent can afford per check, and what the one-query design must win by.
GOAL_P50_MS = 1.0
GOAL_P99_MS = 3.0
GOAL_SPEEDUP = 3.0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line flags; the sizes default to the issue's 1M / 100k / 50."""
    parser = argparse.ArgumentParser(prog="python -m bench.decisions", description=__doc__)
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2_000, help="measured requests")
    parser.add_argument("--warmup", type=int, default=200, help="requests before measuring")
    parser.add_argument("--seed", type=int, default=1, help="seed of the data and requests")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Create, seed and measure; return the JSON-ready result."""
    facts = harness.machine()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    plan = SeedPlan(args.companies, args.customers, args.appointments, args.seed, now)
    name = f"slotguard_bench_{os.getpid()}"
    async with harness.scratch_database(name, keep=args.keep) as url:
        report = await harness.prepare(url, plan)
        engine = harness.bench_engine(url)
        try:
            result = await _measure(engine, args, now)
            result["server"] = await harness.server_facts(engine)
        finally:
            await engine.dispose()
    facts["load_average_at_end"] = harness.load()
    return {
        "benchmark": "decisions",
        "machine": facts,
        "parameters": {**vars(args), "database": name, "now": now.isoformat()},
        "seed": {"seconds": round(report.seconds, 1), "rows": report.appointments},
        **result,
    }


async def _measure(engine: AsyncEngine, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    rng = random.Random(args.seed)
    world = await harness.load_world(engine)
    probes = await harness.make_probes(engine, world, args.warmup + args.requests, now, rng)
    warmup, measured = probes[: args.warmup], probes[args.warmup :]
    harness.log(f"warm-up: {len(warmup)} requests per path")
    await harness.compare(engine, warmup, now)
    results: dict[str, Any] = {}
    for label, timer in (
        ("in_open_transaction", harness.time_in_open_transaction),
        ("own_transaction", harness.time_own_transaction),
    ):
        harness.log(f"measuring {len(measured)} requests per path ({label})")
        mine, theirs = await harness.compare(engine, measured, now, timer=timer)
        ours, seed_style = harness.stats(mine.samples), harness.stats(theirs.samples)
        results[label] = {
            "ours": ours,
            "seed_style": seed_style,
            "speedup": harness.speedup(ours, seed_style),
        }
    headline = results["in_open_transaction"]
    return {
        "results": results,
        "goals": _goals(headline["ours"], headline["speedup"]),
        "our_outcomes": outcomes(mine.decisions),
        "disagreements": disagreements(measured, mine.decisions, theirs.decisions),
        "query_plans": await query_plans(engine, measured[0], now),
        "plan_cache": await plan_cache(engine, measured, now),
    }


def _goals(ours: dict[str, float], speedup: dict[str, float]) -> dict[str, Any]:
    return {
        "ours_p50_ms": {"goal": GOAL_P50_MS, "measured": ours["p50_ms"]},
        "ours_p99_ms": {"goal": GOAL_P99_MS, "measured": ours["p99_ms"]},
        "speedup_p50": {"goal": GOAL_SPEEDUP, "measured": speedup["p50"]},
        "met": ours["p50_ms"] <= GOAL_P50_MS
        and ours["p99_ms"] <= GOAL_P99_MS
        and speedup["p50"] >= GOAL_SPEEDUP,
    }


def disagreements(
    probes: Sequence[harness.Probe],
    mine: Sequence[harness.Decisions],
    theirs: Sequence[harness.Decisions],
) -> dict[str, Any]:
    """Where the seed-style path decides differently from ours, by layer, kind and outcome."""
    pairs: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = {}
    examples: list[dict[str, Any]] = []
    for probe, a, b in zip(probes, mine, theirs, strict=True):
        kind = by_kind.setdefault(probe.kind, Counter())
        kind["requests"] += 1
        for layer, ours_reason, their_reason in (("layer1", a[0], b[0]), ("layer2", a[1], b[1])):
            if ours_reason is not their_reason:
                kind[layer] += 1
                pairs[f"{layer}: ours={ours_reason.value} seed_style={their_reason.value}"] += 1
        if a != b and len(examples) < 8:
            examples.append(_example(probe, a, b))
    return {
        "requests": len(probes),
        "layer1": sum(c["layer1"] for c in by_kind.values()),
        "layer2": sum(c["layer2"] for c in by_kind.values()),
        "any": sum(a != b for a, b in zip(mine, theirs, strict=True)),
        "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
        "pairs": dict(pairs.most_common()),
        "examples": examples,
    }


def _example(probe: harness.Probe, a: harness.Decisions, b: harness.Decisions) -> dict[str, Any]:
    return {
        "kind": probe.kind,
        "zone": probe.company.timezone,
        "customer_id": probe.request.customer_id,
        "requested": f"{probe.request.start.isoformat()} – {probe.request.end.time()}",
        "ours": [a[0].value, a[1].value],
        "seed_style": [b[0].value, b[1].value],
    }


def outcomes(decided: Sequence[harness.Decisions]) -> dict[str, dict[str, int]]:
    """How often each reason came out, per layer."""
    return {
        "layer1": dict(Counter(d[0].value for d in decided).most_common()),
        "layer2": dict(Counter(d[1].value for d in decided).most_common()),
    }


async def query_plans(
    engine: AsyncEngine, probe: harness.Probe, now: datetime
) -> dict[str, list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement each path sends for ``probe``."""
    plans: dict[str, list[str]] = {}
    for name, path in (("ours", harness.ours), ("seed_style", harness.seed_style)):
        sent: list[tuple[str, Any]] = []

        def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            sent.append((statement, parameters))  # noqa: B023 - consumed within this iteration

        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        try:
            async with session_factory(engine)() as session:
                await path(session, probe, now)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
        async with engine.connect() as connection:
            for n, (statement, parameters) in enumerate(sent, 1):
                explain = f"EXPLAIN (ANALYZE, BUFFERS) {statement}"
                rows = await connection.exec_driver_sql(explain, parameters)
                plans[f"{name} #{n}"] = [row[0] for row in rows]
    return plans


async def plan_cache(
    engine: AsyncEngine, probes: Sequence[harness.Probe], now: datetime
) -> list[dict[str, int]]:
    """How PostgreSQL planned our prepared statement over 20 executions on one connection.

    ``custom_plans`` growing with every execution means the statement is re-planned each time
    (planning then costs more than executing); ``generic_plans`` means it is planned once.
    """
    query = text(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement LIKE '%FROM appointments JOIN services%' "
        "AND statement NOT LIKE '%pg_prepared_statements%'"
    )
    async with session_factory(engine)() as session:
        for probe in probes[:20]:
            await harness.ours(session, probe, now)
        rows = await session.execute(query)
        return [{"generic_plans": g, "custom_plans": c} for g, c in rows]


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its JSON result."""
    result = asyncio.run(run(parse(argv)))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
