"""The Context every use case receives: database sessions, clock, calendars, metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from slotguard.calendar import CalendarProvider, CalendarUnreachable
from slotguard.calendar.local import LocalCalendar
from slotguard.domain import Company
from slotguard.observability import Metrics


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

    @property
    def is_postgres(self) -> bool:
        """True on PostgreSQL (advisory locks, exclusion constraint, SKIP LOCKED)."""
        return self.engine.dialect.name == "postgresql"

    def calendar(self, company: Company) -> CalendarProvider:
        """The calendar of record of ``company``."""
        if company.calendar == "calcom":
            if self.calcom is None:
                raise CalendarUnreachable("Cal.com is not configured in this process")
            return self.calcom(company)
        return LocalCalendar(self.sessions, company, self.clock)
