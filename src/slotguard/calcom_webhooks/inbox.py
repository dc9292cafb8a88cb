"""The event inbox: a received Cal.com event is stored first, so nothing is lost on a crash.

``booking.calcom_events`` applies what the inbox holds (at once, and again from the
reconciler for what a crash or an error left unapplied).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from slotguard.calcom_webhooks.payload import WebhookBody
from slotguard.store.webhooks import WebhookEventRepository

PROVIDER = "calcom"


@dataclass(frozen=True)
class StoredEvent:
    """A stored event and whether this delivery was new."""

    event_id: int
    created: bool


def dedupe_key(body: WebhookBody, raw: bytes) -> str:
    """(trigger, uid, createdAt) when present — Cal.com sends no delivery id — else a body hash."""
    uid = body.payload.get("uid")
    if uid and body.createdAt:
        return f"{body.triggerEvent}:{uid}:{body.createdAt}"
    return f"{body.triggerEvent}:sha256:{hashlib.sha256(raw).hexdigest()}"


async def store_event(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    company_id: int,
    body: WebhookBody,
    raw: bytes,
) -> StoredEvent:
    """Insert the raw event unless this exact delivery was stored before."""
    async with sessions() as session, session.begin():
        row, created = await WebhookEventRepository(session).insert_new(
            provider=PROVIDER,
            company_id=company_id,
            dedupe_key=dedupe_key(body, raw),
            trigger=body.triggerEvent,
            raw_body=raw.decode("utf-8"),
            now=now,
        )
    return StoredEvent(row.id, created)


async def unapplied(sessions: async_sessionmaker[AsyncSession], limit: int) -> list[int]:
    """Ids of events stored but not applied yet (a crash in between, or an error to retry)."""
    async with sessions() as session:
        rows = await WebhookEventRepository(session).unprocessed(PROVIDER, limit)
    return [row.id for row in rows]
