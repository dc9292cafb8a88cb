"""Received webhook events: stored before they are applied, deduplicated by a key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.store.sql import insert_ignore, required
from slotguard.store.tables import WebhookEventRow

# An event that failed this often needs a human; it stays stored with its error.
MAX_ATTEMPTS = 5


class WebhookEventRepository:
    """``insert_new`` is ON CONFLICT DO NOTHING → (event, created). Flushes only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, event_id: int) -> WebhookEventRow | None:
        """One stored event."""
        return await self.session.get(WebhookEventRow, event_id)

    async def insert_new(
        self,
        *,
        provider: str,
        company_id: int | None,
        dedupe_key: str,
        trigger: str,
        raw_body: str,
        now: datetime,
    ) -> tuple[WebhookEventRow, bool]:
        """Store the event unless an identical one was stored; created is False for a replay."""
        inserted = await self.session.execute(
            insert_ignore(self.session, WebhookEventRow, ["provider", "dedupe_key"])
            .values(
                provider=provider,
                company_id=company_id,
                dedupe_key=dedupe_key[:200],
                trigger=trigger[:64],
                raw_body=raw_body,
                received_at=now,
                attempts=0,
            )
            .returning(WebhookEventRow.id)
        )
        created = inserted.first() is not None
        row = await self.session.scalar(
            select(WebhookEventRow).where(
                WebhookEventRow.provider == provider,
                WebhookEventRow.dedupe_key == dedupe_key[:200],
            )
        )
        return required(row, f"webhook event {dedupe_key[:200]!r}"), created

    async def mark_processed(self, event_id: int, now: datetime, error: str | None = None) -> None:
        """Stamp the outcome of applying the event."""
        await self.session.execute(
            update(WebhookEventRow)
            .where(WebhookEventRow.id == event_id)
            .values(
                processed_at=None if error else now,
                error=error,
                attempts=WebhookEventRow.attempts + 1,
            )
        )

    async def ended_before(self, uid: str) -> str | None:
        """The trigger of a stored cancel or reject of ``uid`` (it may overtake its create)."""
        for trigger in ("BOOKING_CANCELLED", "BOOKING_REJECTED"):
            query = select(WebhookEventRow.id).where(
                WebhookEventRow.provider == "calcom",
                WebhookEventRow.dedupe_key.startswith(f"{trigger}:{uid}:", autoescape=True),
            )
            if await self.session.scalar(query.limit(1)) is not None:
                return trigger
        return None

    async def delete_processed_before(self, cutoff: datetime) -> int:
        """Delete applied events received before ``cutoff`` (bodies hold names and transcripts)."""
        result = await self.session.execute(
            delete(WebhookEventRow).where(
                WebhookEventRow.processed_at.is_not(None), WebhookEventRow.received_at < cutoff
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def unprocessed(self, provider: str, limit: int) -> list[WebhookEventRow]:
        """Events stored but not applied yet (e.g. the process died in between)."""
        query = (
            select(WebhookEventRow)
            .where(
                WebhookEventRow.provider == provider,
                WebhookEventRow.processed_at.is_(None),
                WebhookEventRow.attempts < MAX_ATTEMPTS,
            )
            .order_by(WebhookEventRow.id)
            .limit(limit)
        )
        return list(await self.session.scalars(query))
