"""book_appointment: Layer 1 unless confirmed, Layer 2 under a per-customer lock, one calendar call.

Phases (no transaction is open across the calendar call):
  1. reserve  — lock the customer, run both layers, INSERT the pending row; commit (``reserve``)
  2. create   — CalendarProvider.create_booking, carrying our reservation key
  3. settle   — booked / failed / still pending, and link the call (``settlement``)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from slotguard.booking import settlement, usecase
from slotguard.booking.availability import services_of
from slotguard.booking.context import Context
from slotguard.booking.offer import check_span, staff_facts, unavailable, wished_person
from slotguard.booking.replies import AppointmentView, Reply, Status, error
from slotguard.booking.reserve import Held, Hold
from slotguard.booking.resolve import CallRef, caller_for, customer_of, requested_span
from slotguard.calendar import CreateOutcome, CreateResult
from slotguard.domain import AppointmentStatus, Company, Customer, Reason
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.db import database_unavailable

FUNCTION = "book_appointment"


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


async def book_appointment(ctx: Context, call: CallRef, args: BookArgs) -> Reply:
    """Book at most once per request, however often Retell retries it."""
    reply = await usecase.run(ctx, call, FUNCTION, args, _book)
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
    return await settlement.book(ctx, hold, _answer)


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
    refusal = settlement.refusal_error(held, result)
    if isinstance(refusal, Reply):
        return refusal
    span = held.appointment.span
    return await unavailable(ctx, company, held.service, span, None, reason=refusal)


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
