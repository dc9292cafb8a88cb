"""SQL of the shared Cal.com state: request budgets per key, slot windows, periodic sync.

Times here are Unix seconds (``time.time()``): they are compared across processes and
hosts, and never shown to anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.store.sql import advisory_xact_lock, dialect_insert
from slotguard.store.tables import (
    CalcomKeyRow,
    CalcomSendRow,
    CalendarSyncRow,
    SlotWindowRow,
    SlotWindowVersionRow,
)


@dataclass(frozen=True, slots=True)
class KeyUsage:
    """A key's sends still counting (their ``sent_at``, oldest first) and its block."""

    sent: list[float]
    blocked_until: float


class BudgetRepository:
    """The sliding window of sends per API key; the caller holds the key's lock."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_and_read(self, key_hash: str, since: float) -> KeyUsage:
        """Lock the key until the transaction ends, forget sends before ``since``, read."""
        await advisory_xact_lock(self.session, "slotguard.calcom_budget", key_hash)
        await self.session.execute(
            delete(CalcomSendRow).where(
                CalcomSendRow.key_hash == key_hash, CalcomSendRow.sent_at < since
            )
        )
        sent = await self.session.scalars(
            select(CalcomSendRow.sent_at)
            .where(CalcomSendRow.key_hash == key_hash)
            .order_by(CalcomSendRow.sent_at)
        )
        blocked = await self.session.scalar(
            select(CalcomKeyRow.blocked_until).where(CalcomKeyRow.key_hash == key_hash)
        )
        return KeyUsage(list(sent), blocked or 0.0)

    async def add_send(self, key_hash: str, sent_at: float) -> int:
        """Count one send; returns its id, to move ``sent_at`` once it was answered."""
        row = CalcomSendRow(key_hash=key_hash, sent_at=sent_at)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def answered(self, send_id: int, at: float) -> None:
        """The send was answered at ``at``: it counts from then on, no longer pessimistically."""
        await self.session.execute(
            update(CalcomSendRow).where(CalcomSendRow.id == send_id).values(sent_at=at)
        )

    async def block(self, key_hash: str, until: float) -> None:
        """Cal.com refuses the key until ``until`` (a later block is kept)."""
        insert = dialect_insert(self.session, CalcomKeyRow).values(
            key_hash=key_hash, blocked_until=until
        )
        current = CalcomKeyRow.blocked_until
        later = case((current < until, until), else_=current)
        await self.session.execute(
            insert.on_conflict_do_update(
                index_elements=["key_hash"],
                set_={"blocked_until": later},
            )
        )

    async def count(self, key_hash: str, since: float) -> int:
        """Sends on the key that still count at ``since`` (for tests and benchmarks)."""
        found = await self.session.scalar(
            select(func.count()).where(
                CalcomSendRow.key_hash == key_hash, CalcomSendRow.sent_at >= since
            )
        )
        return int(found or 0)


@dataclass(frozen=True, slots=True)
class CachedWindow:
    """One stored window: its slots (ISO UTC), their version and when they were fetched."""

    slots: list[str] | None
    version: int
    fetched_at: float | None
    current_version: int
    lease_until: float


_WINDOW_VERSION = (
    select(SlotWindowVersionRow.version)
    .where(
        SlotWindowVersionRow.company_id == bindparam("company_id"),
        SlotWindowVersionRow.window_start == bindparam("window_start"),
    )
    .scalar_subquery()
)
# A hot-path statement: built once, with bound values (see store.sql.once_per_dialect).
_read_window = select(
    SlotWindowRow.slots,
    SlotWindowRow.version,
    SlotWindowRow.fetched_at,
    SlotWindowRow.lease_until,
    func.coalesce(_WINDOW_VERSION, 0),
).where(
    SlotWindowRow.company_id == bindparam("company_id"),
    SlotWindowRow.event_type_id == bindparam("event_type_id"),
    SlotWindowRow.window_start == bindparam("window_start"),
)


class SlotWindowRepository:
    """Shared slot windows and their versions. One key: (company, event type, window start)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def read(self, company_id: int, event_type_id: int, start: str) -> CachedWindow | None:
        """The stored window with the window's current version (one statement, one snapshot);
        None when never stored."""
        key = {"company_id": company_id, "event_type_id": event_type_id, "window_start": start}
        row = (await self.session.execute(_read_window, key)).first()
        if row is None:
            return None
        slots, version, fetched_at, lease_until, current = row
        return CachedWindow(slots, version, fetched_at, int(current), lease_until)

    async def current_version(self, company_id: int, start: str) -> int:
        """How often the window was invalidated (0 when never)."""
        found = await self.session.scalar(
            select(SlotWindowVersionRow.version).where(
                SlotWindowVersionRow.company_id == company_id,
                SlotWindowVersionRow.window_start == start,
            )
        )
        return int(found or 0)

    async def claim(
        self,
        company_id: int,
        event_type_id: int,
        start: str,
        now: float,
        until: float,
        *,
        fresh_since: float,
        version: int,
    ) -> bool:
        """Take the lease of the window's lookup unless another holds it, or another lookup
        stored an answer fetched since ``fresh_since`` for ``version`` meanwhile."""
        key = {"company_id": company_id, "event_type_id": event_type_id, "window_start": start}
        row = SlotWindowRow
        stale = or_(row.fetched_at.is_(None), row.fetched_at < fresh_since, row.version != version)
        return await _claim(self.session, row, key, now, until, stale, version=-1)

    async def store(
        self,
        company_id: int,
        event_type_id: int,
        start: str,
        *,
        version: int,
        slots: list[str],
        fetched_at: float,
    ) -> None:
        """Keep a lookup's answer (as of ``version``) and release the lease."""
        await self._set(
            company_id, event_type_id, start,
            version=version, slots=slots, fetched_at=fetched_at, lease_until=0.0,
        )  # fmt: skip

    async def release(self, company_id: int, event_type_id: int, start: str) -> None:
        """Give the lease up without an answer (the lookup failed)."""
        await self._set(company_id, event_type_id, start, lease_until=0.0)

    async def _set(self, company_id: int, event_type_id: int, start: str, **values: Any) -> None:
        await self.session.execute(
            update(SlotWindowRow)
            .where(
                SlotWindowRow.company_id == company_id,
                SlotWindowRow.event_type_id == event_type_id,
                SlotWindowRow.window_start == start,
            )
            .values(**values)
        )

    async def invalidate(self, company_id: int, starts: list[str]) -> None:
        """Bump the version of each window: every process looks them up again."""
        for start in starts:
            insert = dialect_insert(self.session, SlotWindowVersionRow).values(
                company_id=company_id, window_start=start, version=1
            )
            await self.session.execute(
                insert.on_conflict_do_update(
                    index_elements=["company_id", "window_start"],
                    set_={"version": SlotWindowVersionRow.version + 1},
                )
            )


class SyncRepository:
    """Who runs a company's periodic sync, and what its last run found."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, company_id: int, now: float, until: float) -> bool:
        """Take the company's sync lease unless another process holds it or ran it recently."""
        return await _claim(self.session, CalendarSyncRow, {"company_id": company_id}, now, until)

    async def finish(
        self,
        company_id: int,
        *,
        at: datetime,
        outcome: str,
        findings: dict[str, Any],
        next_run: float,
    ) -> None:
        """Record the run; the lease is kept until ``next_run`` so no process runs it sooner."""
        await self.session.execute(
            update(CalendarSyncRow)
            .where(CalendarSyncRow.company_id == company_id)
            .values(
                last_run_at=at, last_outcome=outcome, last_findings=findings, lease_until=next_run
            )
        )

    async def last_run(self, company_id: int) -> CalendarSyncRow | None:
        """The company's sync row (for the dashboard), or None before its first run."""
        return await self.session.get(CalendarSyncRow, company_id)


async def _claim(
    session: AsyncSession,
    table: Any,
    key: dict[str, Any],
    now: float,
    until: float,
    also: Any = None,
    **new: Any,
) -> bool:
    """Create the row holding a lease until ``until``, or take its lease over if it ran out
    before ``now`` (and ``also`` holds); True when this caller holds the lease. ``new`` fills
    a row created here."""
    insert = dialect_insert(session, table).values(**key, **new, lease_until=until)
    condition = table.lease_until < now if also is None else and_(table.lease_until < now, also)
    statement = insert.on_conflict_do_update(
        index_elements=list(key),
        set_={"lease_until": until},
        where=condition,
    ).returning(table.lease_until)
    return (await session.execute(statement)).first() is not None
