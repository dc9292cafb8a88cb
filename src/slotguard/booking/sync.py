"""Backfill and reconcile a company's Cal.com bookings (``slotguard calcom sync``).

Every listed booking goes through Layer 3 as the change its status stands for, so bookings
made before slotguard was installed — or whose webhook never came — are mirrored once, and
duplicates among them are flagged. Running it twice changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from slotguard.booking import layer3
from slotguard.booking.context import Context
from slotguard.booking.layer3 import Change
from slotguard.calendar.calcom import CalcomCalendar
from slotguard.domain import Company

# Cal.com's REST status of a listed booking → the change it stands for.
CHANGE_FOR_STATUS = {
    "accepted": Change.CREATED,
    "pending": Change.REQUESTED,
    "cancelled": Change.CANCELLED,
    "rejected": Change.REJECTED,
}


class NotACalcomCompany(ValueError):
    """The company's calendar is not Cal.com."""


async def sync_company(
    ctx: Context,
    company: Company,
    since: datetime,
    until: datetime,
    progress: Callable[[str], None] | None = None,
) -> Counter[str]:
    """Apply every Cal.com booking starting in [since, until); returns outcome counts."""
    calendar = ctx.calendar(company)
    if not isinstance(calendar, CalcomCalendar):
        raise NotACalcomCompany(f"company {company.slug!r} does not use Cal.com")
    outcomes: Counter[str] = Counter()
    async for booking in calendar.list_bookings(since, until):
        change = CHANGE_FOR_STATUS.get(booking.status, Change.CREATED)
        async with ctx.sessions() as session, session.begin():
            outcome = await layer3.apply(ctx, session, company, change, booking)
        outcomes[outcome.value] += 1
        if progress is not None:
            progress(outcome.value)
    return outcomes
