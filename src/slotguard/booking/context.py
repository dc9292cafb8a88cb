"""The Context every use case receives: database sessions, clock, calendars, metrics."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from slotguard.booking.outage import Repairs
from slotguard.calendar import CalendarProvider, CalendarUnreachable
from slotguard.calendar.local import LocalCalendar
from slotguard.domain import Company
from slotguard.observability import Metrics
from slotguard.store.db import statement_session_factory
from slotguard.store.driver import Driver

# Tenants change only when a tenants file is applied; serving them a few seconds stale saves
# several queries on every function call.
TENANT_CACHE_SECONDS = 10.0


class TtlCache:
    """A tiny per-process cache with expiry on the monotonic clock."""

    def __init__(self, seconds: float = TENANT_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._items: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable) -> Any | None:
        """The cached value, or None when absent or expired."""
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, key: Hashable, value: Any) -> None:
        """Remember ``value`` for the cache's lifetime."""
        self._items[key] = (time.monotonic() + self.seconds, value)


def utc_now() -> datetime:
    """The real clock; tests pass their own."""
    return datetime.now(UTC)


@dataclass
class Context:
    """Process-wide collaborators, built once by the app lifespan or the CLI and passed down."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], datetime] = utc_now
    calcom: Callable[[Company], CalendarProvider] | None = None  # built by the lifespan
    tenants: TtlCache = field(default_factory=TtlCache)
    repairs: Repairs = field(default_factory=Repairs)  # writes owed after a database outage
    # A repeat within this window is a retry (Retell: 20 s tool timeout, two retries).
    replay_window: timedelta = timedelta(seconds=60)
    # A claim older than this was left by a crashed request; shorter than the tool timeout.
    claim_timeout: timedelta = timedelta(seconds=15)
    # Sessions whose statements commit one by one (see store.db.statement_session_factory).
    statements: async_sessionmaker[AsyncSession] = field(init=False)
    # A few hot statements on the driver's own connection (store.driver).
    driver: Driver = field(init=False)

    def __post_init__(self) -> None:
        self.statements = statement_session_factory(self.engine)
        self.driver = Driver(self.engine, self.statements)

    # Where the secrets named in the tenants file live (Cal.com API keys, webhook secrets).
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def secret(self, name: str | None) -> str | None:
        """The value of the environment variable ``name``; None when unnamed, unset or empty."""
        return (self.environ.get(name) or None) if name else None

    def calendar(self, company: Company) -> CalendarProvider:
        """The calendar of record of ``company``."""
        if company.calendar == "calcom":
            if self.calcom is None:
                raise CalendarUnreachable("Cal.com is not configured in this process")
            return self.calcom(company)
        return LocalCalendar(
            self.sessions, company, self.clock, reads=self.statements, driver=self.driver
        )
