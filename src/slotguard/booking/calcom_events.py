"""Applying the Cal.com events of the inbox: each stored event becomes one Layer 3 change.

The webhook endpoint applies an event right after storing it; the reconciler applies what a
crash or an error left in the inbox. An event that fails keeps its error and is tried again
(up to ``store.webhooks.MAX_ATTEMPTS``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.booking import layer3
from slotguard.booking.context import Context
from slotguard.booking.layer3 import Change, Outcome
from slotguard.calcom_webhooks import WebhookBody, unapplied
from slotguard.calendar import CalendarBooking
from slotguard.calendar.slot_cache import invalidate
from slotguard.domain import Company
from slotguard.observability import get_logger
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.companies import CompanyRepository
from slotguard.store.webhooks import WebhookEventRepository

log = get_logger("calcom_webhooks")
CHANGES = {
    "BOOKING_CREATED": Change.CREATED,
    "BOOKING_REQUESTED": Change.REQUESTED,
    "BOOKING_RESCHEDULED": Change.RESCHEDULED,
    "BOOKING_CANCELLED": Change.CANCELLED,
    "BOOKING_REJECTED": Change.REJECTED,
}


class EventUnusable(LookupError):
    """A stored event without a company, or of a company that is gone."""


async def apply_event(ctx: Context, event_id: int) -> Outcome:
    """Apply one stored event; returns the outcome, or RETRY with the error recorded."""
    try:
        return await _apply_event(ctx, event_id)
    except Exception as problem:
        log.exception("calcom_event_failed", event_id=event_id)
        async with ctx.sessions() as session, session.begin():
            await WebhookEventRepository(session).mark_processed(
                event_id, ctx.clock(), repr(problem)
            )
        return Outcome.RETRY


async def apply_pending_events(ctx: Context, limit: int = 100) -> int:
    """Apply events that were stored but not applied (a crash in between); returns how many."""
    outcomes = [
        await apply_event(ctx, event_id) for event_id in await unapplied(ctx.sessions, limit)
    ]
    return sum(outcome is not Outcome.RETRY for outcome in outcomes)


async def _apply_event(ctx: Context, event_id: int) -> Outcome:
    async with ctx.sessions() as session, session.begin():
        events = WebhookEventRepository(session)
        row = await events.get(event_id)
        company_id = None if row is None else row.company_id
        company = None if company_id is None else await CompanyRepository(session).by_id(company_id)
        if row is None or company is None:
            raise EventUnusable(f"event {event_id} has no company to apply it to")
        body = WebhookBody.model_validate_json(row.raw_body)
        outcome = await _dispatch(ctx, session, company, body)
        await events.mark_processed(event_id, ctx.clock())
    trigger = body.triggerEvent
    ctx.metrics.webhook_events.labels(provider="calcom", trigger=trigger, outcome=outcome).inc()
    log.info("calcom_event_applied", trigger=trigger, outcome=outcome.value, company=company.slug)
    return outcome


async def _invalidate_slots(
    session: AsyncSession, company: Company, uid: str, booking: CalendarBooking | None
) -> None:
    """Every event, whatever it changes: every process looks its days up again (Cal.com
    knows better than our cached windows), and a move's old days too."""
    repo = AppointmentRepository(session)
    spans = [] if booking is None else [booking.span]
    for known in {uid, None if booking is None else booking.rescheduled_from_uid} - {None}:
        row = await repo.by_calcom_uid(str(known))
        spans += [] if row is None else [row.span]
    await invalidate(session, company, spans)


async def _dispatch(
    ctx: Context, session: AsyncSession, company: Company, body: WebhookBody
) -> Outcome:
    if body.triggerEvent == "PING":
        return Outcome.PING
    change = CHANGES.get(body.triggerEvent)
    if change is None:  # a trigger we do not handle: its payload need not look like a booking
        return Outcome.IGNORED
    payload = body.booking()
    if payload.uid is None:
        return Outcome.IGNORED
    booking = payload.to_booking()
    await _invalidate_slots(session, company, payload.uid, booking)
    if booking is not None:
        return await layer3.apply(ctx, session, company, change, booking)
    if change in layer3.ENDS:  # ending a booking needs its uid only
        return await layer3.end(ctx, session, payload.uid, layer3.ENDS[change])
    return Outcome.IGNORED
