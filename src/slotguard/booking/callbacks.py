"""Bookings that failed after the caller heard "being confirmed": told to the caller and the salon.

The next function call of the same call says so once; the salon sees every such booking
(admin API, dashboard list "needs a call back", the ``slotguard_callbacks_needed`` gauge) until
someone marks it called back.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, replace

from slotguard.booking.context import Context
from slotguard.booking.replies import AppointmentView, Reply
from slotguard.booking.resolve import CallRef
from slotguard.domain import Appointment, AppointmentStatus, Company
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.calls import CallRepository

# The call's link status once its failed booking was told (see pending.settle: "failed").
TOLD = "failed_told"
FAILED = "failed"


@dataclass
class Watch:
    """What one request learnt about its call's failed booking on the way."""

    call_id: str | None = None  # the call whose row this request saw with nothing to tell


_watch: ContextVar[Watch | None] = ContextVar("failed_booking_watch", default=None)


def watch() -> Watch:
    """Start a request's watch (the Retell endpoint does, before the function runs)."""
    started = Watch()
    _watch.set(started)
    return started


def saw_call(call_id: str, link_status: str) -> None:
    """Note the link status a request read from its call's row while it ran.

    Only for a function that settles no booking itself (collect's first look): its own
    reading then answers :func:`tell_failed_booking`, one read fewer per call. A booking that
    fails in the milliseconds between is told on the caller's next function call.
    """
    current = _watch.get()
    if current is not None and link_status != FAILED:
        current.call_id = call_id


async def tell_failed_booking(ctx: Context, company: Company, call: CallRef, reply: Reply) -> Reply:
    """``reply`` with ``failed_booking`` when this call's pending booking failed since (once).

    Asked on every function call, so the usual answer ("nothing to tell") is one indexed
    read in autocommit (none when the request already saw the call's row, see
    :func:`saw_call`); only a failed booking opens a transaction, and of two requests at
    once only the one that marks it told tells it.
    """
    seen = _watch.get()
    if seen is not None and seen.call_id == call.call_id:
        return reply
    async with ctx.statements() as session:
        found = await CallRepository(session).failed_booking_of(call.call_id)
    if found is None:
        return reply
    row_id, appointment_id = found
    async with ctx.sessions() as session, session.begin():
        failed = await AppointmentRepository(session).get(appointment_id)
        if failed is None or failed.status is not AppointmentStatus.FAILED:
            return reply
        if not await CallRepository(session).mark_told(row_id, ctx.clock(), TOLD):
            return reply
    view = AppointmentView.of(failed, company.tz).to_json()
    return replace(reply, facts={**reply.facts, "failed_booking": view})


async def callbacks_needed(ctx: Context, company_id: int | None = None) -> list[Appointment]:
    """Failed-after-pending bookings not yet called back, oldest first."""
    async with ctx.sessions() as session:
        return await AppointmentRepository(session).callbacks_needed(company_id)


async def mark_called_back(ctx: Context, appointment_id: int) -> bool:
    """The salon reached the caller; False when the booking needed no call back."""
    async with ctx.sessions() as session, session.begin():
        return await AppointmentRepository(session).mark_called_back(appointment_id, ctx.clock())
