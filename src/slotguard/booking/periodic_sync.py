"""The periodic calendar sync: each Cal.com company's coming days, by itself, inside the budget.

Cal.com does not retry a webhook, so a lost one would leave a website booking invisible to
Layers 1 and 2. Every ``serve`` process runs :func:`run_forever`; per company a lease row
(``calendar_syncs``) lets exactly one process sync it per interval. The sync reads with
BACKGROUND priority, so it only spends the key's budget while calls leave it idle; when the
budget has no room it stops and is tried again a minute later. Each run records when it ran,
how it ended and what it found (the outcome counts of ``calcom sync``) for the dashboard and
the metrics.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

from slotguard.booking.context import Context
from slotguard.booking.sync import sync_company
from slotguard.calendar import CalendarUnreachable, RateLimited
from slotguard.calendar.ratelimit import Priority
from slotguard.domain import Company
from slotguard.observability import get_logger
from slotguard.store.calcom_state import SyncRepository
from slotguard.store.companies import CompanyRepository

# One run may take this long before another process may take the company over.
RUN_LEASE_SECONDS = 600.0
# A run cut short by the budget (or an unreachable Cal.com) is tried again this much later.
RETRY_SECONDS = 60.0
# How often a process looks for a company whose sync is due.
TICK_SECONDS = 15.0

log = get_logger("calendar_sync")


async def run_due(ctx: Context, *, interval: float, days: int) -> dict[str, str]:
    """Sync every Cal.com company whose turn it is and no other process runs; slug → outcome."""
    async with ctx.sessions() as session:
        companies = [c for c in await CompanyRepository(session).all() if c.calendar == "calcom"]
    done = {}
    for company in companies:
        now = time.time()
        async with ctx.sessions() as session, session.begin():
            claimed = await SyncRepository(session).claim(company.id, now, now + RUN_LEASE_SECONDS)
        if claimed:
            done[company.slug] = await sync_one(ctx, company, interval=interval, days=days)
    return done


async def sync_one(ctx: Context, company: Company, *, interval: float, days: int) -> str:
    """One run for a company whose lease this process holds; returns its outcome."""
    start = ctx.clock()
    findings: Counter[str] = Counter()
    outcome, next_run = "ok", interval

    def count(found: str) -> None:
        findings[found] += 1

    try:
        await sync_company(
            ctx, company, start, start + timedelta(days=days), count, priority=Priority.BACKGROUND
        )
    except RateLimited:
        outcome, next_run = "deferred", min(interval, RETRY_SECONDS)
    except CalendarUnreachable as problem:
        outcome, next_run = "failed", min(interval, RETRY_SECONDS)
        log.warning("calendar_sync_failed", company=company.slug, error=str(problem))
    async with ctx.sessions() as session, session.begin():
        await SyncRepository(session).finish(
            company.id,
            at=ctx.clock(),
            outcome=outcome,
            findings=dict(findings),
            next_run=time.time() + next_run,
        )
    ctx.metrics.calendar_sync_runs.labels(company.slug, outcome).inc()
    for kind, number in findings.items():
        ctx.metrics.calendar_sync_findings.labels(company.slug, kind).inc(number)
    ctx.metrics.calendar_sync_last_run.labels(company.slug).set(time.time())
    log.info("calendar_sync", company=company.slug, outcome=outcome, **dict(findings))
    return outcome


async def run_forever(ctx: Context, *, interval: float, days: int) -> None:
    """The in-process background task of every ``serve`` process (several are safe).

    The first round waits one tick, so a starting process serves calls first.
    """
    while True:
        await asyncio.sleep(min(TICK_SECONDS, interval))
        try:
            await run_due(ctx, interval=interval, days=days)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("calendar_sync_round_failed")
