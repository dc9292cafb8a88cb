"""Retell call lifecycle events: stored idempotently by (call_id, event), then applied to calls."""

from __future__ import annotations

from datetime import UTC, datetime

from slotguard.booking.context import Context
from slotguard.booking.errors import UnknownTenant
from slotguard.booking.resolve import caller_for, company_for
from slotguard.retell.dispatch import call_ref
from slotguard.retell.schemas import LifecycleEvent
from slotguard.store.customers import CallRepository
from slotguard.store.webhooks import WebhookEventRepository


async def store(ctx: Context, event: LifecycleEvent, raw: str) -> bool:
    """Store the event once; link the call to company and caller. False for a repeat."""
    call = call_ref(event.call)
    try:
        company = await company_for(ctx, call)
    except UnknownTenant:
        company = None
    async with ctx.sessions() as session, session.begin():
        _row, created = await WebhookEventRepository(session).insert_new(
            provider="retell",
            company_id=None if company is None else company.id,
            dedupe_key=f"{call.call_id}:{event.event}",
            trigger=event.event,
            raw_body=raw,
            now=ctx.clock(),
        )
    ctx.metrics.webhook_events.labels(
        provider="retell", trigger=event.event, outcome="stored" if created else "duplicate"
    ).inc()
    if not created or company is None:
        return created
    await caller_for(ctx, company, call, create=False)
    ended = None
    if event.call.end_timestamp is not None:
        ended = datetime.fromtimestamp(event.call.end_timestamp / 1000, UTC)
    async with ctx.sessions() as session, session.begin():
        await CallRepository(session).set_lifecycle(
            call.call_id, event.call.call_status, ended, ctx.clock()
        )
        await WebhookEventRepository(session).mark_processed(_row.id, ctx.clock())
    return True
