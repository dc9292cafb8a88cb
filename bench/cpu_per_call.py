"""Process CPU per function call, in one process: where throughput is decided on a busy machine.

``python -m bench.cpu_per_call [--function book_appointment] [--calls 300]`` builds the app as
``serve`` does (PostgreSQL scratch database, the built-in demo tenant on the local calendar),
drives it in-process over ASGI with the request shapes of ``bench/throughput.sh`` (collect: the
shared ``post.lua`` body; book: a new slot per call, as ``bench/post_book.lua``) and reports the
process CPU time per call. The CPU time, unlike wall time, hardly moves with other processes'
load, so two checkouts can be compared on a shared machine. It includes the in-process HTTP
client (httpx), not the HTTP server or PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import log, scratch_database
from slotguard import tenants
from slotguard.api.app import create_app
from slotguard.cli.main import _apply_tenants
from slotguard.observability import configure_logging
from slotguard.settings import load_settings
from slotguard.store.db import create_engine
from slotguard.store.migrate import upgrade
from slotguard.testing.asgi import lifespan_client

WARMUP = 50


def body(function: str, i: int) -> dict[str, Any]:
    """The i-th request, shaped like the wrk scripts' (an invalid caller id: a new customer)."""
    phone = f"+4915101{(i * 7919) % 5000:05d}"
    if function == "book_appointment":
        minutes = 600 + (i % 16) * 30
        day = (datetime.now(UTC).date() + timedelta(days=1 + i // 16)).isoformat()
        when = f"{minutes // 60:02d}:{minutes % 60:02d}"
    else:
        day, when = "2026-12-15", f"{8 + i % 10:02d}:{'00' if i % 2 == 0 else '30'}"
    return {
        "name": function,
        "call": {
            "call_id": f"cpu-{time.time()}-{i}",
            "agent_id": "agent_demo",
            "from_number": phone,
        },
        "args": {
            "customer_name": "Max Muster",
            "service": "Haarschnitt",
            "date": day,
            "time": when,
        },
    }


async def measure(url: str, function: str, calls: int) -> dict[str, Any]:
    """Warm up, then time ``calls`` calls; CPU and wall time per call, and the replies' statuses."""
    os.environ.update(SLOTGUARD_DATABASE_URL=url, SLOTGUARD_INSECURE_DEV="1")
    os.environ.setdefault("SLOTGUARD_LOG_LEVEL", "warning")
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)  # as serve's workers do
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    await _apply_tenants(settings, tenants.load(settings.config))
    statuses: dict[str, int] = {}
    async with lifespan_client(create_app(settings)) as client:
        for i in range(WARMUP):
            await client.post(f"/retell/functions/{function}", json=body(function, i))
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(WARMUP, WARMUP + calls):
            reply = await client.post(f"/retell/functions/{function}", json=body(function, i))
            status = str(reply.json()["status"])
            statuses[status] = statuses.get(status, 0) + 1
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "function": function,
        "calls": calls,
        "cpu_ms_per_call": round(cpu / calls * 1000, 2),
        "wall_ms_per_call": round(wall / calls * 1000, 2),
        "statuses": statuses,
    }


async def main(function: str, calls: int) -> None:
    """One scratch database, one measurement, one JSON line on stdout."""
    async with scratch_database(f"bench_cpu_{int(time.time())}") as url:
        log(f"{calls} calls of {function}")
        print(json.dumps(await measure(url, function, calls)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.cpu_per_call", description=__doc__)
    parser.add_argument("--function", default="collect_appointment_data")
    parser.add_argument("--calls", type=int, default=300)
    options = parser.parse_args()
    asyncio.run(main(options.function, options.calls))
