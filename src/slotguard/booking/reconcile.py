"""The reconciler: settles pending appointments by asking the calendar, re-applies stored events.

A crash between Cal.com's success and our update, a create that timed out after Cal.com made
the booking, a webhook that never came: each leaves a ``pending`` row, and this finds the
booking by our reservation key and settles the row — never by creating again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from slotguard.booking import idempotency, settlement
from slotguard.booking.calcom_events import apply_pending_events
from slotguard.booking.context import Context
from slotguard.calendar import CalendarUnreachable
from slotguard.domain import Appointment
from slotguard.observability import get_logger
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.companies import CompanyRepository
from slotguard.store.webhooks import WebhookEventRepository

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
        outcome = await _settle(ctx, appointment, grace)
        setattr(report, outcome, getattr(report, outcome) + 1)
        report.details.append(f"appointment {appointment.id}: {outcome}")
        ctx.metrics.reconciler_settlements.labels(outcome=outcome).inc()
    report.events_applied = await apply_pending_events(ctx)
    await update_gauges(ctx)
    return report


async def _settle(ctx: Context, appointment: Appointment, grace: timedelta) -> str:
    async with ctx.sessions() as session:
        company = await CompanyRepository(session).by_id(appointment.company_id)
    if company is None:
        raise settlement.AppointmentIncomplete(f"appointment {appointment.id} has no company")
    try:
        found = await settlement.lookup(ctx, company, appointment)
    except CalendarUnreachable as problem:
        log.warning("reconcile_unreachable", appointment_id=appointment.id, problem=str(problem))
        return "unreachable"
    if found is None and appointment.rescheduled_from_id is None:
        # Never reached the calendar (the last send can no longer land): send it again.
        outcome = await settlement.resend(ctx, company, appointment, grace)
        if outcome is not None:
            return outcome
    booked = await settlement.settle_from_calendar(ctx, appointment, found)
    return "booked" if booked else "failed"


async def update_gauges(ctx: Context) -> None:
    """Refresh the pending-appointment gauges."""
    async with ctx.sessions() as session:
        count, oldest = await AppointmentRepository(session).pending_stats(ctx.clock())
        callbacks = await AppointmentRepository(session).count_callbacks_needed()
    ctx.metrics.pending_appointments.set(count)
    ctx.metrics.oldest_pending_seconds.set(oldest)
    ctx.metrics.callbacks_needed.set(callbacks)


async def purge_old_events(ctx: Context, retention: timedelta) -> int:
    """Delete stored webhook and call events (raw bodies, transcripts) older than ``retention``.

    Only applied events go: one still waiting to be applied is kept until it is.
    """
    async with ctx.sessions() as session, session.begin():
        return await WebhookEventRepository(session).delete_processed_before(
            ctx.clock() - retention
        )


async def run_forever(
    ctx: Context, *, interval: float, grace: timedelta, retention: timedelta | None = None
) -> None:
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
                if retention is not None:
                    events = await purge_old_events(ctx, retention)
                    log.info("stored_events_purged", count=events, retention_days=retention.days)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reconcile_round_failed")
        await asyncio.sleep(interval)
