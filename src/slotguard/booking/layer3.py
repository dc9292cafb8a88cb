"""Layer 3, post-booking dedupe: one local appointment per calendar booking.

Applies a ``calendar.CalendarBooking`` that Cal.com reported (a webhook, or the sync reading
the bookings list). Whichever arrives first, our API response or this, settles our pending
row (through ``settlement``); a booking made elsewhere is mirrored, and flagged when it
collides with an active appointment; a cancel that overtook its create still ends cancelled.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.booking import settlement
from slotguard.booking.context import Context
from slotguard.booking.detect import record_layer3
from slotguard.booking.resolve import normalise_phone
from slotguard.calendar import CalendarBooking
from slotguard.domain import (
    ACTIVE_STATUSES,
    Action,
    AppointmentSource,
    AppointmentStatus,
    Company,
    Customer,
    Reason,
    Result,
    TimeRange,
)
from slotguard.observability import get_logger
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.companies import CompanyRepository
from slotguard.store.customers import CustomerRepository
from slotguard.store.webhooks import WebhookEventRepository

# The function name Layer 3 decisions are logged under (webhook and sync alike).
FUNCTION = "calcom_webhook"

log = get_logger("layer3")


class Change(enum.StrEnum):
    """What happened to a booking (Cal.com's BOOKING_* triggers, or a listed status)."""

    CREATED = "created"
    REQUESTED = "requested"  # created, awaiting the host's confirmation
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class Outcome(enum.StrEnum):
    """What applying a booking did; a metric label and the webhook's answer."""

    KNOWN = "known"  # we already mirror this booking uid
    LINKED = "linked"  # our pending (or failed) row, settled as booked
    MIRRORED = "mirrored"  # a booking made elsewhere, now kept here
    MIRRORED_ENDED = "mirrored_ended"  # … that was already cancelled or rejected
    FLAGGED = "flagged"  # … that collides with an active appointment of the customer
    ENDED = "ended"
    ENDED_UNKNOWN = "ended_unknown"  # the stored event ends the booking when its create comes
    IGNORED = "ignored"
    PING = "ping"
    RETRY = "stored"  # could not be applied now: kept in the inbox with its error


ENDS = {Change.CANCELLED: AppointmentStatus.CANCELLED, Change.REJECTED: AppointmentStatus.FAILED}
# A stored BOOKING_* trigger that ended a booking, by the status it ends it in.
_ENDED_BY_TRIGGER = {
    "BOOKING_CANCELLED": AppointmentStatus.CANCELLED,
    "BOOKING_REJECTED": AppointmentStatus.FAILED,
}


@dataclass(frozen=True)
class Mirror:
    """The local row a calendar booking becomes."""

    customer_id: int
    service_id: int
    span: TimeRange
    status: AppointmentStatus
    rescheduled_from_id: int | None = None


async def apply(
    ctx: Context, session: AsyncSession, company: Company, change: Change, booking: CalendarBooking
) -> Outcome:
    """Apply one booking change inside the caller's transaction."""
    if change in (Change.CREATED, Change.REQUESTED):
        return await _created(ctx, session, company, booking, requested=change is Change.REQUESTED)
    if change is Change.RESCHEDULED:
        return await _rescheduled(ctx, session, company, booking)
    return await end(ctx, session, booking.uid, ENDS[change])


async def end(ctx: Context, session: AsyncSession, uid: str, status: AppointmentStatus) -> Outcome:
    """Cancel or reject: the row stops holding its slot; an unknown uid is remembered by the
    inbox and ends the booking when its create arrives."""
    repo = AppointmentRepository(session)
    row = await repo.by_calcom_uid(uid)
    if row is None:
        return Outcome.ENDED_UNKNOWN
    await repo.set_status(row.id, status, ctx.clock(), only_from=ACTIVE_STATUSES)
    return Outcome.ENDED


async def _created(
    ctx: Context,
    session: AsyncSession,
    company: Company,
    booking: CalendarBooking,
    *,
    requested: bool,
) -> Outcome:
    repo = AppointmentRepository(session)
    known = await repo.by_calcom_uid(booking.uid)
    if known is not None:
        ignored = (Reason.KNOWN_BOOKING_UID, Result.MERGED, Action.IGNORED)
        await record_layer3(ctx, session, FUNCTION, known, *ignored)
        return Outcome.KNOWN
    ours = None
    if booking.reservation_key is not None:
        ours = await repo.by_reservation_key(booking.reservation_key)
    if ours is not None:
        await settlement.confirm(ctx, session, ours, booking, revive=True, matched_by=FUNCTION)
        return Outcome.LINKED
    return await _mirror(ctx, session, company, booking, requested=requested)


async def _mirror(
    ctx: Context,
    session: AsyncSession,
    company: Company,
    booking: CalendarBooking,
    *,
    requested: bool,
) -> Outcome:
    """A booking made elsewhere: keep it, in the status a stored cancel or reject left it.

    Not when its event type is another company's: several salons may share one Cal.com
    account, whose bookings list and account-wide webhooks show every salon's bookings. The
    owner mirrors it (its sync, or the webhook routed to it); mirrored here, it would hold
    the uid under the wrong salon and miss the owner's duplicate check.
    """
    if booking.event_type_id is not None:
        owners = await CompanyRepository(session).companies_of_event_type(booking.event_type_id)
        if owners and company.id not in owners:
            log.info("calcom_booking_of_other_company", company=company.slug,
                     event_type_id=booking.event_type_id, uid=booking.uid)  # fmt: skip
            return Outcome.IGNORED
    customer = await _customer(ctx, session, company, booking)
    minutes = int(booking.span.duration.total_seconds() // 60)
    service = await CompanyRepository(session).service_for_event_type(
        company.id, booking.event_type_id, minutes
    )
    ended = await WebhookEventRepository(session).ended_before(booking.uid)
    status = AppointmentStatus.SCHEDULED if requested else AppointmentStatus.BOOKED
    if ended is not None:
        status = _ENDED_BY_TRIGGER[ended]
    row = Mirror(customer.id, service.id, booking.span, status)
    return await _keep(ctx, session, company, booking, row)


async def _keep(
    ctx: Context, session: AsyncSession, company: Company, booking: CalendarBooking, row: Mirror
) -> Outcome:
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
        calcom_booking_id=booking.booking_id,
        rescheduled_from_id=row.rescheduled_from_id,
        duplicate_of_id=None if collision is None else collision.id,
    )
    if collision is not None:
        flags = (Reason.EXTERNAL_DUPLICATE, Result.FLAGGED, Action.FLAGGED)
        await record_layer3(ctx, session, FUNCTION, collision, *flags, inserted)
        return Outcome.FLAGGED
    return Outcome.MIRRORED if holds else Outcome.MIRRORED_ENDED


async def _rescheduled(
    ctx: Context, session: AsyncSession, company: Company, booking: CalendarBooking
) -> Outcome:
    """The new uid replaces ``rescheduled_from_uid``: settle our own open move, or mirror a
    move made in Cal.com for the old appointment's customer. Our reschedule's new booking may
    carry the old booking's metadata, so it is matched through the old uid, not our key."""
    repo = AppointmentRepository(session)
    origin = booking.rescheduled_from_uid
    old = None if origin is None else await repo.by_calcom_uid(origin)
    if old is None or await repo.by_calcom_uid(booking.uid) is not None:
        return await _created(ctx, session, company, booking, requested=False)
    if old.status in ACTIVE_STATUSES:
        await repo.set_status(old.id, AppointmentStatus.RESCHEDULED, ctx.clock())
    successor = await repo.successor_of(old.id)
    if successor is not None:
        await settlement.confirm(ctx, session, successor, booking, revive=True, matched_by=FUNCTION)
        return Outcome.LINKED
    moved = Mirror(old.customer_id, old.service_id, booking.span, AppointmentStatus.BOOKED, old.id)
    return await _keep(ctx, session, company, booking, moved)


async def _customer(
    ctx: Context, session: AsyncSession, company: Company, booking: CalendarBooking
) -> Customer:
    customers = CustomerRepository(session)
    now = ctx.clock()
    name, email = booking.attendee_name, booking.attendee_email
    phone = normalise_phone(booking.attendee_phone)
    if phone is not None:
        person, _household = await customers.person(company.id, phone, name, email, now)
        return person
    if email:
        by_email = await customers.by_email(company.id, email)
        if by_email is not None:
            return by_email
    return await customers.create(company.id, name, email, now)
