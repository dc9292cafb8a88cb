"""Turning a call and its arguments into company, caller, service and requested time."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard import nlp_time, spoken
from slotguard.booking.context import Context
from slotguard.booking.errors import (
    AmbiguousService,
    InvalidArgument,
    UnknownService,
    UnknownTenant,
)
from slotguard.domain import Company, Customer, Service, TimeRange, name_key, pick
from slotguard.store.calls import CallRecord, CallRepository, record_on
from slotguard.store.companies import CompanyRepository
from slotguard.store.customers import CustomerRepository, household_on
from slotguard.store.driver import Lane, SessionLane

# Numbers are parsed in this region when the caller id lacks a country code.
DEFAULT_REGION = "DE"


@dataclass(frozen=True)
class CallRef:
    """What we know of the Retell call making the request."""

    call_id: str
    agent_id: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    started_at: datetime | None = None


@dataclass(frozen=True)
class Caller:
    """The resolved party of one request.

    ``customer`` is the person the request is about; ``household`` everyone who called from the
    caller's number (empty when the number is withheld: such a caller sees only what this call
    booked).
    """

    company: Company
    call_row_id: int
    customer: Customer | None
    household: tuple[Customer, ...] = ()


def customer_of(caller: Caller) -> Customer:
    """The caller's customer; a caller without phone, name or email cannot book."""
    if caller.customer is None:
        raise InvalidArgument("customer_name", "missing")
    return caller.customer


async def company_for(ctx: Context, call: CallRef) -> Company:
    """The company the call is routed to; raises UnknownTenant."""
    key = ("route", call.agent_id, call.to_number)
    company: Company | None = ctx.tenants.get(key)
    if company is None:
        async with ctx.sessions() as session:
            company = await CompanyRepository(session).resolve_route(call.agent_id, call.to_number)
        if company is None:
            raise UnknownTenant(call.agent_id, call.to_number)
        ctx.tenants.put(key, company)
    return company


# Pure; one call sends the same number with each of its function calls.
@lru_cache(maxsize=4096)
def normalise_phone(raw: str | None) -> str | None:
    """E.164 form of a caller id, or None when withheld, anonymous or invalid."""
    if not raw or not any(c.isdigit() for c in raw):
        return None
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


async def caller_for(
    ctx: Context,
    company: Company,
    call: CallRef,
    *,
    name: str | None = None,
    email: str | None = None,
    create: bool = True,
) -> Caller:
    """:func:`identify` in a transaction of its own."""
    async with ctx.sessions() as session, session.begin():
        return await identify(ctx, session, company, call, name=name, email=email, create=create)


async def identify(
    ctx: Context,
    session: AsyncSession,
    company: Company,
    call: CallRef,
    *,
    name: str | None = None,
    email: str | None = None,
    create: bool = True,
) -> Caller:
    """Record the call and identify the person: the phone's household, the name picks in it.

    Runs in the caller's transaction (``session``), so a use case can decide in the same one.
    An email is never a key to a person. A withheld number never maps to a shared
    placeholder: the person is the one this call already named, or a new one when ``create``.
    """
    now = ctx.clock()
    phone = normalise_phone(call.from_number)
    calls, customers = CallRepository(session), CustomerRepository(session)
    record = functools.partial(record_call, ctx, SessionLane(session), company, call, phone)
    if phone is not None:  # the person first: the call row is written linked to them
        customer, people = await customers.person(company.id, phone, name, email, now)
        call_row_id = (await record(customer.id)).id
        return Caller(company, call_row_id, customer, tuple(people))
    call_row_id, linked_id, _status = await record(None)
    withheld = await _withheld(customers, company, linked_id, name, email, create, now)
    if withheld is not None and linked_id != withheld.id:
        await calls.link(call_row_id, now, customer_id=withheld.id)
    return Caller(company, call_row_id, withheld)


async def record_call(
    ctx: Context,
    lane: Lane,
    company: Company,
    call: CallRef,
    phone: str | None,
    customer_id: int | None,
) -> CallRecord:
    """The call's row, recorded or touched and linked to ``customer_id`` when given, in one
    statement."""
    return await record_on(
        lane,
        call_id=call.call_id,
        company_id=company.id,
        agent_id=call.agent_id,
        from_number=phone or call.from_number,
        to_number=call.to_number,
        started_at=call.started_at,
        now=ctx.clock(),
        customer_id=customer_id,
    )


@dataclass(frozen=True)
class Lookup:
    """The person a request is about, found by reading only.

    ``person`` None is someone not recorded yet (no appointments, nothing to warn about);
    ``certain`` is False when only :func:`identify`, which may write, can tell who it is.
    """

    person: Customer | None
    certain: bool


async def look_up(lane: Lane, company: Company, phone: str | None, name: str) -> Lookup:
    """Who :func:`identify` would pick for ``phone`` and ``name``, without writing anything.

    A withheld number says nobody here (the call's own link decides, see the caller).
    """
    if phone is None:
        return Lookup(None, certain=True)
    first, people = await household_on(lane, company.id, phone)
    if first is None:  # a new number, or a household whose first person was erased
        return Lookup(None, certain=not people)
    chosen = pick([(p.name, p) for p in people], name)
    if chosen is not None:
        return Lookup(chosen, certain=True)
    if name_key(name) is None:
        return Lookup(first, certain=True)
    # A nameless first person would be given this name; anyone else is added as new.
    return Lookup(None, certain=first.name is not None)


async def _withheld(
    customers: CustomerRepository,
    company: Company,
    linked_id: int | None,
    name: str | None,
    email: str | None,
    create: bool,
    now: datetime,
) -> Customer | None:
    linked = None if linked_id is None else await customers.get(linked_id)
    if linked is not None and (not name or pick([(linked.name, linked)], name) is not None):
        return await customers.update_email(linked, email, now) if name else linked
    if create and (name or email):
        return await customers.create(company.id, name, email, now)
    return linked


def service_for(services: list[Service], requested: str | None) -> Service:
    """The service the caller means (see `spoken.services`); raises UnknownService or
    AmbiguousService (two services fit about equally: the agent asks which)."""
    offered = [s.name for s in services]
    if not requested or not requested.strip():
        raise UnknownService(requested or "", offered)
    names = [spoken.ServiceNames(s.name, (s.name, *s.aliases)) for s in services]
    try:
        meant = spoken.match_service(requested, names)
    except spoken.AmbiguousMatch as ambiguous:
        raise AmbiguousService(requested, offered, ambiguous.candidates) from None
    if meant is None:
        raise UnknownService(requested, offered)
    return next(s for s in services if s.name == meant)


def business_hours(company: Company) -> nlp_time.BusinessHours | None:
    """The widest daily opening span, used to read "halb drei" as 14:30."""
    spans = [pair for pairs in company.opening_hours.weekly.values() for pair in pairs]
    if not spans:
        return None
    return nlp_time.BusinessHours(min(o for o, _ in spans), max(c for _, c in spans))


# No salon books years ahead; the bound also keeps every derived day (the same-day window,
# the company's local day) inside the calendar's year 9999.
MAX_AHEAD = timedelta(days=5 * 366)


def requested_span(
    ctx: Context,
    company: Company,
    call: CallRef,
    service: Service,
    date_text: str | None,
    time_text: str | None,
) -> TimeRange:
    """The requested appointment as an aware range; raises InvalidArgument with the problem."""
    if not date_text or not str(date_text).strip():
        raise InvalidArgument("date", "missing")
    now = ctx.clock()
    try:
        start = nlp_time.resolve(
            str(date_text),
            None if time_text is None else str(time_text),
            now=now,
            tz=company.tz,
            hours=business_hours(company),
        )
    except nlp_time.TimeParseError as problem:
        if problem.kind is nlp_time.TimeParseErrorKind.MISSING_TIME:  # no time in either
            raise InvalidArgument("time", "missing") from None
        understood = None
        if problem.kind is nlp_time.TimeParseErrorKind.IN_PAST:
            understood = _moment_said(ctx, company, str(date_text), time_text)
        raise InvalidArgument(
            _field_of(problem), problem.kind.value, problem.phrase, requested_start=understood
        ) from None
    if not isinstance(start, datetime):  # require_time (the default) guarantees a time
        raise InvalidArgument("time", "missing_time")
    # Absolute time from here on: wall-clock arithmetic and fold=1 comparisons across zones
    # (PEP 495) would be wrong around DST switches.
    start = start.astimezone(UTC)
    if start - now > MAX_AHEAD:
        raise InvalidArgument("date", "too_far_ahead", date_text)
    return TimeRange(start, start + service.duration)


def _moment_said(
    ctx: Context, company: Company, date_text: str, time_text: str | None
) -> datetime | None:
    """The moment the phrases name, past or not; None when they name no time or no date."""
    try:
        said = nlp_time.resolve(
            date_text,
            time_text,
            now=ctx.clock(),
            tz=company.tz,
            hours=business_hours(company),
            allow_past=True,
            require_time=False,
        )
    except nlp_time.TimeParseError:
        return None
    return said if isinstance(said, datetime) else None


def names_a_time(ctx: Context, company: Company, date_text: str | None) -> bool:
    """Whether the date phrase carries a time too ("morgen um 14 Uhr", an ISO date-time)."""
    return bool(date_text) and _moment_said(ctx, company, str(date_text), None) is not None


def requested_day(ctx: Context, company: Company, date_text: str) -> TimeRange:
    """The whole local day named by ``date_text`` (for availability and queries)."""
    try:
        day = nlp_time.parse_date(str(date_text), today=ctx.clock().astimezone(company.tz).date())
    except nlp_time.TimeParseError as problem:
        raise InvalidArgument("date", problem.kind.value, problem.phrase) from None
    try:
        start = datetime.combine(day, time(0), tzinfo=company.tz)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=company.tz)
        return TimeRange(start, end)
    except OverflowError:  # the first or last day of year 1..9999 has no whole day in UTC
        raise InvalidArgument("date", "unparseable_date", date_text) from None


def _field_of(problem: nlp_time.TimeParseError) -> str:
    return "time" if problem.kind.value in ("unparseable_time", "missing_time") else "date"
