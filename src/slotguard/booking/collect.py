"""collect_appointment_data: Layer 1 early warning, what Layer 2 would say, and availability."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, replace
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.booking import callbacks, usecase
from slotguard.booking.availability import host_for, services_of
from slotguard.booking.context import Context
from slotguard.booking.detect import (
    Findings,
    decided,
    decision_record,
    examine,
    examine_on,
    record,
    request_for,
)
from slotguard.booking.offer import wished_person
from slotguard.booking.replies import Reply, Status
from slotguard.booking.resolve import (
    Caller,
    CallRef,
    company_for,
    customer_of,
    identify,
    look_up,
    normalise_phone,
    record_call,
    requested_span,
)
from slotguard.calendar import CalendarUnreachable
from slotguard.domain import Company, Result, Service, TimeRange
from slotguard.domain.salon import StaffMember

FUNCTION = "collect_appointment_data"


@dataclass(frozen=True)
class CollectArgs:
    """The arguments of collect_appointment_data."""

    customer_name: str | None
    service: str | None
    date: str | None
    time: str | None
    customer_email: str | None = None
    staff: str | None = None


@dataclass(frozen=True)
class Wish:
    """What the caller asks for, understood once per request: no database is needed."""

    company: Company
    service: Service
    person: StaffMember | None
    span: TimeRange


async def collect_appointment_data(ctx: Context, call: CallRef, args: CollectArgs) -> Reply:
    """Tell the agent at once about an existing appointment, a refusal, or a taken slot."""
    wish = await _understood(ctx, call, args)
    # Availability is read afresh on every ask, never replayed: a start free a minute ago
    # may be taken now.
    async with _one_connection(ctx, wish.company):
        clear = await _first_look(ctx, call, args, wish)
        if clear is not None:
            return await _with_availability(ctx, wish, clear)
    checked = await usecase.decide(ctx, call, FUNCTION, args, partial(_checks, wish=wish))
    if checked.status is not Status.OK:
        return checked
    return await _with_availability(ctx, wish, checked)


def _one_connection(ctx: Context, company: Company) -> AbstractAsyncContextManager[None]:
    """A clear ask's reads on one connection when the calendar is the local one (read through
    the same driver); no connection waits idle while Cal.com is asked over HTTP."""
    return ctx.driver.shared() if company.calendar == "local" else nullcontext()


async def _understood(ctx: Context, call: CallRef, args: CollectArgs) -> Wish:
    """Company, service, person and time asked for; raises what the agent must ask again."""
    company = await company_for(ctx, call)
    service = await services_of(ctx, company, args.service)
    person = wished_person(company, service, args.staff)  # an unknown name is refused first
    span = requested_span(ctx, company, call, service, args.date, args.time)
    return Wish(company, service, person, span)


async def _first_look(ctx: Context, call: CallRef, args: CollectArgs, wish: Wish) -> Reply | None:
    """``ok`` when both layers are clear on reading alone; only the call is recorded.

    Most asks have nothing to say: a new caller, or a known one with nothing near. They cost
    one or two reads and the call's row, with no transaction and no stored reply (a retry
    reads again and gets the same answer). None sends the request down the recording path
    (:func:`_checks` through ``usecase.decide``, which reads again in its transaction): a
    warning or refusal to record, an email to check and keep, a person only it can tell.
    """
    if args.customer_email or not args.customer_name:
        return None
    company, span = wish.company, wish.span
    phone = normalise_phone(call.from_number)
    async with ctx.driver.lane() as lane:
        found = await look_up(lane, company, phone, args.customer_name)
        if not found.certain:
            return None
        person = found.person
        if person is not None:
            request = request_for(company, person.id, wish.service.id, span)
            findings = await examine_on(lane, company, request, ctx.clock(), person.email)
            if not findings.clear:
                return None
        recorded = await record_call(
            ctx, lane, company, call, phone, None if person is None else person.id
        )
    callbacks.saw_call(call.call_id, recorded.link_status)
    if phone is None and recorded.customer_id is not None:  # the person this call named
        return None
    return Reply(Status.OK, requested_start=span.start.astimezone(company.tz))


async def _checks(
    ctx: Context,
    session: AsyncSession,
    company: Company,
    call: CallRef,
    args: CollectArgs,
    *,
    wish: Wish,
) -> Reply:
    """Layers 1 and 2 (replayed to a retry): ``ok``, or the warning or refusal."""
    # In the use case's transaction: the call and the person are recorded and both layers
    # decide on them, together with the idempotency claim and the stored reply.
    caller = await identify(
        ctx, session, company, call, name=args.customer_name, email=args.customer_email
    )
    found = await _examine(ctx, session, caller, wish.service, wish.span)
    local = wish.span.start.astimezone(company.tz)
    for decision, status in ((found.refusal, Status.REFUSED), (found.warning, Status.WARNING)):
        if decision.result is not Result.CLEAR:
            return decided(status, decision, customer_of(caller).id, company.tz, local)
    return Reply(Status.OK, requested_start=local)


async def _with_availability(ctx: Context, wish: Wish, checked: Reply) -> Reply:
    """``ok`` with ``availability`` free or unknown (slots unreadable), or the rule's or the
    calendar's refusal."""
    person = wish.person
    try:
        host = await host_for(ctx, wish.company, wish.service, wish.span, person)
    except CalendarUnreachable:  # book_appointment decides; never claim "free" unasked
        who = {} if person is None else {"staff": person.name}
        return replace(checked, facts={**checked.facts, **who, "availability": "unknown"})
    if isinstance(host, Reply):
        return host
    who = {} if host is None else {"staff": host.name}
    return replace(checked, facts={**checked.facts, **who, "availability": "free"})


async def _examine(
    ctx: Context, session: AsyncSession, caller: Caller, service: Service, span: TimeRange
) -> Findings:
    """Both layers for the request, with every warning or refusal recorded."""
    company, customer = caller.company, customer_of(caller)
    request = request_for(company, customer.id, service.id, span)
    where = decision_record(FUNCTION, caller, customer, service, span)
    found = await examine(session, company, request, ctx.clock(), customer.email)
    for decision in (found.refusal, found.warning):
        if decision.result is not Result.CLEAR:
            await record(ctx, session, decision, where)
    return found
