"""The audit trail of duplicate decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from slotguard.domain import Decision
from slotguard.store.sql import table_of
from slotguard.store.tables import DuplicateDecisionRow

_DECISIONS = table_of(DuplicateDecisionRow)
# Built once: the insert runs for every warning and refusal (store.sql.once_per_dialect).
_INSERT: ReturningInsert[int] = insert(_DECISIONS).returning(_DECISIONS.c.id)


@dataclass(frozen=True)
class DecisionRecord:
    """Where and about what a decision was made."""

    company_id: int
    function: str
    customer_id: int | None = None
    call_row_id: int | None = None
    service_id: int | None = None
    requested_start: datetime | None = None
    requested_end: datetime | None = None
    note: str | None = None


class DecisionRepository:
    """Writes ``duplicate_decisions`` rows. Flushes only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, decision: Decision, where: DecisionRecord, now: datetime) -> int:
        """Store one decision; returns its id."""
        existing = decision.first_existing
        values = {
            "company_id": where.company_id,
            "customer_id": where.customer_id,
            "call_id": where.call_row_id,
            "function": where.function,
            "layer": int(decision.layer),
            "result": decision.result.value,
            "reason": decision.reason.value,
            "action": decision.action.value,
            "service_id": where.service_id,
            "requested_start": where.requested_start,
            "requested_end": where.requested_end,
            "existing_appointment_id": None if existing is None else existing.id,
            "false_positive": False,
            "note": where.note,
            "created_at": now,
        }
        inserted = await self.session.execute(_INSERT, values)
        return int(inserted.scalar_one())
