"""check_availability: free slots near the caller's wish, and alternatives for other use cases."""

from __future__ import annotations

from slotguard.booking.context import Context
from slotguard.booking.offer import (
    alternative_facts,
    alternatives,
    check_span,
    first_per_start,
    free_hosts,
    offers_in,
    problem_facts,
    unavailable,
    wished_person,
)
from slotguard.booking.replies import Reply, Status, error
from slotguard.booking.resolve import (
    CallRef,
    company_for,
    names_a_time,
    requested_day,
    requested_span,
    service_for,
)
from slotguard.calendar import CalendarUnreachable
from slotguard.domain import Company, Reason, Service, TimeRange
from slotguard.domain.schedule import ScheduleProblem
from slotguard.store.companies import CompanyRepository

# How many free starts of a day a reply carries (the sentence reads out fewer).
MAX_DAY_SLOTS = 8


async def check_availability(
    ctx: Context,
    call: CallRef,
    service: str | None,
    date: str | None,
    time: str | None,
    staff: str | None = None,
) -> Reply:
    """Is the wished time free (and with whom)? Without a time: the free starts of that day."""
    company = await company_for(ctx, call)
    chosen = await services_of(ctx, company, service)
    person = wished_person(company, chosen, staff)
    if time or names_a_time(ctx, company, date):  # "morgen um 14 Uhr" in `date`
        span = requested_span(ctx, company, call, chosen, date, time)
        try:
            host = await check_span(ctx, company, chosen, span, person)
            if isinstance(host, Reply):
                return host
            if host is None and not await _free_at(ctx, company, chosen, span):
                return await unavailable(ctx, company, chosen, span, person)
        except CalendarUnreachable:  # say what was understood, and that nothing was read
            local = span.start.astimezone(company.tz)
            return error(Reason.CALENDAR_UNREACHABLE, requested_start=local)
        facts = {} if host is None else {"staff": host.name}
        return Reply(
            Status.AVAILABLE, requested_start=span.start.astimezone(company.tz), facts=facts
        )
    day = requested_day(ctx, company, date or "")
    offers = first_per_start(await offers_in(ctx, company, chosen, day, person))
    if not offers:
        closed = company.rules_for(chosen).closed(day.start.astimezone(company.tz).date())
        found = None if closed is None else ScheduleProblem(Reason.CLOSED, closed)
        others = await alternatives(ctx, company, chosen, day.start, person)
        facts = alternative_facts(others) | ({} if found is None else problem_facts(found))
        return Reply(
            Status.UNAVAILABLE,
            reason=Reason.DAY_FULL if found is None else found.reason,
            alternatives=tuple(o.start.astimezone(company.tz) for o in others),
            facts=facts,
        )
    shown = tuple(offers[:MAX_DAY_SLOTS])
    return Reply(
        Status.AVAILABLE,
        alternatives=tuple(o.start.astimezone(company.tz) for o in shown),
        facts=alternative_facts(shown),
    )


async def _free_at(ctx: Context, company: Company, service: Service, span: TimeRange) -> bool:
    """Whether the company's one calendar has ``span`` free (a company without staff)."""
    return bool(await free_hosts(ctx, company, service, span, None))


async def services_of(ctx: Context, company: Company, requested: str | None) -> Service:
    """The service the caller named; raises UnknownService listing the offered ones."""
    services = ctx.tenants.get(("services", company.id))
    if services is None:
        async with ctx.sessions() as session:
            services = await CompanyRepository(session).services(company.id)
        ctx.tenants.put(("services", company.id), services)
    return service_for(services, requested)
