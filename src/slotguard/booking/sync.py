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
from slotguard.booking.layer3 import Change, Outcome
from slotguard.calendar.ratelimit import Priority
from slotguard.calendar.slot_cache import calcom_of, invalidate
from slotguard.domain import Company

# Cal.com's REST status of a listed booking → the change it stands for.
CHANGE_FOR_STATUS = {
    "accepted": Change.CREATED,
    "pending": Change.REQUESTED,
    "cancelled": Change.CANCELLED,
    "rejected": Change.REJECTED,
}


# Outcomes that leave the mirror as it was.
UNCHANGED = frozenset({Outcome.KNOWN, Outcome.IGNORED, Outcome.ENDED_UNKNOWN})


class NotACalcomCompany(ValueError):
    """The company's calendar is not Cal.com."""


async def sync_company(
    ctx: Context,
    company: Company,
    since: datetime,
    until: datetime,
    progress: Callable[[str], None] | None = None,
    *,
    priority: Priority = Priority.READ,
) -> Counter[str]:
    """Apply every Cal.com booking starting in [since, until); returns outcome counts.

    Its reads take ``priority`` in the key's budget (BACKGROUND: they yield to calls).
    """
    calcom = calcom_of(ctx.calendar(company))
    if calcom is None:
        raise NotACalcomCompany(f"company {company.slug!r} does not use Cal.com")
    calendar = calcom.with_read_priority(priority)
    outcomes: Counter[str] = Counter()
    async for booking in calendar.list_bookings(since, until):
        change = CHANGE_FOR_STATUS.get(booking.status, Change.CREATED)
        async with ctx.sessions() as session, session.begin():
            outcome = await layer3.apply(ctx, session, company, change, booking)
            if outcome not in UNCHANGED:  # every process looks those days up again
                await invalidate(session, company, [booking.span])
        outcomes[outcome.value] += 1
        if progress is not None:
            progress(outcome.value)
    return outcomes
