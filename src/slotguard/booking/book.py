"""book_appointment: Layer 1 unless confirmed, Layer 2 under a per-customer lock, one calendar call.

Phases (no transaction is open across the calendar call):
  1. reserve  — lock the customer, run both layers, INSERT the pending row; commit
  2. create   — CalendarProvider.create_booking, carrying our reservation key
  3. settle   — booked / failed / still pending, and link the call
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from slotguard.booking import idempotency
from slotguard.booking.availability import services_of
from slotguard.booking.context import Context
from slotguard.booking.detect import examine, record, request_for
from slotguard.booking.offer import (
    check_span,
    event_type_for,
    staff_facts,
    unavailable,
    wished_person,
)
from slotguard.booking.replies import AppointmentView, Reply, Status, error
from slotguard.booking.resolve import Caller, CallRef, caller_for, company_for, requested_span
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
    SuggestedAction,
    TimeRange,
)
from slotguard.domain.salon import StaffMember
from slotguard.observability import get_logger
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.customers import CallRepository
from slotguard.store.db import database_unavailable
from slotguard.store.decisions import DecisionRecord
from slotguard.store.integrity import refusal_reason

FUNCTION = "book_appointment"
log = get_logger("booking")


@dataclass(frozen=True)
class BookArgs:
    """The arguments of book_appointment (DESIGN §6)."""

    customer_name: str | None
    service: str | None
    date: str | None
    time: str | None
    customer_email: str | None = None
    confirm_duplicate: bool = False
    staff: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """For the idempotency key."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Held:
    """A slot held by our pending row, ready for the calendar call."""

    caller: Caller
    service: Service
    appointment: Appointment
    request: CreateBooking


async def book_appointment(ctx: Context, call: CallRef, args: BookArgs) -> Reply:
    """Book at most once per request, however often Retell retries it."""
    company = await company_for(ctx, call)

    async def work() -> Reply:
        return await _book(ctx, company, call, args)

    reply = await idempotency.run_once(
        ctx,
        company_id=company.id,
        call_id=call.call_id,
        function=FUNCTION,
        args=args.as_dict(),
        work=work,
    )
    return await refresh_pending(ctx, reply)


async def _book(ctx: Context, company: Company, call: CallRef, args: BookArgs) -> Reply:
    service = await services_of(ctx, company, args.service)
    span = requested_span(ctx, company, call, service, args.date, args.time)
    caller = await caller_for(
        ctx, company, call, name=args.customer_name, email=args.customer_email
    )
    host = await check_span(
        ctx, company, service, span, wished_person(company, service, args.staff)
    )
    if isinstance(host, Reply):
        return host
    key = uuid.uuid4().hex
    try:
        held = await reserve(
            ctx,
            caller,
            service,
            span,
            confirmed=args.confirm_duplicate,
            function=FUNCTION,
            key=key,
            host=host,
        )
    except Exception as problem:
        if database_unavailable(problem):
            # A COMMIT cut off by a failover may have reached the standby: fail that row
            # (never sent to the calendar) before the idempotency key lets a retry run.
            ctx.repairs.add(f"fail in-doubt reservation {key[:12]}", lambda: _fail_held(ctx, key))
        raise
    if isinstance(held, Reply):
        return held
    result: CreateResult | None = None
    unreachable = False
    try:
        try:
            result = await ctx.calendar(company).create_booking(held.request)
        except CalendarUnreachable as problem:
            result = CreateResult(CreateOutcome.REFUSED, detail=f"not sent: {problem}")
            unreachable = True
        return await settle(ctx, held, result, unreachable=unreachable)
    except Exception as problem:
        if not database_unavailable(problem):
            raise
        return _unrecorded(held, result, unreachable, problem)


async def _fail_held(ctx: Context, key: str) -> None:
    async with ctx.sessions() as session, session.begin():
        repo = AppointmentRepository(session)
        row = await repo.by_reservation_key(key)
        if row is not None:
            await repo.set_status(
                row.id,
                AppointmentStatus.FAILED,
                ctx.clock(),
                only_from=frozenset({AppointmentStatus.PENDING}),
                reason="database failover during reserve; never sent to the calendar",
            )


def _unrecorded(
    held: Held, result: CreateResult | None, unreachable: bool, problem: Exception
) -> Reply:
    """The reply when the database went away after the slot was held (a failover).

    The pending row was committed (synchronously replicated), so the reconciler of any host
    settles it from the calendar by its reservation key; the caller hears what the calendar
    said, and a create is never sent again.
    """
    company = held.caller.company
    local = held.appointment.span.start.astimezone(company.tz)
    outcome = None if result is None else result.outcome
    log.warning(
        "settle_deferred",
        appointment_id=held.appointment.id,
        reservation_key=held.request.reservation_key,
        calendar=outcome.value if outcome else "unknown",
        error=type(problem).__name__,
    )
    if result is not None and outcome is CreateOutcome.BOOKED:
        booked = replace(held.appointment, status=AppointmentStatus.BOOKED)
        return Reply(
            Status.BOOKED, requested_start=local, appointment=AppointmentView.of(booked, company.tz)
        )
    if result is None or outcome is CreateOutcome.AMBIGUOUS:
        view = AppointmentView.of(held.appointment, company.tz)
        return Reply(Status.PENDING, requested_start=local, appointment=view)
    if unreachable or result.refusal is None or result.refusal is Reason.INVALID:
        return error(Reason.CALENDAR_UNREACHABLE, requested_start=local)
    return Reply(Status.UNAVAILABLE, reason=result.refusal, requested_start=local)


async def reserve(
    ctx: Context,
    caller: Caller,
    service: Service,
    span: TimeRange,
    *,
    confirmed: bool,
    function: str,
    moving: Appointment | None = None,
    key: str | None = None,
    host: StaffMember | None = None,
) -> Held | Reply:
    """Phase 1: under the customer's lock, refuse (Layer 2), warn (Layer 1) or hold the slot."""
    company, customer = caller.company, caller.customer
    assert customer is not None
    request = request_for(
        company, customer.id, service.id, span, None if moving is None else moving.id
    )
    where = DecisionRecord(
        company.id, function, customer.id, caller.call_row_id, service.id, span.start, span.end
    )
    local = span.start.astimezone(company.tz)
    try:
        async with ctx.sessions() as session, session.begin():
            repo = AppointmentRepository(session)
            await repo.lock_customer(company.id, customer.id)
            found = await examine(session, company, request, ctx.clock())
            if found.refusal.result is Result.BLOCKED:
                await record(ctx, session, found.refusal, where)
                return _refused(found.refusal, company.tz, local)
            if found.warning.reason is Reason.SAME_DAY and moving is None:
                if not confirmed:
                    await record(ctx, session, found.warning, where)
                    return _warned(found.warning, company.tz, local)
                overridden = Decision(
                    Layer.EARLY_WARNING,
                    Result.WARNING,
                    Reason.SAME_DAY,
                    Action.OVERRIDDEN,
                    found.warning.existing,
                )
                await record(ctx, session, overridden, where)
            await record(ctx, session, found.refusal, where)
            if moving is not None:
                # Free the old slot first: the new time may overlap the one being moved.
                await repo.set_status(moving.id, AppointmentStatus.RESCHEDULED, ctx.clock())
            key = key or uuid.uuid4().hex
            row = await repo.insert(
                company_id=company.id,
                customer_id=customer.id,
                service_id=service.id,
                span=span,
                reservation_key=key,
                now=ctx.clock(),
                call_row_id=caller.call_row_id,
                rescheduled_from_id=None if moving is None else moving.id,
                staff_key=None if host is None else host.key,
            )
    except IntegrityError as violation:
        return await _constraint_refusal(ctx, violation, where, company.tz, local)
    booking = calendar_request(company, customer, service, span, key, host)
    return Held(caller, service, _named(row, service), booking)


def calendar_request(
    company: Company,
    customer: Customer,
    service: Service,
    span: TimeRange,
    key: str,
    person: StaffMember | None = None,
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
        buffer_minutes=int(rules.buffer.total_seconds() // 60),
    )


async def settle(
    ctx: Context, held: Held, result: CreateResult, *, unreachable: bool = False
) -> Reply:
    """Phase 3: record the calendar's answer on our row and link the call."""
    company = held.caller.company
    now = ctx.clock()
    local = held.appointment.span.start.astimezone(company.tz)
    async with ctx.sessions() as session, session.begin():
        repo = AppointmentRepository(session)
        calls = CallRepository(session)
        if result.outcome is CreateOutcome.BOOKED and result.booking is not None:
            await repo.mark_booked(
                held.appointment.id, result.booking.uid, result.booking.booking_id, now
            )
            await calls.link(
                held.caller.call_row_id,
                now,
                appointment_id=held.appointment.id,
                link_status="booked",
            )
            # Booked now, by us or by the webhook that overtook the answer: either way booked.
            booked = replace(held.appointment, status=AppointmentStatus.BOOKED)
            view = AppointmentView.of(booked, company.tz)
            return Reply(
                Status.BOOKED,
                requested_start=local,
                appointment=view,
                facts=staff_facts(company, held.appointment.staff_key),
            )
        if result.outcome is CreateOutcome.AMBIGUOUS:
            await calls.link(
                held.caller.call_row_id,
                now,
                appointment_id=held.appointment.id,
                link_status="pending",
            )
            view = AppointmentView.of(held.appointment, company.tz)
            return Reply(Status.PENDING, requested_start=local, appointment=view)
        await repo.set_status(
            held.appointment.id,
            AppointmentStatus.FAILED,
            now,
            only_from=frozenset({AppointmentStatus.PENDING}),
            reason=result.detail or (result.refusal.value if result.refusal else "refused"),
        )
    if unreachable or result.refusal is None or result.refusal is Reason.INVALID:
        return error(Reason.CALENDAR_UNREACHABLE, requested_start=local)
    return await unavailable(
        ctx, company, held.service, held.appointment.span, None, reason=result.refusal
    )


async def refresh_pending(ctx: Context, reply: Reply) -> Reply:
    """A replayed ``pending`` reply tells what became of the appointment since."""
    if reply.status is not Status.PENDING or reply.appointment is None:
        return reply
    try:
        async with ctx.sessions() as session:
            current = await AppointmentRepository(session).get(reply.appointment.id)
    except Exception as problem:
        if database_unavailable(problem):
            return reply  # still true: the reconciler settles it
        raise
    if current is None or current.status is AppointmentStatus.PENDING:
        return reply
    tz = reply.appointment.start.tzinfo
    view = AppointmentView.of(current, tz)  # type: ignore[arg-type]
    if current.is_active:
        return Reply(Status.BOOKED, requested_start=reply.requested_start, appointment=view)
    return error(Reason.CALENDAR_UNREACHABLE, requested_start=reply.requested_start)


def _named(row: Appointment, service: Service) -> Appointment:
    return Appointment(
        id=row.id,
        company_id=row.company_id,
        customer_id=row.customer_id,
        service_id=row.service_id,
        span=row.span,
        status=row.status,
        reservation_key=row.reservation_key,
        service_name=service.name,
        staff_key=row.staff_key,
    )


def _refused(decision: Decision, tz: Any, local: Any) -> Reply:
    existing = tuple(AppointmentView.of(a, tz) for a in decision.existing)
    return Reply(Status.REFUSED, reason=decision.reason, requested_start=local, existing=existing)


def _warned(decision: Decision, tz: Any, local: Any) -> Reply:
    existing = tuple(AppointmentView.of(a, tz) for a in decision.existing)
    return Reply(
        Status.WARNING,
        reason=decision.reason,
        requested_start=local,
        existing=existing,
        suggested_action=SuggestedAction.CONFIRM_OR_RESCHEDULE,
    )


async def _constraint_refusal(
    ctx: Context, violation: IntegrityError, where: DecisionRecord, tz: Any, local: Any
) -> Reply:
    """The database caught what the checks let through (a race): the same refusal as Layer 2."""
    reason = refusal_reason(violation)
    if reason is None:
        raise violation
    decision = Decision(Layer.PRE_BOOKING, Result.BLOCKED, reason, Action.BLOCKED)
    async with ctx.sessions() as session, session.begin():
        await record(ctx, session, decision, where)
    return _refused(decision, tz, local)
