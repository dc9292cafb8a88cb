"""Retell call lifecycle events: stored once per (call_id, event), then applied to the call."""

from __future__ import annotations

from datetime import datetime

from slotguard.booking.context import Context
from slotguard.booking.errors import UnknownTenant
from slotguard.booking.resolve import CallRef, caller_for, company_for
from slotguard.store.calls import CallRepository
from slotguard.store.webhooks import WebhookEventRepository


async def record_call_event(
    ctx: Context,
    call: CallRef,
    event: str,
    *,
    status: str | None,
    ended_at: datetime | None,
    raw: str,
) -> bool:
    """Store the event once and link the call to company and caller; False for a repeat.

    An event of an unrouted agent is stored without a company (Retell retries non-2xx).
    """
    try:
        company = await company_for(ctx, call)
    except UnknownTenant:
        company = None
    async with ctx.sessions() as session, session.begin():
        row, created = await WebhookEventRepository(session).insert_new(
            provider="retell",
            company_id=None if company is None else company.id,
            dedupe_key=f"{call.call_id}:{event}",
            trigger=event,
            raw_body=raw,
            now=ctx.clock(),
        )
    outcome = "stored" if created else "duplicate"
    ctx.metrics.webhook_events.labels(provider="retell", trigger=event, outcome=outcome).inc()
    if not created or company is None:
        return created
    await caller_for(ctx, company, call, create=False)
    async with ctx.sessions() as session, session.begin():
        await CallRepository(session).set_lifecycle(call.call_id, status, ended_at, ctx.clock())
        await WebhookEventRepository(session).mark_processed(row.id, ctx.clock())
    return True
