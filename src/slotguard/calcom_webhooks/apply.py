"""Applying a stored Cal.com event: Layer 3 — one local appointment per Cal.com booking.

Whichever arrives first, our API response or the webhook, settles the pending row; a booking
made elsewhere is mirrored; a cancel that overtook its create still ends cancelled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.booking.context import Context
from slotguard.booking.detect import record
from slotguard.booking.resolve import normalise_phone
from slotguard.calcom_webhooks.payload import BookingPayload, WebhookBody
from slotguard.domain import (
    ACTIVE_STATUSES,
    Action,
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Company,
    Customer,
    Decision,
    Layer,
    Reason,
    Result,
    TimeRange,
)
from slotguard.observability import get_logger
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.companies import CompanyRepository
from slotguard.store.customers import CustomerRepository
from slotguard.store.decisions import DecisionRecord
from slotguard.store.webhooks import WebhookEventRepository

log = get_logger("calcom_webhooks")
CREATED = frozenset({"BOOKING_CREATED", "BOOKING_REQUESTED"})
ENDED = {
    "BOOKING_CANCELLED": AppointmentStatus.CANCELLED,
    "BOOKING_REJECTED": AppointmentStatus.FAILED,
}
FUNCTION = "calcom_webhook"


# The outcome of an event that could not be applied now: it stays stored with its error and
# the reconciler applies it again (up to MAX_ATTEMPTS).
DEFERRED = "stored"


async def apply_event(ctx: Context, event_id: int) -> str:
    """Apply one stored event; returns the outcome, or DEFERRED with the error recorded."""
    try:
        return await _apply_event(ctx, event_id)
    except Exception as problem:
        log.exception("calcom_event_failed", event_id=event_id)
        async with ctx.sessions() as session, session.begin():
            await WebhookEventRepository(session).mark_processed(
                event_id, ctx.clock(), repr(problem)
            )
        return DEFERRED


async def _apply_event(ctx: Context, event_id: int) -> str:
    async with ctx.sessions() as session, session.begin():
        events = WebhookEventRepository(session)
        row = await events.get(event_id)
        assert row is not None and row.company_id is not None
        company = await CompanyRepository(session).by_id(row.company_id)
        assert company is not None
        body = WebhookBody.model_validate_json(row.raw_body)
        outcome = await _dispatch(ctx, session, company, body)
        await events.mark_processed(event_id, ctx.clock())
    ctx.metrics.webhook_events.labels(
        provider="calcom", trigger=body.triggerEvent, outcome=outcome
    ).inc()
    log.info(
        "calcom_event_applied", trigger=body.triggerEvent, outcome=outcome, company=company.slug
    )
    return outcome


async def apply_pending_events(ctx: Context, limit: int = 100) -> int:
    """Apply events that were stored but not applied (a crash in between); returns how many."""
    async with ctx.sessions() as session:
        rows = await WebhookEventRepository(session).unprocessed("calcom", limit)
    outcomes = [await apply_event(ctx, row.id) for row in rows]
    return sum(outcome != DEFERRED for outcome in outcomes)


async def apply_booking(
    ctx: Context, company: Company, trigger: str, booking: BookingPayload
) -> str:
    """Apply one booking as if Cal.com had sent ``trigger`` for it (used by ``calcom sync``)."""
    async with ctx.sessions() as session, session.begin():
        return await _apply(ctx, session, company, trigger, booking)


async def _dispatch(
    ctx: Context, session: AsyncSession, company: Company, body: WebhookBody
) -> str:
    if body.triggerEvent == "PING":
        return "ping"
    return await _apply(ctx, session, company, body.triggerEvent, body.booking())


async def _apply(
    ctx: Context, session: AsyncSession, company: Company, trigger: str, booking: BookingPayload
) -> str:
    if booking.uid is None:
        return "ignored"
    if trigger in CREATED:
        return await _created(
            ctx, session, company, booking, requested=trigger == "BOOKING_REQUESTED"
        )
    if trigger == "BOOKING_RESCHEDULED":
        return await _rescheduled(ctx, session, company, booking)
    if trigger in ENDED:
        return await _ended(ctx, session, booking.uid, ENDED[trigger])
    return "ignored"


async def _created(
    ctx: Context,
    session: AsyncSession,
    company: Company,
    booking: BookingPayload,
    *,
    requested: bool,
) -> str:
    assert booking.uid is not None
    repo = AppointmentRepository(session)
    known = await repo.by_calcom_uid(booking.uid)
    if known is not None:
        await _layer3(
            ctx, session, company, known, Reason.KNOWN_BOOKING_UID, Result.MERGED, Action.IGNORED
        )
        return "known"
    if booking.reservation_key is not None:
        ours = await repo.by_reservation_key(booking.reservation_key)
        if ours is not None:
            return await _settle_ours(ctx, session, company, ours, booking)
    return await _mirror(ctx, session, company, booking, requested=requested)


async def _settle_ours(
    ctx: Context,
    session: AsyncSession,
    company: Company,
    ours: Appointment,
    booking: BookingPayload,
) -> str:
    """The webhook of a booking we made: settle our pending (or wrongly failed) row."""
    assert booking.uid is not None
    revivable = frozenset({AppointmentStatus.PENDING, AppointmentStatus.FAILED})
    await AppointmentRepository(session).mark_booked(
        ours.id, booking.uid, booking.bookingId, ctx.clock(), only_from=revivable
    )
    await _layer3(
        ctx, session, company, ours, Reason.RESERVATION_MATCHED, Result.MERGED, Action.LINKED
    )
    return "linked"


async def _mirror(
    ctx: Context,
    session: AsyncSession,
    company: Company,
    booking: BookingPayload,
    *,
    requested: bool,
) -> str:
    """A booking made elsewhere: keep it; flag it when it collides with an active appointment."""
    assert booking.uid is not None
    span = _span(booking)
    if span is None:
        return "ignored"
    customer = await _customer(ctx, session, company, booking)
    service = await CompanyRepository(session).service_for_event_type(
        company.id, booking.eventTypeId, int(span.duration.total_seconds() // 60)
    )
    ended = await WebhookEventRepository(session).ended_before(booking.uid)
    status = AppointmentStatus.SCHEDULED if requested else AppointmentStatus.BOOKED
    if ended is not None:
        status = ENDED[ended]
    return await _keep(
        ctx, session, company, booking, Mirror(customer.id, service.id, span, status)
    )


@dataclass(frozen=True)
class Mirror:
    """The local row a Cal.com booking becomes."""

    customer_id: int
    service_id: int
    span: TimeRange
    status: AppointmentStatus
    rescheduled_from_id: int | None = None


async def _keep(
    ctx: Context, session: AsyncSession, company: Company, booking: BookingPayload, row: Mirror
) -> str:
    """Insert the mirror under the customer's lock, as a flagged duplicate when it collides.

    The lock is the one the agent's booking path takes, so a webhook and an agent request for
    the same caller never race past each other into the exclusion constraint.
    """
    repo = AppointmentRepository(session)
    await repo.lock_customer(company.id, row.customer_id)
    holds = row.status in ACTIVE_STATUSES
    collision = await repo.find_matching(company.id, row.customer_id, row.span) if holds else None
    inserted = await repo.insert(
        company_id=company.id,
        customer_id=row.customer_id,
        service_id=row.service_id,
        span=row.span,
        reservation_key=f"calcom-{uuid.uuid4().hex}",
        now=ctx.clock(),
        status=row.status,
        source=AppointmentSource.WEBHOOK,
        calcom_booking_uid=booking.uid,
        calcom_booking_id=booking.bookingId,
        rescheduled_from_id=row.rescheduled_from_id,
        duplicate_of_id=None if collision is None else collision.id,
    )
    if collision is not None:
        flags = (Reason.EXTERNAL_DUPLICATE, Result.FLAGGED, Action.FLAGGED)
        await _layer3(ctx, session, company, collision, *flags, inserted)
        return "flagged"
    return "mirrored" if holds else "mirrored_ended"


async def _rescheduled(
    ctx: Context, session: AsyncSession, company: Company, booking: BookingPayload
) -> str:
    """New uid replaces ``rescheduleUid``: settle our own open move, or mirror a move made
    in Cal.com for the old appointment's customer. Our reschedule's new booking may carry the
    old booking's metadata, so it is matched through the old uid, not our reservation key."""
    assert booking.uid is not None
    repo = AppointmentRepository(session)
    old = None if booking.rescheduleUid is None else await repo.by_calcom_uid(booking.rescheduleUid)
    if old is None or await repo.by_calcom_uid(booking.uid) is not None:
        return await _created(ctx, session, company, booking, requested=False)
    now = ctx.clock()
    if old.status in ACTIVE_STATUSES:
        await repo.set_status(old.id, AppointmentStatus.RESCHEDULED, now)
    successor = await repo.successor_of(old.id)
    if successor is not None:
        unsettled = frozenset({AppointmentStatus.PENDING, AppointmentStatus.FAILED})
        await repo.mark_booked(
            successor.id, booking.uid, booking.bookingId, now, only_from=unsettled
        )
        matched = (Reason.RESERVATION_MATCHED, Result.MERGED, Action.LINKED)
        await _layer3(ctx, session, company, successor, *matched)
        return "linked"
    span = _span(booking)
    if span is None:
        return "ignored"
    moved = Mirror(old.customer_id, old.service_id, span, AppointmentStatus.BOOKED, old.id)
    return await _keep(ctx, session, company, booking, moved)


async def _ended(ctx: Context, session: AsyncSession, uid: str, status: AppointmentStatus) -> str:
    """Cancel or reject: the row stops holding its slot; unknown uid → remembered by the store."""
    repo = AppointmentRepository(session)
    row = await repo.by_calcom_uid(uid)
    if row is None:
        return "ended_unknown"  # the stored event ends the booking when its create arrives
    await repo.set_status(row.id, status, ctx.clock(), only_from=ACTIVE_STATUSES)
    return "ended"


async def _customer(
    ctx: Context, session: AsyncSession, company: Company, booking: BookingPayload
) -> Customer:
    customers = CustomerRepository(session)
    now = ctx.clock()
    name = booking.booker.name if booking.booker else None
    phone = normalise_phone(booking.phone)
    if phone is not None:
        found = await customers.by_phone(company.id, phone, now)
        await customers.update_contact(found, None if found.name else name, booking.email, now)
        return found
    if booking.email:
        by_email = await customers.by_email(company.id, booking.email)
        if by_email is not None:
            return by_email
    return await customers.create(company.id, name, booking.email, now)


def _span(booking: BookingPayload) -> TimeRange | None:
    if booking.startTime is None:
        return None
    end = booking.endTime or booking.startTime + timedelta(minutes=booking.length or 30)
    if booking.startTime.tzinfo is None or end <= booking.startTime:
        return None
    return TimeRange(booking.startTime, end)


async def _layer3(
    ctx: Context,
    session: AsyncSession,
    company: Company,
    existing: Appointment,
    reason: Reason,
    result: Result,
    action: Action,
    incoming: Appointment | None = None,
) -> None:
    decision = Decision(Layer.POST_BOOKING, result, reason, action, (existing,))
    subject = incoming or existing
    where = DecisionRecord(
        company.id,
        FUNCTION,
        subject.customer_id,
        None,
        subject.service_id,
        subject.span.start,
        subject.span.end,
    )
    await record(ctx, session, decision, where)
