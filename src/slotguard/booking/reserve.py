"""The reserve phase of booking and moving: refuse, warn, or hold the slot with a pending row.

Under the customer's lock, in one transaction: run Layers 1 and 2, record the decisions and
INSERT the pending row that holds the slot (a move first frees the old row). The database
constraints catch what a race let through and answer with the same refusal as Layer 2.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from sqlalchemy.exc import IntegrityError

from slotguard.booking.context import Context
from slotguard.booking.detect import (
    Findings,
    decided,
    decision_record,
    examine,
    record,
    request_for,
)
from slotguard.booking.offer import event_type_for
from slotguard.booking.replies import AppointmentView, Reply, Status, decision_reply
from slotguard.booking.resolve import Caller
from slotguard.calendar import CalendarUnreachable, CreateBooking, CreateOutcome, CreateResult
from slotguard.domain import (
    Action,
    Appointment,
    AppointmentStatus,
    Company,
    Customer,
    Decision,
    Layer,
    Reason,
    Result,
    Service,
    TimeRange,
)
from slotguard.domain.salon import StaffMember
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.decisions import DecisionRecord
from slotguard.store.integrity import refusal_reason


@dataclass(frozen=True)
class Hold:
    """What to hold: the caller's slot for a service, optionally replacing ``moving``."""

    caller: Caller
    customer: Customer
    service: Service
    span: TimeRange
    function: str
    confirmed: bool = False  # the agent passed confirm_duplicate (or it is a move)
    moving: Appointment | None = None
    host: StaffMember | None = None  # the person to book (None: the company's one calendar)
    wished: bool = False  # the caller asked for ``host``: no other person may take it
    # Chosen before the transaction, so a failover repair can find the row it may have left.
    key: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class Held:
    """A slot held by our pending row, ready for the calendar call."""

    caller: Caller
    service: Service
    appointment: Appointment
    request: CreateBooking
    moving: Appointment | None = None  # the appointment this one replaces


async def reserve(ctx: Context, hold: Hold) -> Held | Reply:
    """Under the customer's lock: refuse (Layer 2), warn (Layer 1) or hold the slot."""
    company = hold.caller.company
    where = _where(hold)
    try:
        async with ctx.sessions() as session, session.begin():
            repo = AppointmentRepository(session)
            await repo.lock_customer(company.id, hold.customer.id)
            request = request_for(
                company, hold.customer.id, hold.service.id, hold.span, _moving_id(hold)
            )
            found = await examine(session, company, request, ctx.clock(), hold.customer.email)
            for decision in _decisions(found, hold):
                await record(ctx, session, decision, where)
            stop = _verdict(found, hold)
            if stop is not None:
                return await _stopped(repo, hold, *stop)
            row = await _hold(ctx, repo, hold)
    except IntegrityError as violation:
        return await _constraint_refusal(ctx, violation, where, hold)
    key = row.reservation_key
    booking = calendar_request(
        company, hold.customer, hold.service, hold.span, key, hold.host, wished=hold.wished
    )
    return Held(hold.caller, hold.service, row, booking, hold.moving)


def _verdict(found: Findings, hold: Hold) -> tuple[Decision, Status] | None:
    """The refusal or warning that stops the booking, if any."""
    if found.refusal.result is Result.BLOCKED:
        return found.refusal, Status.REFUSED
    if _same_day(found, hold) and not hold.confirmed:
        return found.warning, Status.WARNING
    return None


async def _stopped(
    repo: AppointmentRepository, hold: Hold, decision: Decision, status: Status
) -> Reply:
    """The refusal or warning, naming only the person's own appointments; a repeat of a book
    this very call made answers that booking's state (booked or pending), not a duplicate."""
    tz = hold.caller.company.tz
    local = hold.span.start.astimezone(tz)
    if decision.reason is Reason.EXACT_DUPLICATE and hold.moving is None:
        for existing in decision.existing:
            if await repo.call_row_of(existing.id) == hold.caller.call_row_id:
                pending = existing.status is AppointmentStatus.PENDING
                view = AppointmentView.of(existing, tz)
                state = Status.PENDING if pending else Status.BOOKED
                return Reply(state, requested_start=local, appointment=view)
    return decided(status, decision, hold.customer.id, tz, local)


def _decisions(found: Findings, hold: Hold) -> list[Decision]:
    """What to record: the refusal or the warning that stops us, else the override and
    Layer 2's clearance."""
    if found.refusal.result is Result.BLOCKED:
        return [found.refusal]
    if not _same_day(found, hold):
        return [found.refusal]
    if not hold.confirmed:
        return [found.warning]
    overridden = replace(found.warning, action=Action.OVERRIDDEN)
    return [overridden, found.refusal]


def _same_day(found: Findings, hold: Hold) -> bool:
    return found.warning.reason is Reason.SAME_DAY and hold.moving is None


async def _hold(ctx: Context, repo: AppointmentRepository, hold: Hold) -> Appointment:
    """INSERT the pending row; a move first frees the old slot (the new time may overlap it)."""
    if hold.moving is not None:
        await repo.set_status(hold.moving.id, AppointmentStatus.RESCHEDULED, ctx.clock())
    row = await repo.insert(
        company_id=hold.caller.company.id,
        customer_id=hold.customer.id,
        service_id=hold.service.id,
        span=hold.span,
        reservation_key=hold.key,
        now=ctx.clock(),
        call_row_id=hold.caller.call_row_id,
        rescheduled_from_id=_moving_id(hold),
        staff_key=None if hold.host is None else hold.host.key,
    )
    return replace(row, service_name=hold.service.name)


def _moving_id(hold: Hold) -> int | None:
    return None if hold.moving is None else hold.moving.id


def _where(hold: Hold) -> DecisionRecord:
    return decision_record(hold.function, hold.caller, hold.customer, hold.service, hold.span)


def calendar_request(
    company: Company,
    customer: Customer,
    service: Service,
    span: TimeRange,
    key: str,
    person: StaffMember | None = None,
    *,
    wished: bool = False,
) -> CreateBooking:
    """What the calendar is asked to book (or looked up by) for our reservation ``key``."""
    rules = company.rules_for(service)
    return CreateBooking(
        reservation_key=key,
        company_id=company.id,
        service_name=service.name,
        span=span,
        time_zone=company.timezone,
        language=company.language.value,
        attendee_name=customer.name or "Anrufer",
        attendee_email=customer.email,
        attendee_phone=customer.phone_e164,
        event_type_id=event_type_for(service, person),
        staff_key=None if person is None else person.key,
        staff_wished=wished,
        buffer_minutes=int(rules.buffer.total_seconds() // 60),
    )


async def _constraint_refusal(
    ctx: Context, violation: IntegrityError, where: DecisionRecord, hold: Hold
) -> Reply:
    """The database caught what the checks let through (a race): the same refusal as Layer 2."""
    reason = refusal_reason(violation)
    if reason is None:
        raise violation
    decision = Decision(Layer.PRE_BOOKING, Result.BLOCKED, reason, Action.BLOCKED)
    async with ctx.sessions() as session, session.begin():
        await record(ctx, session, decision, where)
    tz = hold.caller.company.tz
    return decision_reply(decision, Status.REFUSED, hold.span.start.astimezone(tz), tz)


async def ask_calendar(ctx: Context, held: Held) -> CreateResult:
    """The calendar call after the reserve: create, or move the booking being replaced.

    A request that was never sent is a refusal without a reason (nothing was booked).
    """
    calendar = ctx.calendar(held.caller.company)
    uid = None if held.moving is None else held.moving.calcom_booking_uid
    try:
        if uid is None:
            return await calendar.create_booking(held.request)
        return await calendar.reschedule_booking(uid, held.appointment.span, held.request)
    except CalendarUnreachable as problem:
        return CreateResult(CreateOutcome.REFUSED, detail=f"not sent: {problem}")
