"""Retell calls: the row of each call, its customer and the appointment it made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.store.sql import required, upsert_touching
from slotguard.store.tables import CallRow


class CallRepository:
    """Retell calls: created on first sight, linked to customer and appointment."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(
        self,
        *,
        call_id: str,
        company_id: int,
        agent_id: str | None,
        from_number: str | None,
        to_number: str | None,
        started_at: datetime | None,
        now: datetime,
    ) -> CallRow:
        """The call row for ``call_id``, created on first sight (race-safe)."""
        statement = (
            upsert_touching(self.session, CallRow, ["call_id"], "updated_at")
            .values(
                call_id=call_id,
                company_id=company_id,
                agent_id=agent_id,
                from_number=from_number,
                to_number=to_number,
                started_at=started_at,
                appointment_link_status="none",
                created_at=now,
                updated_at=now,
            )
            .returning(CallRow)
        )
        row = await self.session.scalar(statement, execution_options={"populate_existing": True})
        return required(row, f"call {call_id!r}")

    async def by_call_id(self, call_id: str) -> CallRow | None:
        """The call row, if the call was seen."""
        return await self.session.scalar(select(CallRow).where(CallRow.call_id == call_id))

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
