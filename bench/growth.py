"""Decision latency as the appointments table grows: 10k, 100k and 1M appointments.

    python -m bench.growth [--sizes 10000,100000,1000000]

Seeds one scratch database per size (ten appointments per customer, so a request finds the
same few rows at every size), then measures the sizes round-robin in small blocks, so noise
from other work on the machine lands on every size alike. Prints one JSON object to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bench import harness
from slotguard.testing.seed import SeedPlan

# Issue 3: p50 and p99 at 1M appointments at most 1.5 times those at 10k.
GOAL_RATIO = 1.5
# Every size gets this many appointments per customer: the per-request work stays the same.
APPOINTMENTS_PER_CUSTOMER = 10
# Requests per size per round; small blocks interleave the sizes finely.
BLOCK = 50


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line flags."""
    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="appointment counts")
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2_000, help="measured per size")
    parser.add_argument("--warmup", type=int, default=200, help="per size, not measured")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Seed every size, measure them interleaved, return the JSON-ready result."""
    facts = harness.machine()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    sizes = [int(size) for size in args.sizes.split(",")]
    async with contextlib.AsyncExitStack() as stack:
        engines: dict[int, AsyncEngine] = {}
        for size in sizes:
            name = f"slotguard_bench_{os.getpid()}_{size}"
            url = await stack.enter_async_context(harness.scratch_database(name, keep=args.keep))
            customers = max(args.companies, size // APPOINTMENTS_PER_CUSTOMER)
            await harness.prepare(url, SeedPlan(args.companies, customers, size, args.seed, now))
            engines[size] = harness.bench_engine(url)
            stack.push_async_callback(engines[size].dispose)
        per_size = await _measure(engines, args, now)
        for size, engine in engines.items():
            server = await harness.server_facts(engine)
            per_size[size]["appointments_total_size"] = server.pop("appointments_total_size")
    facts["load_average_at_end"] = harness.load()
    smallest, largest = per_size[min(sizes)]["ours"], per_size[max(sizes)]["ours"]
    ratio = {p: round(largest[f"{p}_ms"] / smallest[f"{p}_ms"], 2) for p in ("p50", "p99")}
    return {
        "benchmark": "growth",
        "machine": facts,
        "parameters": {**vars(args), "now": now.isoformat()},
        "server": server,
        "sizes": {str(size): result for size, result in per_size.items()},
        "ratio_largest_to_smallest": ratio,
        "goal": {"ratio_max": GOAL_RATIO, "met": max(ratio.values()) <= GOAL_RATIO},
    }


async def _measure(
    engines: dict[int, AsyncEngine], args: argparse.Namespace, now: datetime
) -> dict[int, dict[str, Any]]:
    probes = {}
    for size, engine in engines.items():
        world = await harness.load_world(engine)
        rng = random.Random(args.seed)
        count = args.warmup + args.requests
        probes[size] = await harness.make_probes(engine, world, count, now, rng)
        await harness.compare(engine, probes[size][: args.warmup], now)
    timings = {size: (harness.Timings(), harness.Timings()) for size in engines}
    harness.log(f"measuring {args.requests} requests per size and path, interleaved")
    for round_, offset in enumerate(range(args.warmup, args.warmup + args.requests, BLOCK)):
        for size, engine in engines.items():
            chunk = probes[size][offset : offset + BLOCK]
            flip = round_ % 2 == 1
            mine, theirs = await harness.compare(engine, chunk, now, block=BLOCK, flip=flip)
            for into, done in zip(timings[size], (mine, theirs), strict=True):
                into.samples.extend(done.samples)
                into.decisions.extend(done.decisions)
    return {
        size: {"ours": harness.stats(mine.samples), "seed_style": harness.stats(theirs.samples)}
        for size, (mine, theirs) in timings.items()
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its JSON result."""
    result = asyncio.run(run(parse(argv)))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
