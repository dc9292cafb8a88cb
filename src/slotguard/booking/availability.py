"""check_availability: free slots near the caller's wish, and alternatives for other use cases."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

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
from slotguard.calendar import AvailabilityUnknown, CalendarUnreachable
from slotguard.domain import Company, Reason, Service, TimeRange
from slotguard.domain.salon import StaffMember
from slotguard.domain.schedule import ScheduleProblem
from slotguard.store.companies import CompanyRepository

# How many free starts of a day a reply carries (the sentence reads out fewer).
MAX_DAY_SLOTS = 8


@dataclass(frozen=True)
class AvailabilityArgs:
    """The arguments of check_availability: a service, a day, optionally a time and a person."""

    service: str | None
    date: str | None
    time: str | None = None
    staff: str | None = None


async def check_availability(ctx: Context, call: CallRef, args: AvailabilityArgs) -> Reply:
    """Is the wished time free (and with whom)? Without a time: the free starts of that day."""
    company = await company_for(ctx, call)
    service = await services_of(ctx, company, args.service)
    person = wished_person(company, service, args.staff)
    if not (args.time or names_a_time(ctx, company, args.date)):  # "morgen um 14 Uhr" in date
        day = requested_day(ctx, company, args.date or "")
        return await _day(ctx, company, service, day, person)
    span = requested_span(ctx, company, call, service, args.date, args.time)
    try:
        host = await host_for(ctx, company, service, span, person)
    except CalendarUnreachable as problem:  # say what was understood, and nothing was read
        local = span.start.astimezone(company.tz)
        why = Reason.CALENDAR_UNREACHABLE
        if isinstance(problem, AvailabilityUnknown):  # no budget now: not "calendar down"
            why = Reason.AVAILABILITY_UNKNOWN
        return error(why, requested_start=local)
    if isinstance(host, Reply):
        return host
    facts = {} if host is None else {"staff": host.name}
    return Reply(Status.AVAILABLE, requested_start=span.start.astimezone(company.tz), facts=facts)


async def host_for(
    ctx: Context, company: Company, service: Service, span: TimeRange, person: StaffMember | None
) -> StaffMember | Reply | None:
    """Who is free for ``span`` (None: the company's one calendar is), or ``unavailable``.

    Raises CalendarUnreachable when no calendar could say.
    """
    host = await check_span(ctx, company, service, span, person)
    if isinstance(host, Reply):
        return host
    if host is None and not await free_hosts(ctx, company, service, span, None):
        return await unavailable(ctx, company, service, span, person)
    return host


async def _day(
    ctx: Context, company: Company, service: Service, day: TimeRange, person: StaffMember | None
) -> Reply:
    """The free starts of one day, or ``unavailable`` (closed or full) with alternatives."""
    offers = first_per_start(await offers_in(ctx, company, service, day, person))
    if not offers:
        closed = company.rules_for(service).closed(day.start.astimezone(company.tz).date())
        found = None if closed is None else ScheduleProblem(Reason.CLOSED, closed)
        others = await alternatives(ctx, company, service, day.start, person)
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


async def services_of(
    ctx: Context, company: Company, requested: str | None, session: AsyncSession | None = None
) -> Service:
    """The service the caller named; raises UnknownService listing the offered ones.

    Inside a transaction pass its ``session``: on SQLite a second session would wait for the
    write lock that transaction holds.
    """
    services = ctx.tenants.get(("services", company.id))
    if services is None:
        if session is None:
            async with ctx.sessions() as own:
                services = await CompanyRepository(own).services(company.id)
        else:
            services = await CompanyRepository(session).services(company.id)
        ctx.tenants.put(("services", company.id), services)
    return service_for(services, requested)
