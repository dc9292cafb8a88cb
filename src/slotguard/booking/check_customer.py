"""check_customer: is the caller known, and what appointments do they have coming up?"""

from __future__ import annotations

from slotguard.booking.access import named_people, visible_upcoming
from slotguard.booking.context import Context
from slotguard.booking.replies import AppointmentView, Reply, Status
from slotguard.booking.resolve import CallRef, caller_for, company_for


async def check_customer(ctx: Context, call: CallRef) -> Reply:
    """``known`` with the household's names and upcoming appointments, or ``new``.

    On a phone shared by several people every name is given (``household``), so the agent asks
    who is calling instead of greeting the last person who booked.
    """
    company = await company_for(ctx, call)
    caller = await caller_for(ctx, company, call, create=False)
    upcoming = await visible_upcoming(ctx, caller)
    names = named_people(caller)
    if not upcoming and not names:
        return Reply(Status.NEW)
    views = tuple(AppointmentView.of(a, company.tz) for a in upcoming)
    facts: dict[str, object] = {"customer_name": names[0] if len(names) == 1 else None}
    if len(names) > 1:
        facts = {"household": names}
    return Reply(Status.KNOWN, appointments=views, facts=facts)
