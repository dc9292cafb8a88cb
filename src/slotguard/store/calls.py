"""Retell calls: the row of each call, its customer and the appointment it made."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from slotguard.store.driver import Lane
from slotguard.store.sql import once_per_dialect, required, table_of
from slotguard.store.tables import CallRow

_CALLS = table_of(CallRow)


class CallRecord(NamedTuple):
    """The call's row as one request recorded it."""

    id: int
    customer_id: int | None
    link_status: str


@cache
def _record(dialect: str) -> ReturningInsert[int, int | None, str]:
    """Create the call row or touch it, linking the customer when one is given."""
    insert = postgresql.insert(_CALLS) if dialect == "postgresql" else sqlite.insert(_CALLS)
    given = insert.excluded.customer_id
    return insert.on_conflict_do_update(
        index_elements=["call_id"],
        set_={
            "updated_at": insert.excluded.updated_at,
            "customer_id": func.coalesce(given, _CALLS.c.customer_id),
        },
    ).returning(_CALLS.c.id, _CALLS.c.customer_id, _CALLS.c.appointment_link_status)


async def record_on(
    lane: Lane,
    *,
    call_id: str,
    company_id: int,
    agent_id: str | None,
    from_number: str | None,
    to_number: str | None,
    started_at: datetime | None,
    now: datetime,
    customer_id: int | None = None,
) -> CallRecord:
    """The call row for ``call_id``, created on first sight (race-safe) and linked to
    ``customer_id`` when given, in one statement on ``lane`` (see store.driver)."""
    values = {
        "call_id": call_id,
        "company_id": company_id,
        "agent_id": agent_id,
        "from_number": from_number,
        "to_number": to_number,
        "started_at": started_at,
        "customer_id": customer_id,
        "appointment_link_status": "none",
        "created_at": now,
        "updated_at": now,
    }
    rows = await lane.rows(_record(lane.dialect), values)
    found = required(rows[0] if rows else None, f"call {call_id!r}")
    return CallRecord(found[0], found[1], found[2])


@once_per_dialect
def _failed_booking(_dialect: str) -> Select[int, int | None]:
    """The call's row and appointment when its booking failed and the caller was not told."""
    return select(_CALLS.c.id, _CALLS.c.appointment_id).where(
        _CALLS.c.call_id == bindparam("call_id"),
        _CALLS.c.appointment_link_status == "failed",
        _CALLS.c.appointment_id.is_not(None),
    )


class CallRepository:
    """Retell calls: created on first sight, linked to customer and appointment."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def failed_booking_of(self, call_id: str) -> tuple[int, int] | None:
        """(call row id, appointment id) when the call's booking failed and was not yet told."""
        found = await self.session.execute(_failed_booking(self.session), {"call_id": call_id})
        row = found.first()
        if row is None or row[1] is None:
            return None
        return row[0], row[1]

    async def mark_told(self, row_id: int, now: datetime, told: str) -> bool:
        """Mark a failed booking told (``told``); False when another request told it first."""
        result = await self.session.execute(
            update(CallRow)
            .where(CallRow.id == row_id, CallRow.appointment_link_status == "failed")
            .values(appointment_link_status=told, updated_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def link(
        self,
        row_id: int,
        now: datetime,
        *,
        customer_id: int | None = None,
        appointment_id: int | None = None,
        link_status: str | None = None,
    ) -> None:
        """Link the call to its customer and/or appointment."""
        values: dict[str, object] = {"updated_at": now}
        if customer_id is not None:
            values["customer_id"] = customer_id
        if appointment_id is not None:
            values["appointment_id"] = appointment_id
        if link_status is not None:
            values["appointment_link_status"] = link_status
        await self.session.execute(update(CallRow).where(CallRow.id == row_id).values(**values))

    async def set_lifecycle(
        self, call_id: str, status: str | None, ended_at: datetime | None, now: datetime
    ) -> None:
        """Record the call's status from a Retell lifecycle event."""
        values: dict[str, object] = {"updated_at": now}
        if status:
            values["call_status"] = status
        if ended_at is not None:
            values["ended_at"] = ended_at
        await self.session.execute(
            update(CallRow).where(CallRow.call_id == call_id).values(**values)
        )
