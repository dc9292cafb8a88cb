"""Received webhook events: stored before they are applied, deduplicated by a key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.store.sql import insert_ignore
from slotguard.store.tables import WebhookEventRow


class WebhookEventRepository:
    """``insert_new`` is ON CONFLICT DO NOTHING → (event, created). Flushes only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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
        assert row is not None
        return row, created

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

    async def unprocessed(self, limit: int) -> list[WebhookEventRow]:
        """Events stored but not applied yet (e.g. the process died in between)."""
        query = (
            select(WebhookEventRow)
            .where(WebhookEventRow.processed_at.is_(None))
            .order_by(WebhookEventRow.id)
            .limit(limit)
        )
        return list(await self.session.scalars(query))
