"""Settlement: where a pending appointment becomes booked, or failed with its slot released.

A pending row holds its slot while the calendar's answer is unknown. Every path that learns
that answer settles the row here, and only here:

- the agent's own booking and move, right after the calendar call (``settle_answer``);
- the reconciler, and a cancel or move of a row that is still pending, after asking the
  calendar by our reservation key (``lookup`` + ``settle_from_calendar``);
- Layer 3, when a Cal.com webhook or the sync brings the booking we made (``confirm``).

The allowed status changes are ``domain.lifecycle``'s; a failed row is revived only by a path
that saw the booking in the calendar. A failed move gives the old appointment its slot back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.booking.context import Context
from slotguard.booking.detect import record_layer3
from slotguard.booking.replies import AppointmentView, Reply, Status, error
from slotguard.booking.reserve import Held, Hold, ask_calendar, calendar_request, reserve
from slotguard.calendar import (
    CalendarBooking,
    CalendarUnreachable,
    CreateBooking,
    CreateOutcome,
    CreateResult,
)
from slotguard.domain import (
    Action,
    Appointment,
    AppointmentStatus,
    Company,
    Reason,
    Result,
    can_transition,
)
from slotguard.observability import get_logger
from slotguard.store.appointments import AppointmentRepository, ResendClaim
from slotguard.store.calls import CallRepository
from slotguard.store.companies import CompanyRepository
from slotguard.store.customers import CustomerRepository
from slotguard.store.db import database_unavailable

log = get_logger("settlement")
_S = AppointmentStatus
# A row the calendar booked after all may have been judged failed meanwhile.
REVIVABLE = frozenset({_S.PENDING, _S.FAILED})


@dataclass(frozen=True)
class Deferred:
    """The database went away after the slot was held (a failover): the calendar's answer,
    if any, is not recorded; the reconciler of any host settles the row by its key."""

    held: Held
    result: CreateResult | None


class AppointmentIncomplete(LookupError):
    """An appointment's customer or service row is gone (the schema's keys forbid it)."""


async def confirm(
    ctx: Context,
    session: AsyncSession,
    appointment: Appointment,
    booking: CalendarBooking,
    *,
    revive: bool,
    matched_by: str | None = None,
) -> bool:
    """pending (or failed, when ``revive``) → booked with the calendar's uid; True if it moved.

    ``matched_by`` names the function that matched the booking to our row by the
    reservation key; the Layer 3 match is recorded for it.
    """
    moved = await AppointmentRepository(session).mark_booked(
        appointment.id,
        booking.uid,
        booking.booking_id,
        ctx.clock(),
        only_from=REVIVABLE if revive else frozenset({_S.PENDING}),
    )
    if matched_by is not None:
        matched = (Reason.RESERVATION_MATCHED, Result.MERGED, Action.LINKED)
        await record_layer3(ctx, session, matched_by, appointment, *matched)
    return moved


async def release(
    ctx: Context,
    session: AsyncSession,
    appointment: Appointment,
    *,
    reason: str,
    restore: AppointmentStatus | None,
) -> None:
    """pending → failed, so the slot is free; a move gives the old row ``restore`` back."""
    repo = AppointmentRepository(session)
    now = ctx.clock()
    await repo.set_status(
        appointment.id, _S.FAILED, now, only_from=frozenset({_S.PENDING}), reason=reason
    )
    old = appointment.rescheduled_from_id
    if old is not None and restore is not None and can_transition(_S.RESCHEDULED, restore):
        await repo.set_status(old, restore, now, only_from=frozenset({_S.RESCHEDULED}))


Answer = Callable[[Context, Held, CreateResult], Awaitable[Reply]]


async def book(ctx: Context, hold: Hold, answer: Answer) -> Reply:
    """The agent's booking or move in its three phases: reserve the slot (or refuse or warn),
    ask the calendar, settle its answer; ``answer`` tells the caller what became of it.

    No transaction is open across the calendar call. When the database goes away after the
    slot was held (a failover), the caller hears what the calendar said, unrecorded.
    """
    try:
        held = await reserve(ctx, hold)
    except Exception as problem:
        if database_unavailable(problem):
            # A COMMIT cut off by a failover may have reached the standby: fail that row
            # (never sent to the calendar) before the idempotency key lets a retry run.
            repair = f"fail in-doubt reservation {hold.key[:12]}"
            ctx.repairs.add(repair, lambda: fail_unsent(ctx, hold))
        raise
    if isinstance(held, Reply):
        return held
    result: CreateResult | None = None
    try:
        result = await ask_calendar(ctx, held)
        await settle_answer(ctx, held, result)
    except Exception as problem:
        if not database_unavailable(problem):
            raise
        return deferred_reply(_deferred(held, result, problem))
    return await answer(ctx, held, result)


def _deferred(held: Held, result: CreateResult | None, problem: Exception) -> Deferred:
    outcome = None if result is None else result.outcome
    log.warning(
        "settle_deferred",
        appointment_id=held.appointment.id,
        reservation_key=held.request.reservation_key,
        calendar=outcome.value if outcome else "unknown",
        error=type(problem).__name__,
    )
    return Deferred(held, result)


def deferred_reply(deferred: Deferred) -> Reply:
    """What the caller hears when the answer could not be recorded: what the calendar said,
    and a create is never sent again."""
    held, result = deferred.held, deferred.result
    company = held.caller.company
    local = held.appointment.span.start.astimezone(company.tz)
    if result is None or result.outcome is CreateOutcome.AMBIGUOUS:
        view = AppointmentView.of(held.appointment, company.tz)
        return Reply(Status.PENDING, requested_start=local, appointment=view)
    if result.outcome is CreateOutcome.BOOKED:
        view = AppointmentView.of(replace(held.appointment, status=_S.BOOKED), company.tz)
        done = Status.RESCHEDULED if held.moving is not None else Status.BOOKED
        return Reply(done, requested_start=local, appointment=view)
    refusal = refusal_error(held, result)
    if isinstance(refusal, Reply):
        return refusal
    return Reply(Status.UNAVAILABLE, reason=refusal, requested_start=local)


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


async def fail_unsent(ctx: Context, hold: Hold) -> None:
    """Fail the row a reserve cut off by a database failover may have committed after all.

    It was never sent to the calendar; a move's old appointment holds its slot again.
    """
    async with ctx.sessions() as session, session.begin():
        row = await AppointmentRepository(session).by_reservation_key(hold.key)
        if row is not None:
            reason = "database failover during reserve; never sent to the calendar"
            restore = None if hold.moving is None else hold.moving.status
            await release(ctx, session, row, reason=reason, restore=restore)


async def settle_answer(ctx: Context, held: Held, result: CreateResult) -> None:
    """Record the calendar's answer to our create or move on the pending row; link the call.

    Booked: booked. Ambiguous: stays pending for the reconciler. Refused or never sent:
    failed, and a move's old appointment holds its slot again.
    """
    async with ctx.sessions() as session, session.begin():
        if result.outcome is CreateOutcome.REFUSED:
            restore = None if held.moving is None else held.moving.status
            refusal = result.refusal.value if result.refusal else "refused"
            await release(
                ctx, session, held.appointment, reason=result.detail or refusal, restore=restore
            )
            return
        booked = result.outcome is CreateOutcome.BOOKED and result.booking is not None
        if booked and result.booking is not None:
            await confirm(ctx, session, held.appointment, result.booking, revive=False)
        link = "rescheduled" if held.moving is not None else ("booked" if booked else "pending")
        await _link_call(ctx, session, held.appointment.id, link, held.caller.call_row_id)


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


async def settle_from_calendar(
    ctx: Context, appointment: Appointment, found: CalendarBooking | None
) -> bool:
    """Settle a pending row from what ``lookup`` found; True when it is booked.

    Never asks the calendar to book again: absent means failed, with a move's old
    appointment booked again.
    """
    active = found is not None and found.is_active
    async with ctx.sessions() as session, session.begin():
        if found is not None and active:
            await confirm(ctx, session, appointment, found, revive=True, matched_by="reconcile")
        else:
            reason = "absent in the calendar"
            await release(ctx, session, appointment, reason=reason, restore=_S.BOOKED)
        linked = await _link_call(ctx, session, appointment.id, "booked" if active else "failed")
        if linked and not active and appointment.rescheduled_from_id is None:
            # The caller may have heard "being confirmed": the salon must call them back.
            await AppointmentRepository(session).mark_needs_callback(appointment.id)
            ctx.metrics.failed_after_pending.inc()
    outcome = "booked" if active else "failed"
    uid = found.uid if found is not None and active else None
    log.info("pending_settled", appointment_id=appointment.id, outcome=outcome, uid=uid)
    return active


async def resend(
    ctx: Context, company: Company, appointment: Appointment, grace: timedelta
) -> str | None:
    """Send a create that verifiably never reached the calendar again, with the same key.

    Called only after ``lookup`` found nothing once the last send could no longer land (sent
    more than ``grace`` ago, which exceeds the client's timeout), while our pending row still
    holds the slot. Returns the outcome ("booked", "failed", or "unreachable" while still
    pending), or None when every resend (``MAX_RESENDS``) was used.
    """
    now = ctx.clock()
    async with ctx.sessions() as session, session.begin():
        claim = await AppointmentRepository(session).mark_resent(
            appointment.id, now, landed_by=now - grace
        )
    if claim is ResendClaim.USED_UP:
        return None
    if claim is ResendClaim.TOO_SOON:  # another reconciler's resend may still land
        return "unreachable"
    request = await _request(ctx, company, appointment)
    try:
        result = await ctx.calendar(company).create_booking(request)
    except CalendarUnreachable:
        async with ctx.sessions() as session, session.begin():
            await AppointmentRepository(session).unmark_resent(appointment.id)
        return "unreachable"  # never sent: this resend is still to come
    log.info("pending_resent", appointment_id=appointment.id, outcome=result.outcome.value)
    if result.outcome is CreateOutcome.BOOKED and result.booking is not None:
        booked = await settle_from_calendar(ctx, appointment, result.booking)
        return "booked" if booked else "failed"
    if result.outcome is CreateOutcome.REFUSED:
        await settle_from_calendar(ctx, appointment, None)  # the slot is gone
        return "failed"
    return "unreachable"  # unanswered again: the next round looks it up by our key


async def _request(ctx: Context, company: Company, appointment: Appointment) -> CreateBooking:
    async with ctx.sessions() as session:
        customer = await CustomerRepository(session).get(appointment.customer_id)
        service = await CompanyRepository(session).service(appointment.service_id)
    if customer is None or service is None:
        raise AppointmentIncomplete(f"appointment {appointment.id} lost its customer or service")
    person = company.person(appointment.staff_key)
    return calendar_request(
        company, customer, service, appointment.span, appointment.reservation_key, person
    )


async def _link_call(
    ctx: Context,
    session: AsyncSession,
    appointment_id: int,
    status: str,
    call_row_id: int | None = None,
) -> bool:
    """Point the call that made the appointment at it, with ``status``; False when none did."""
    if call_row_id is None:
        call_row_id = await AppointmentRepository(session).call_row_of(appointment_id)
    if call_row_id is None:
        return False
    await CallRepository(session).link(
        call_row_id, ctx.clock(), appointment_id=appointment_id, link_status=status
    )
    return True
