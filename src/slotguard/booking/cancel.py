"""cancel_appointment: cancel one of the caller's appointments in the calendar, then here."""

from __future__ import annotations

from dataclasses import dataclass

from slotguard.booking import usecase
from slotguard.booking.context import Context
from slotguard.booking.replies import AppointmentView, Reply, Status, error
from slotguard.booking.resolve import CallRef
from slotguard.booking.select import appointment_to_change
from slotguard.calendar import CalendarUnreachable
from slotguard.domain import ACTIVE_STATUSES, Appointment, AppointmentStatus, Company, Reason
from slotguard.store.appointments import AppointmentRepository

FUNCTION = "cancel_appointment"


@dataclass(frozen=True)
class CancelArgs:
    """The arguments of cancel_appointment: hints to which appointment is meant."""

    date: str | None = None
    time: str | None = None
    service: str | None = None


async def cancel_appointment(ctx: Context, call: CallRef, args: CancelArgs) -> Reply:
    """``cancelled`` with the appointment, or ``not_found``; the slot is free afterwards."""
    return await usecase.run(ctx, call, FUNCTION, args, _cancel)


async def _cancel(ctx: Context, company: Company, call: CallRef, args: CancelArgs) -> Reply:
    found = await appointment_to_change(ctx, company, call, (args.date, args.time, args.service))
    if isinstance(found, Reply):
        return found
    _caller, target = found
    return await cancel_known(ctx, company, target, "cancelled by caller")


async def cancel_known(ctx: Context, company: Company, target: Appointment, reason: str) -> Reply:
    """Cancel ``target`` in the calendar (Cal.com is told first), then here.

    The one cancellation path: a caller's ``cancel_appointment`` and the salon's dashboard.
    ``calendar_unreachable`` when the calendar cannot be told; nothing changes here then.
    """
    if target.calcom_booking_uid is not None:
        try:
            await ctx.calendar(company).cancel_booking(target.calcom_booking_uid, reason)
        except CalendarUnreachable:
            return error(Reason.CALENDAR_UNREACHABLE)
    async with ctx.sessions() as session, session.begin():
        repo = AppointmentRepository(session)
        await repo.set_status(
            target.id, AppointmentStatus.CANCELLED, ctx.clock(), only_from=ACTIVE_STATUSES
        )
        current = await repo.get(target.id)
    return Reply(Status.CANCELLED, appointment=AppointmentView.of(current or target, company.tz))
