"""The Context every use case receives: database sessions, clock, calendars, metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

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

    @property
    def is_postgres(self) -> bool:
        """True on PostgreSQL (advisory locks, exclusion constraint, SKIP LOCKED)."""
        return self.engine.dialect.name == "postgresql"
