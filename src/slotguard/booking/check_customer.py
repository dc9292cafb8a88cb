"""check_customer: is the caller known, and what appointments do they have coming up?"""

from __future__ import annotations

from slotguard.booking.context import Context
from slotguard.booking.replies import AppointmentView, Reply, Status
from slotguard.booking.resolve import CallRef, caller_for, company_for
from slotguard.store.appointments import AppointmentRepository


async def check_customer(ctx: Context, call: CallRef) -> Reply:
    """``known`` with name and upcoming appointments, or ``new``."""
    company = await company_for(ctx, call)
    caller = await caller_for(ctx, company, call, create=False)
    if caller.customer is None:
        return Reply(Status.NEW)
    async with ctx.sessions() as session:
        upcoming = await AppointmentRepository(session).upcoming(
            company.id, caller.customer.id, ctx.clock()
        )
    if not upcoming and not caller.customer.name:
        return Reply(Status.NEW)
    views = tuple(AppointmentView.of(a, company.tz) for a in upcoming)
    return Reply(Status.KNOWN, appointments=views, facts={"customer_name": caller.customer.name})
