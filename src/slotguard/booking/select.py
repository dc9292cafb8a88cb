"""Picking which of the caller's appointments a reschedule or cancel means."""

from __future__ import annotations

from slotguard.booking import settlement
from slotguard.booking.context import Context
from slotguard.booking.replies import Reply, Status
from slotguard.booking.resolve import Caller, CallRef, caller_for, requested_day, service_for
from slotguard.calendar import CalendarUnreachable
from slotguard.domain import Appointment, AppointmentStatus, Company, Reason
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.companies import CompanyRepository


async def target_appointment(
    ctx: Context, caller: Caller, date: str | None, time: str | None, service: str | None
) -> Appointment | None:
    """The one upcoming appointment matching the hints; None when none or several match."""
    company, customer = caller.company, caller.customer
    if customer is None:
        return None
    async with ctx.sessions() as session:
        upcoming = await AppointmentRepository(session).upcoming(
            company.id, customer.id, ctx.clock()
        )
        services = await CompanyRepository(session).services(company.id)
    if service:
        wanted = service_for(services, service)
        upcoming = [a for a in upcoming if a.service_id == wanted.id]
    if date:
        day = requested_day(ctx, company, date)
        upcoming = [a for a in upcoming if day.start <= a.span.start < day.end]
    if time and len(upcoming) > 1:
        upcoming = [a for a in upcoming if _hhmm(a, company.tz) in time.replace(".", ":")]
    return upcoming[0] if len(upcoming) == 1 else None


def _hhmm(appointment: Appointment, tz: object) -> str:
    local = appointment.span.start.astimezone(tz)  # type: ignore[arg-type]
    return f"{local.hour}:{local.minute:02d}"


async def settled(ctx: Context, caller: Caller, target: Appointment) -> Appointment | Reply:
    """A pending target settled from the calendar first; ``pending``/busy while it cannot be.

    Cancelling or moving a booking whose creation is still unanswered would leave Cal.com's
    booking behind; the caller is asked to try again once the calendar has answered.
    """
    if target.status is not AppointmentStatus.PENDING:
        return target
    busy = Reply(Status.PENDING, reason=Reason.BUSY)
    try:
        found = await settlement.lookup(ctx, caller.company, target)
    except CalendarUnreachable:
        return busy
    if found is None or not found.is_active:
        return busy  # its create may still be in flight; the reconciler settles it
    await settlement.settle_from_calendar(ctx, target, found)
    async with ctx.sessions() as session:
        current = await AppointmentRepository(session).get(target.id)
    return current or target


async def appointment_to_change(
    ctx: Context,
    company: Company,
    call: CallRef,
    hints: tuple[str | None, str | None, str | None],
) -> tuple[Caller, Appointment] | Reply:
    """The caller's appointment a cancel or reschedule means (date, time, service hints).

    ``not_found`` when none or several match; ``pending``/busy while its own booking is
    still unanswered by the calendar (see ``settled``).
    """
    date, time, service = hints
    caller = await caller_for(ctx, company, call, create=False)
    target = await target_appointment(ctx, caller, date, time, service)
    if target is None:
        return Reply(Status.NOT_FOUND)
    ready = await settled(ctx, caller, target)
    return ready if isinstance(ready, Reply) else (caller, ready)
