"""Storing a received Cal.com event first, so that nothing is lost on a crash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from slotguard.booking.context import Context
from slotguard.calcom_webhooks.payload import WebhookBody
from slotguard.store.webhooks import WebhookEventRepository


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


async def store_event(ctx: Context, company_id: int, body: WebhookBody, raw: bytes) -> StoredEvent:
    """Insert the raw event unless this exact delivery was stored before."""
    async with ctx.sessions() as session, session.begin():
        row, created = await WebhookEventRepository(session).insert_new(
            provider="calcom",
            company_id=company_id,
            dedupe_key=dedupe_key(body, raw),
            trigger=body.triggerEvent,
            raw_body=raw.decode("utf-8"),
            now=ctx.clock(),
        )
    return StoredEvent(row.id, created)
