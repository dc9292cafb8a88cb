"""query_appointment: the caller's active upcoming appointments, optionally of one day."""

from __future__ import annotations

from dataclasses import dataclass

from slotguard.booking.access import visible_upcoming
from slotguard.booking.context import Context
from slotguard.booking.replies import AppointmentView, Reply, Status
from slotguard.booking.resolve import CallRef, caller_for, company_for, requested_day


@dataclass(frozen=True)
class QueryArgs:
    """The arguments of query_appointment: optionally the day asked about."""

    date: str | None = None


async def query_appointment(ctx: Context, call: CallRef, args: QueryArgs) -> Reply:
    """``ok`` with ``appointments`` (empty when none)."""
    company = await company_for(ctx, call)
    day = requested_day(ctx, company, args.date) if args.date else None
    caller = await caller_for(ctx, company, call, create=False)
    upcoming = await visible_upcoming(ctx, caller)
    facts = {}
    if day is not None:
        that_day = [a for a in upcoming if a.span.overlaps(day)]
        if not that_day and upcoming:  # "nothing that day; your next one is …"
            facts["next_appointment"] = AppointmentView.of(upcoming[0], company.tz).to_json()
        upcoming = that_day
    views = tuple(AppointmentView.of(a, company.tz) for a in upcoming)
    return Reply(Status.OK, appointments=views, facts=facts)
