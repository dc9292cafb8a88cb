"""Settling a pending appointment from what the calendar knows (reconciler, cancel, reschedule).

A pending row is one whose calendar answer we never saw. The calendar is asked — never asked to
book again — and the row becomes booked, or failed with its slot released. A pending reschedule
whose answer was lost gives the old appointment back when the calendar never moved it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.booking.book import calendar_request
from slotguard.booking.context import Context
from slotguard.booking.detect import record
from slotguard.calendar import CalendarBooking, CreateBooking
from slotguard.domain import (
    Action,
    Appointment,
    AppointmentStatus,
    Company,
    Decision,
    Layer,
    Reason,
    Result,
)
from slotguard.observability import get_logger
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.companies import CompanyRepository
from slotguard.store.customers import CallRepository, CustomerRepository
from slotguard.store.decisions import DecisionRecord

log = get_logger("reconciler")
_UNSETTLED = frozenset({AppointmentStatus.PENDING, AppointmentStatus.FAILED})


async def lookup(
    ctx: Context, company: Company, appointment: Appointment
) -> CalendarBooking | None:
    """The calendar's booking for a pending row, or None when it definitely has none.

    By our reservation key; for a reschedule, whose new booking may carry the old booking's
    metadata, through the old booking's ``rescheduledToUid``. Raises CalendarUnreachable.
    """
    calendar = ctx.calendar(company)
    found = await calendar.find_booking(await _request(ctx, company, appointment))
    if found is not None or appointment.rescheduled_from_id is None:
        return found
    async with ctx.sessions() as session:
        old = await AppointmentRepository(session).get(appointment.rescheduled_from_id)
    if old is None or old.calcom_booking_uid is None:
        return None
    previous = await calendar.get_booking(old.calcom_booking_uid)
    if previous is None or previous.rescheduled_to_uid is None:
        return None
    return await calendar.get_booking(previous.rescheduled_to_uid)


async def settle(
    ctx: Context, company: Company, appointment: Appointment, found: CalendarBooking | None
) -> bool:
    """Record the calendar's answer on a pending row; True when it is booked."""
    now = ctx.clock()
    async with ctx.sessions() as session, session.begin():
        repo = AppointmentRepository(session)
        if found is not None and found.is_active:
            await repo.mark_booked(
                appointment.id, found.uid, found.booking_id, now, only_from=_UNSETTLED
            )
            await _matched(ctx, session, company, appointment)
            await _link_call(session, appointment, "booked", ctx)
            log.info(
                "pending_settled", appointment_id=appointment.id, outcome="booked", uid=found.uid
            )
            return True
        await repo.set_status(
            appointment.id, AppointmentStatus.FAILED, now,
            only_from=frozenset({AppointmentStatus.PENDING}), reason="absent in the calendar",
        )  # fmt: skip
        if appointment.rescheduled_from_id is not None:
            # The move never happened: the old appointment holds its slot again.
            await repo.set_status(
                appointment.rescheduled_from_id, AppointmentStatus.BOOKED, now,
                only_from=frozenset({AppointmentStatus.RESCHEDULED}),
            )  # fmt: skip
        await _link_call(session, appointment, "failed", ctx)
    log.info("pending_settled", appointment_id=appointment.id, outcome="failed")
    return False


async def _request(ctx: Context, company: Company, appointment: Appointment) -> CreateBooking:
    async with ctx.sessions() as session:
        customer = await CustomerRepository(session).get(appointment.customer_id)
        service = await CompanyRepository(session).service(appointment.service_id)
    assert customer is not None and service is not None
    person = next((p for p in company.staff if p.key == appointment.staff_key), None)
    return calendar_request(
        company, customer, service, appointment.span, appointment.reservation_key, person
    )


async def _matched(
    ctx: Context, session: AsyncSession, company: Company, appointment: Appointment
) -> None:
    decision = Decision(
        Layer.POST_BOOKING, Result.MERGED, Reason.RESERVATION_MATCHED, Action.LINKED, (appointment,)
    )
    span = appointment.span
    where = DecisionRecord(
        company.id,
        "reconcile",
        appointment.customer_id,
        None,
        appointment.service_id,
        span.start,
        span.end,
    )
    await record(ctx, session, decision, where)


async def _link_call(
    session: AsyncSession, appointment: Appointment, status: str, ctx: Context
) -> None:
    call_row = await AppointmentRepository(session).call_row_of(appointment.id)
    if call_row is not None:
        await CallRepository(session).link(
            call_row, ctx.clock(), appointment_id=appointment.id, link_status=status
        )
