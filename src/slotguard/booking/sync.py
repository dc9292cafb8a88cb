"""Backfill and reconcile a company's Cal.com bookings (``slotguard calcom sync``).

Every booking is applied like the webhook Cal.com would have sent for it, so bookings made
before slotguard was installed — or whose webhook never came — are mirrored once, and
duplicates among them are flagged. Running it twice changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from slotguard.booking.context import Context
from slotguard.calcom_webhooks import apply_booking
from slotguard.calcom_webhooks.payload import Attendee, BookingPayload
from slotguard.calendar import CalendarBooking
from slotguard.calendar.calcom import CalcomCalendar
from slotguard.domain import Company

TRIGGER_FOR_STATUS = {
    "accepted": "BOOKING_CREATED",
    "pending": "BOOKING_REQUESTED",
    "cancelled": "BOOKING_CANCELLED",
    "rejected": "BOOKING_REJECTED",
}


class NotACalcomCompany(ValueError):
    """The company's calendar is not Cal.com."""


def as_payload(booking: CalendarBooking) -> BookingPayload:
    """A REST booking in the webhook payload's terms."""
    attendee = Attendee(
        name=booking.attendee_name, email=booking.attendee_email, phoneNumber=booking.attendee_phone
    )
    return BookingPayload(
        uid=booking.uid,
        bookingId=booking.booking_id,
        eventTypeId=booking.event_type_id,
        startTime=booking.span.start,
        endTime=booking.span.end,
        status=booking.status.upper(),
        attendees=[attendee],
        metadata=dict(booking.metadata),
        rescheduleUid=booking.rescheduled_from_uid,
    )


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
        trigger = TRIGGER_FOR_STATUS.get(booking.status, "BOOKING_CREATED")
        outcome = await apply_booking(ctx, company, trigger, as_payload(booking))
        outcomes[outcome] += 1
        if progress is not None:
            progress(outcome)
    return outcomes
