"""check_availability: free slots near the caller's wish, and alternatives for other use cases."""

from __future__ import annotations

from datetime import datetime, timedelta

from slotguard.booking.context import Context
from slotguard.booking.replies import Reply, Status
from slotguard.booking.resolve import (
    CallRef,
    company_for,
    requested_day,
    requested_span,
    service_for,
)
from slotguard.calendar import CalendarProvider, CalendarUnreachable
from slotguard.domain import Company, Reason, Service, TimeRange
from slotguard.store.companies import CompanyRepository

# How many alternatives the agent reads out; more is hard to follow on the phone.
MAX_ALTERNATIVES = 3
# How far ahead to look for alternatives when the requested day is full.
ALTERNATIVE_DAYS = 7


async def check_availability(
    ctx: Context, call: CallRef, service: str | None, date: str | None, time: str | None
) -> Reply:
    """Is the wished time free? Without a time: the free slots of that day."""
    company = await company_for(ctx, call)
    chosen = await services_of(ctx, company, service)
    calendar = ctx.calendar(company)
    if time:
        span = requested_span(ctx, company, call, chosen, date, time)
        free = await calendar.free_slots(
            window=span,
            duration_minutes=chosen.duration_minutes,
            event_type_id=chosen.calcom_event_type_id,
        )
        if span.start in free:
            return Reply(Status.AVAILABLE, requested_start=span.start.astimezone(company.tz))
        others = await alternatives(calendar, company, chosen, span.start)
        return Reply(
            Status.UNAVAILABLE,
            reason=unavailable_reason(company, span),
            requested_start=span.start.astimezone(company.tz),
            alternatives=others,
        )
    day = requested_day(ctx, company, date or "")
    slots = await calendar.free_slots(
        window=day,
        duration_minutes=chosen.duration_minutes,
        event_type_id=chosen.calcom_event_type_id,
    )
    if not slots:
        others = await alternatives(calendar, company, chosen, day.start)
        return Reply(Status.UNAVAILABLE, reason=Reason.DAY_FULL, alternatives=others)
    return Reply(Status.AVAILABLE, alternatives=tuple(s.astimezone(company.tz) for s in slots[:8]))


def unavailable_reason(company: Company, span: TimeRange) -> Reason:
    """``out_of_bounds`` when the company is closed then, else ``slot_taken``."""
    covered = company.opening_hours.covers(span, company.tz)
    return Reason.SLOT_TAKEN if covered else Reason.OUT_OF_BOUNDS


async def services_of(ctx: Context, company: Company, requested: str | None) -> Service:
    """The service the caller named; raises UnknownService listing the offered ones."""
    services = ctx.tenants.get(("services", company.id))
    if services is None:
        async with ctx.sessions() as session:
            services = await CompanyRepository(session).services(company.id)
        ctx.tenants.put(("services", company.id), services)
    return service_for(services, requested)


async def alternatives(
    calendar: CalendarProvider, company: Company, service: Service, wish: datetime
) -> tuple[datetime, ...]:
    """Up to three free starts closest to ``wish``, the same day first, then the next days."""
    day_start = datetime.combine(
        wish.astimezone(company.tz).date(), datetime.min.time(), tzinfo=company.tz
    )
    for days in (1, ALTERNATIVE_DAYS):
        window = TimeRange(day_start, day_start + timedelta(days=days))
        try:
            free = await calendar.free_slots(
                window=window,
                duration_minutes=service.duration_minutes,
                event_type_id=service.calcom_event_type_id,
            )
        except CalendarUnreachable:
            return ()
        free = [s for s in free if s != wish]
        if free:
            nearest = sorted(free, key=lambda s: abs((s - wish).total_seconds()))[:MAX_ALTERNATIVES]
            return tuple(s.astimezone(company.tz) for s in sorted(nearest))
    return ()
