"""reschedule_appointment: move one of the caller's appointments, never doubling it.

Phases, as booking: find the appointment (settled first if still pending), reserve the new
slot in place of the old one, ask the calendar to move the booking, settle the answer (a
failed move gives the old appointment its slot back).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from slotguard.booking import settlement, usecase
from slotguard.booking.context import Context
from slotguard.booking.offer import check_span, staff_facts, unavailable
from slotguard.booking.replies import AppointmentView, Reply, Status
from slotguard.booking.reserve import Held, Hold
from slotguard.booking.resolve import CallRef, customer_of, requested_span
from slotguard.booking.select import appointment_to_change
from slotguard.booking.settlement import AppointmentIncomplete
from slotguard.calendar import CreateOutcome, CreateResult
from slotguard.domain import Appointment, AppointmentStatus, Company, Service
from slotguard.domain.salon import StaffMember
from slotguard.store.companies import CompanyRepository

FUNCTION = "reschedule_appointment"


@dataclass(frozen=True)
class RescheduleArgs:
    """The arguments of reschedule_appointment: the new time, and hints to the old one."""

    new_date: str | None
    new_time: str | None
    date: str | None = None
    time: str | None = None
    service: str | None = None


async def reschedule_appointment(ctx: Context, call: CallRef, args: RescheduleArgs) -> Reply:
    """``rescheduled`` with the new appointment, or not_found / refused / unavailable."""
    return await usecase.run(ctx, call, FUNCTION, args, _reschedule)


async def _reschedule(ctx: Context, company: Company, call: CallRef, args: RescheduleArgs) -> Reply:
    found = await appointment_to_change(ctx, company, call, (args.date, args.time, args.service))
    if isinstance(found, Reply):
        return found
    caller, target = found
    service = await _service(ctx, target.service_id)
    span = requested_span(ctx, company, call, service, args.new_date, args.new_time)
    host = await check_span(ctx, company, service, span, _same_person(company, target))
    if isinstance(host, Reply):
        return host
    customer = customer_of(caller)
    hold = Hold(caller, customer, service, span, FUNCTION, True, moving=target, host=host)
    return await settlement.book(ctx, hold, _answer)


def _same_person(company: Company, appointment: Appointment) -> StaffMember | None:
    """A move stays with the person who was to serve the appointment, when they still work."""
    return company.person(appointment.staff_key)


async def _service(ctx: Context, service_id: int) -> Service:
    async with ctx.sessions() as session:
        service = await CompanyRepository(session).service(service_id)
    if service is None:
        raise AppointmentIncomplete(f"service {service_id} of an appointment is gone")
    return service


async def _answer(ctx: Context, held: Held, result: CreateResult) -> Reply:
    """rescheduled / pending / unavailable with alternatives, or calendar_unreachable."""
    company = held.caller.company
    local = held.appointment.span.start.astimezone(company.tz)
    if result.outcome is not CreateOutcome.REFUSED:
        booked = result.outcome is CreateOutcome.BOOKED
        status = AppointmentStatus.BOOKED if booked else held.appointment.status
        view = AppointmentView.of(replace(held.appointment, status=status), company.tz)
        reply_status = Status.RESCHEDULED if booked else Status.PENDING
        person = (
            result.booking.staff_key if result.booking else None
        ) or held.appointment.staff_key
        facts = staff_facts(company, person)
        return Reply(reply_status, requested_start=local, appointment=view, facts=facts)
    refusal = settlement.refusal_error(held, result)
    if isinstance(refusal, Reply):
        return refusal
    span = held.appointment.span
    return await unavailable(ctx, company, held.service, span, None, reason=refusal)
