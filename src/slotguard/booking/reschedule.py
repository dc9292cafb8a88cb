"""reschedule_appointment: move one of the caller's appointments, never doubling it."""

from __future__ import annotations

from slotguard.booking import idempotency
from slotguard.booking.book import Held, reserve
from slotguard.booking.context import Context
from slotguard.booking.offer import check_span, staff_facts, unavailable
from slotguard.booking.replies import AppointmentView, Reply, Status, error
from slotguard.booking.resolve import CallRef, company_for, requested_span
from slotguard.booking.select import appointment_to_change
from slotguard.calendar import CalendarUnreachable, CreateOutcome, CreateResult
from slotguard.domain import Appointment, AppointmentStatus, Company, Reason, can_transition
from slotguard.domain.salon import StaffMember
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.companies import CompanyRepository
from slotguard.store.customers import CallRepository

FUNCTION = "reschedule_appointment"


async def reschedule_appointment(
    ctx: Context,
    call: CallRef,
    *,
    new_date: str | None,
    new_time: str | None,
    date: str | None = None,
    time: str | None = None,
    service: str | None = None,
) -> Reply:
    """``rescheduled`` with the new appointment, or not_found / refused / unavailable."""
    company = await company_for(ctx, call)
    args = {
        "new_date": new_date,
        "new_time": new_time,
        "date": date,
        "time": time,
        "service": service,
    }

    async def work() -> Reply:
        found = await appointment_to_change(ctx, company, call, (date, time, service))
        if isinstance(found, Reply):
            return found
        caller, target = found
        async with ctx.sessions() as session:
            chosen = await CompanyRepository(session).service(target.service_id)
        assert chosen is not None
        span = requested_span(ctx, company, call, chosen, new_date, new_time)
        host = await check_span(ctx, company, chosen, span, _same_person(company, target))
        if isinstance(host, Reply):
            return host
        held = await reserve(
            ctx, caller, chosen, span, confirmed=True, function=FUNCTION, moving=target, host=host
        )
        if isinstance(held, Reply):
            return held
        try:
            calendar = ctx.calendar(company)
            if target.calcom_booking_uid is None:
                result = await calendar.create_booking(held.request)
            else:
                result = await calendar.reschedule_booking(
                    target.calcom_booking_uid, span, held.request
                )
        except CalendarUnreachable:
            result = CreateResult(CreateOutcome.REFUSED, detail="calendar unreachable")
            await _settle(ctx, held, target, result)
            return error(
                Reason.CALENDAR_UNREACHABLE, requested_start=span.start.astimezone(company.tz)
            )
        return await _settle(ctx, held, target, result)

    return await idempotency.run_once(
        ctx, company_id=company.id, call_id=call.call_id, function=FUNCTION, args=args, work=work
    )


def _same_person(company: Company, appointment: Appointment) -> StaffMember | None:
    """A move stays with the person who was to serve the appointment, when they still work."""
    return next((p for p in company.staff if p.key == appointment.staff_key), None)


async def _settle(ctx: Context, held: Held, old: Appointment, result: CreateResult) -> Reply:
    company = held.caller.company
    now = ctx.clock()
    local = held.appointment.span.start.astimezone(company.tz)
    async with ctx.sessions() as session, session.begin():
        repo = AppointmentRepository(session)
        if result.outcome is not CreateOutcome.REFUSED:
            booking = result.booking
            if result.outcome is CreateOutcome.BOOKED and booking is not None:
                await repo.mark_booked(held.appointment.id, booking.uid, booking.booking_id, now)
            await CallRepository(session).link(
                held.caller.call_row_id,
                now,
                appointment_id=held.appointment.id,
                link_status="rescheduled",
            )
            current = await repo.get(held.appointment.id)
            view = AppointmentView.of(current or held.appointment, company.tz)
            status = (
                Status.RESCHEDULED if result.outcome is CreateOutcome.BOOKED else Status.PENDING
            )
            facts = staff_facts(company, held.appointment.staff_key)
            return Reply(status, requested_start=local, appointment=view, facts=facts)
        await repo.set_status(
            held.appointment.id, AppointmentStatus.FAILED, now, reason=result.detail
        )
        # The move failed: the old appointment holds its slot again.
        if can_transition(AppointmentStatus.RESCHEDULED, old.status):
            await repo.set_status(
                old.id, old.status, now, only_from=frozenset({AppointmentStatus.RESCHEDULED})
            )
    reason = result.refusal or Reason.SLOT_TAKEN
    return await unavailable(ctx, company, held.service, held.appointment.span, None, reason=reason)
