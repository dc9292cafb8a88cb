"""The reconciler: settles pending appointments by asking the calendar, re-applies stored events.

A crash between Cal.com's success and our update, a create that timed out after Cal.com made
the booking, a webhook that never came: each leaves a ``pending`` row, and this finds the
booking by our reservation key and settles the row — never by creating again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.booking import idempotency
from slotguard.booking.context import Context
from slotguard.booking.detect import record
from slotguard.calcom_webhooks import apply_pending_events
from slotguard.calendar import CalendarUnreachable, CreateBooking
from slotguard.domain import Action, Appointment, AppointmentStatus, Decision, Layer, Reason, Result
from slotguard.observability import get_logger
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.companies import CompanyRepository
from slotguard.store.customers import CallRepository, CustomerRepository
from slotguard.store.decisions import DecisionRecord

log = get_logger("reconciler")
# Rows leased per round; each costs one calendar lookup.
BATCH = 50
# Keys are purged this often; they expire after 72 h, so hourly is plenty.
PURGE_EVERY = timedelta(hours=1)


@dataclass
class Report:
    """What one reconciler round did."""

    booked: int = 0
    failed: int = 0
    unreachable: int = 0
    events_applied: int = 0
    details: list[str] = field(default_factory=list)


async def run_once(ctx: Context, *, grace: timedelta) -> Report:
    """One round: settle pending rows untouched for ``grace``, then re-apply stored events.

    ``grace`` must exceed the calendar client's timeout, so a create still in flight is never
    judged absent.
    """
    report = Report()
    now = ctx.clock()
    async with ctx.sessions() as session, session.begin():
        leased = await AppointmentRepository(session).lease_stale_pending(now - grace, now, BATCH)
    for appointment in leased:
        outcome = await _settle(ctx, appointment)
        setattr(report, outcome, getattr(report, outcome) + 1)
        report.details.append(f"appointment {appointment.id}: {outcome}")
        ctx.metrics.reconciler_settlements.labels(outcome=outcome).inc()
    report.events_applied = await apply_pending_events(ctx)
    await update_gauges(ctx)
    return report


async def _settle(ctx: Context, appointment: Appointment) -> str:
    async with ctx.sessions() as session:
        company = await CompanyRepository(session).by_id(appointment.company_id)
        customer = await CustomerRepository(session).get(appointment.customer_id)
        service = await CompanyRepository(session).service(appointment.service_id)
    assert company is not None and customer is not None and service is not None
    request = CreateBooking(
        reservation_key=appointment.reservation_key,
        company_id=company.id,
        service_name=service.name,
        span=appointment.span,
        time_zone=company.timezone,
        language=company.language.value,
        attendee_name=customer.name or "",
        attendee_email=customer.email,
        attendee_phone=customer.phone_e164,
        event_type_id=service.calcom_event_type_id,
    )
    try:
        found = await ctx.calendar(company).find_booking(request)
    except CalendarUnreachable as problem:
        log.warning("reconcile_unreachable", appointment_id=appointment.id, problem=str(problem))
        return "unreachable"
    now = ctx.clock()
    async with ctx.sessions() as session, session.begin():
        repo = AppointmentRepository(session)
        if found is not None and found.is_active:
            await repo.mark_booked(appointment.id, found.uid, found.booking_id, now)
            row = await repo.get(appointment.id)
            decision = Decision(
                Layer.POST_BOOKING,
                Result.MERGED,
                Reason.RESERVATION_MATCHED,
                Action.LINKED,
                (row or appointment,),
            )
            where = DecisionRecord(
                company.id,
                "reconcile",
                customer.id,
                None,
                service.id,
                appointment.span.start,
                appointment.span.end,
            )
            await record(ctx, session, decision, where)
            await _link_call(session, appointment, now, "booked")
            log.info("reconciled", appointment_id=appointment.id, outcome="booked", uid=found.uid)
            return "booked"
        await repo.set_status(
            appointment.id, AppointmentStatus.FAILED, now,
            only_from=frozenset({AppointmentStatus.PENDING}), reason="absent in the calendar",
        )  # fmt: skip
        await _link_call(session, appointment, now, "failed")
    log.info("reconciled", appointment_id=appointment.id, outcome="failed")
    return "failed"


async def _link_call(
    session: AsyncSession, appointment: Appointment, now: datetime, status: str
) -> None:
    row = await AppointmentRepository(session).call_row_of(appointment.id)
    if row is not None:
        await CallRepository(session).link(
            row, now, appointment_id=appointment.id, link_status=status
        )


async def update_gauges(ctx: Context) -> None:
    """Refresh the pending-appointment gauges."""
    async with ctx.sessions() as session:
        count, oldest = await AppointmentRepository(session).pending_stats(ctx.clock())
    ctx.metrics.pending_appointments.set(count)
    ctx.metrics.oldest_pending_seconds.set(oldest)


async def run_forever(ctx: Context, *, interval: float, grace: timedelta) -> None:
    """The in-process background task of every ``serve`` process (several are safe)."""
    last_purge = ctx.clock() - PURGE_EVERY
    while True:
        try:
            report = await run_once(ctx, grace=grace)
            if report.details:
                log.info(
                    "reconcile_round",
                    booked=report.booked,
                    failed=report.failed,
                    unreachable=report.unreachable,
                )
            if ctx.clock() - last_purge >= PURGE_EVERY:
                purged = await idempotency.purge_expired(ctx)
                last_purge = ctx.clock()
                log.info("idempotency_keys_purged", count=purged)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reconcile_round_failed")
        await asyncio.sleep(interval)
