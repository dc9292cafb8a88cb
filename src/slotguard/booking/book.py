"""book_appointment: Layer 1 unless confirmed, Layer 2 under a per-customer lock, one calendar call.

Phases (no transaction is open across the calendar call):
  1. reserve  — lock the customer, run both layers, INSERT the pending row; commit (``reserve``)
  2. create   — CalendarProvider.create_booking, carrying our reservation key
  3. settle   — booked / failed / still pending, and link the call (``settlement``)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from slotguard.booking import idempotency, settlement
from slotguard.booking.availability import services_of
from slotguard.booking.context import Context
from slotguard.booking.offer import check_span, staff_facts, unavailable, wished_person
from slotguard.booking.replies import AppointmentView, Reply, Status, error
from slotguard.booking.reserve import Held, Hold, ask_calendar, reserve
from slotguard.booking.resolve import CallRef, caller_for, company_for, customer_of, requested_span
from slotguard.calendar import CreateOutcome, CreateResult
from slotguard.domain import AppointmentStatus, Company, Customer, Reason
from slotguard.observability import get_logger
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.db import database_unavailable

FUNCTION = "book_appointment"
log = get_logger("booking")


@dataclass(frozen=True)
class BookArgs:
    """The arguments of book_appointment (docs/http-contract.md)."""

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
    wish = wished_person(company, service, args.staff)
    host = await check_span(ctx, company, service, span, wish)
    if isinstance(host, Reply):
        return host
    if needs_contact(company, customer_of(caller)):  # ask before anything is held
        return error(Reason.NEEDS_CONTACT, requested_start=span.start.astimezone(company.tz))
    hold = Hold(
        caller,
        customer_of(caller),
        service,
        span,
        FUNCTION,
        args.confirm_duplicate,
        host=host,
        wished=wish is not None,
    )
    try:
        held = await reserve(ctx, hold)
    except Exception as problem:
        if database_unavailable(problem):
            # A COMMIT cut off by a failover may have reached the standby: fail that row
            # (never sent to the calendar) before the idempotency key lets a retry run.
            repair = f"fail in-doubt reservation {hold.key[:12]}"
            ctx.repairs.add(repair, lambda: settlement.fail_unsent(ctx, hold))
        raise
    if isinstance(held, Reply):
        return held
    result: CreateResult | None = None
    try:
        result = await ask_calendar(ctx, held)
        await settlement.settle_answer(ctx, held, result)
    except Exception as problem:
        if not database_unavailable(problem):
            raise
        return _unrecorded(held, result, problem)
    return await _answer(ctx, held, result)


def _unrecorded(held: Held, result: CreateResult | None, problem: Exception) -> Reply:
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
    if result is None or outcome is not CreateOutcome.REFUSED:
        booked = outcome is CreateOutcome.BOOKED
        status = AppointmentStatus.BOOKED if booked else held.appointment.status
        view = AppointmentView.of(replace(held.appointment, status=status), company.tz)
        return Reply(
            Status.BOOKED if booked else Status.PENDING, requested_start=local, appointment=view
        )
    refusal = refusal_error(held, result)
    if isinstance(refusal, Reply):
        return refusal
    return Reply(Status.UNAVAILABLE, reason=refusal, requested_start=local)


async def _answer(ctx: Context, held: Held, result: CreateResult) -> Reply:
    """booked / pending / unavailable with alternatives, or calendar_unreachable."""
    company = held.caller.company
    local = held.appointment.span.start.astimezone(company.tz)
    if result.outcome is CreateOutcome.BOOKED and result.booking is not None:
        # Booked now, by us or by the webhook that overtook the answer: either way booked.
        booked = replace(held.appointment, status=AppointmentStatus.BOOKED)
        view = AppointmentView.of(booked, company.tz)
        facts = staff_facts(company, result.booking.staff_key or held.appointment.staff_key)
        return Reply(Status.BOOKED, requested_start=local, appointment=view, facts=facts)
    if result.outcome is not CreateOutcome.REFUSED:
        view = AppointmentView.of(held.appointment, company.tz)
        return Reply(Status.PENDING, requested_start=local, appointment=view)
    refusal = refusal_error(held, result)
    if isinstance(refusal, Reply):
        return refusal
    span = held.appointment.span
    return await unavailable(ctx, company, held.service, span, None, reason=refusal)


def refusal_error(held: Held, result: CreateResult) -> Reply | Reason:
    """The error for a refusal that no other time would fix, else the refusal's reason (for
    which other times are offered).

    ``needs_contact``: the calendar wants an email or a phone number. ``calendar_refused``:
    any other refusal we cannot classify (the calendar's full text goes to the log, and the
    sentence promises no retry). No answer at all stays ``calendar_unreachable``.
    """
    local = held.appointment.span.start.astimezone(held.caller.company.tz)
    if result.refusal is None:
        return error(Reason.CALENDAR_UNREACHABLE, requested_start=local)
    if result.refusal is Reason.NEEDS_CONTACT:
        return error(Reason.NEEDS_CONTACT, requested_start=local)
    if result.refusal is Reason.INVALID:
        log.error(
            "calendar_refused",
            appointment_id=held.appointment.id,
            company_id=held.caller.company.id,
            detail=result.detail,
        )
        return error(Reason.CALENDAR_REFUSED, requested_start=local)
    return result.refusal


def needs_contact(company: Company, customer: Customer) -> bool:
    """Cal.com books an attendee by email or phone: a withheld number and no email cannot."""
    return company.calendar == "calcom" and not customer.email and not customer.phone_e164


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
