"""Building the process's Context from Settings: engine, Cal.com client pool, metrics.

Shared by the app lifespan and the CLI commands, so both run on the same collaborators.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx

from slotguard.booking.context import Context, utc_now
from slotguard.calendar import CalendarProvider
from slotguard.calendar.calcom import CalcomCalendar, CalcomClient
from slotguard.calendar.ratelimit import RateLimit
from slotguard.calendar.shared_budget import SharedBudgets
from slotguard.calendar.slot_cache import CachedCalendar, SlotCache
from slotguard.domain import Company
from slotguard.observability import Metrics
from slotguard.settings import Settings
from slotguard.store.db import create_engine, session_factory


def calcom_factory(
    client: CalcomClient,
    metrics: Metrics,
    environ: Mapping[str, str] | None = None,
    *,
    cache: SlotCache | None = None,
) -> Callable[[Company], CalendarProvider]:
    """Cal.com calendars sharing one connection pool; each company's key from its env var.

    With ``cache`` their free slots come from the shared slot windows.
    """
    env = os.environ if environ is None else environ

    def build(company: Company) -> CalendarProvider:
        key = env.get(company.calcom_api_key_env or "", "")
        budget_left = metrics.calcom_budget_remaining.labels(company.slug)

        def observe(endpoint: str, outcome: str, seconds: float) -> None:
            metrics.calendar_requests.labels("calcom", endpoint, outcome).observe(seconds)
            left = client.budgets.for_key(key).remaining()
            budget_left.set(left)
            metrics.calcom_budget_left[company.slug] = left
            if outcome == "ok":
                metrics.calcom_last_ok[company.slug] = time.time()

        calendar = CalcomCalendar(client, key, observe=observe)
        return calendar if cache is None else CachedCalendar(calendar, cache, company)

    return build


# An idle connection is dropped before Cal.com's server may close it (Node's default
# keep-alive timeout is 5 s, the same as httpx's default): reusing one the server is closing
# fails a create with a ReadError that leaves the booking ambiguous (pending) until the
# reconciler settles it. A new connection costs one handshake; an ambiguous create, a callback.
CALCOM_KEEPALIVE_SECONDS = 3.0


@asynccontextmanager
async def open_context(
    settings: Settings,
    *,
    metrics: Metrics | None = None,
    clock: Callable[[], datetime] = utc_now,
    environ: Mapping[str, str] | None = None,
) -> AsyncIterator[Context]:
    """A Context for ``settings``; disposes of the engine and the HTTP pool afterwards.

    Secrets named in the tenants file are read from ``environ`` (default: the process
    environment), Cal.com API keys and webhook secrets alike.
    """
    env = os.environ if environ is None else environ
    engine = create_engine(settings.database_url)
    own_metrics = metrics or Metrics()
    http = httpx.AsyncClient(
        base_url=settings.calcom_base_url,
        timeout=settings.calcom_timeout_seconds,
        limits=httpx.Limits(keepalive_expiry=CALCOM_KEEPALIVE_SECONDS),
    )
    sessions = session_factory(engine)
    limit = RateLimit(limit=settings.calcom_rate_limit_per_minute)
    budgets = SharedBudgets(sessions, limit, in_flight_seconds=settings.calcom_timeout_seconds)
    cache = SlotCache(sessions, ttl=settings.calcom_slots_ttl_seconds, metrics=own_metrics)
    try:
        yield Context(
            engine=engine,
            sessions=sessions,
            metrics=own_metrics,
            clock=clock,
            calcom=calcom_factory(
                CalcomClient(http, budgets=budgets), own_metrics, env, cache=cache
            ),
            environ=env,
            replay_window=timedelta(seconds=settings.replay_window_seconds),
            claim_timeout=timedelta(seconds=settings.claim_timeout_seconds),
        )
    finally:
        await http.aclose()
        await engine.dispose()
