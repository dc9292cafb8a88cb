"""Picking which of the caller's appointments a reschedule or cancel means."""

from __future__ import annotations

from datetime import time as clock_time

from slotguard import nlp_time
from slotguard.booking import settlement
from slotguard.booking.access import visible_upcoming
from slotguard.booking.context import Context
from slotguard.booking.errors import InvalidArgument
from slotguard.booking.replies import AppointmentView, Reply, Status
from slotguard.booking.resolve import (
    Caller,
    CallRef,
    business_hours,
    caller_for,
    requested_day,
    service_for,
)
from slotguard.calendar import CalendarUnreachable
from slotguard.domain import Appointment, AppointmentStatus, Company, Reason
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.companies import CompanyRepository


async def candidates(
    ctx: Context, caller: Caller, date: str | None, time: str | None, service: str | None
) -> tuple[list[Appointment], list[Appointment]]:
    """(the caller's upcoming appointments, those matching every hint given).

    Date and time are read like every other date and time (``nlp_time``) and must match the
    appointment's local start exactly; a hint that matches nothing matches nothing.
    """
    company = caller.company
    upcoming = await visible_upcoming(ctx, caller)
    matching = upcoming
    if service:
        async with ctx.sessions() as session:
            services = await CompanyRepository(session).services(company.id)
        wanted = service_for(services, service)
        matching = [a for a in matching if a.service_id == wanted.id]
    if date:
        day = requested_day(ctx, company, date)
        matching = [a for a in matching if day.start <= a.span.start < day.end]
    if time:
        at = _clock_time(company, time)
        matching = [a for a in matching if _local_start(a, company) == at]
    return upcoming, matching


def _clock_time(company: Company, text: str) -> clock_time:
    try:
        return nlp_time.parse_time(str(text), hours=business_hours(company))
    except nlp_time.TimeParseError as problem:
        raise InvalidArgument("time", problem.kind.value, problem.phrase) from None


def _local_start(appointment: Appointment, company: Company) -> clock_time:
    return appointment.span.start.astimezone(company.tz).time().replace(tzinfo=None)


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

    ``not_found`` naming the caller's upcoming appointments when none matches; ``ambiguous``
    listing the candidates when several do; ``pending``/busy while its own booking is still
    unanswered by the calendar (see ``settled``).
    """
    date, time, service = hints
    caller = await caller_for(ctx, company, call, create=False)
    upcoming, matching = await candidates(ctx, caller, date, time, service)
    if len(matching) != 1:
        listed = matching or upcoming
        status = Status.AMBIGUOUS if matching else Status.NOT_FOUND
        return Reply(status, appointments=tuple(AppointmentView.of(a, company.tz) for a in listed))
    ready = await settled(ctx, caller, matching[0])
    return ready if isinstance(ready, Reply) else (caller, ready)
