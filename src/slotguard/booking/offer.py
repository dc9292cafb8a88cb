"""What a company can offer: the salon's rules first, then who of its staff is free when.

Every function that asks about a time (check, collect, book, reschedule) comes here before
any calendar call, for the local calendar and Cal.com alike:
  1. the rules (closures, holidays, notice, horizon, hours, grid) — no calendar is asked
     when they already say no;
  2. the hosts — the people who offer the service (the wished one, or all of them), or the
     company itself when it names no staff — each asked for its free starts;
  3. alternatives — allowed, free starts nearest the wish, with the person who is free.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rapidfuzz import fuzz

from slotguard.booking.context import Context
from slotguard.booking.errors import UnknownStaff
from slotguard.booking.replies import Reply, Status
from slotguard.calendar import AvailabilityUnknown, CalendarProvider, CalendarUnreachable
from slotguard.calendar.local import LocalCalendar
from slotguard.domain import Company, Reason, Service, TimeRange
from slotguard.domain.salon import StaffMember
from slotguard.domain.schedule import ScheduleProblem, allowed_starts, problem

# How many alternatives the agent reads out; more is hard to follow on the phone.
MAX_ALTERNATIVES = 3
# How far ahead to look for alternatives when the requested day is full or closed.
ALTERNATIVE_DAYS = 14
# A spoken name this similar to a person's name or alias picks that person ("Ana" → Anna).
NAME_SCORE = 85
# Words a caller uses for "anyone is fine".
_ANYONE = {
    "egal",
    "egal wer",
    "ist egal",
    "irgendwer",
    "irgendjemand",
    "jemand",
    "keine praeferenz",
    "keine vorliebe",
    "any",
    "anyone",
    "anybody",
    "whoever",
    "no preference",
    "doesnt matter",
    "does not matter",
}
_PREFIX = re.compile(r"^(?:bei|mit|zu|von|with|by|at)\s+(?:der|dem|frau|herrn?|mr|mrs|ms)?\s*")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "'": ""})


@dataclass(frozen=True, slots=True)
class Offer:
    """A start the company can offer, and the person free then (None: no staff named)."""

    start: datetime
    person: StaffMember | None = None


def fold_name(text: str) -> str:
    """Case, umlauts, accents and spacing folded: "  Bei  Änne " → "bei aenne"."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_UMLAUTS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s-]", " ", text).split())


def wished_person(company: Company, service: Service, wish: str | None) -> StaffMember | None:
    """The person the caller asked for, or None for anyone; raises UnknownStaff listing the
    people who offer the service when the name fits nobody who does."""
    if not wish or not company.staff:
        return None
    spoken = _PREFIX.sub("", fold_name(wish)).strip()
    if not spoken or spoken in _ANYONE or fold_name(wish) in _ANYONE:
        return None
    offering = company.staff_for(service)
    best: tuple[float, StaffMember] | None = None
    for person in offering:
        for name in (person.name, *person.aliases):
            folded = fold_name(name)
            score = 100.0 if spoken in (folded, folded.split()[0]) else fuzz.ratio(spoken, folded)
            if best is None or score > best[0]:
                best = (score, person)
    if best is None or best[0] < NAME_SCORE:
        raise UnknownStaff(wish, [p.name for p in offering])
    return best[1]


def rule_problem(
    ctx: Context, company: Company, service: Service, span: TimeRange
) -> ScheduleProblem | None:
    """The salon rule ``span`` breaks, before any calendar is asked (None: all kept)."""
    rules = company.rules_for(service)
    return problem(rules, company.opening_hours, company.tz, span, ctx.clock())


def hosts(company: Company, service: Service, wish: StaffMember | None) -> list[StaffMember | None]:
    """Whom to ask: the wished person, else everyone offering the service, else the company."""
    if wish is not None:
        return [wish]
    offering = company.staff_for(service)
    return list(offering) if company.staff else [None]


async def free_hosts(
    ctx: Context,
    company: Company,
    service: Service,
    span: TimeRange,
    wish: StaffMember | None,
) -> list[StaffMember | None]:
    """The hosts free for exactly ``span`` (raises CalendarUnreachable when none could say).

    Free means the calendar offers that start, or the starts it offers around it together cover
    the span: Cal.com lists starts on a grid of the event type's length but books any start
    whose span is free, so collect answers what book will find. The local calendar is asked
    about the span itself.
    """
    calendar = ctx.calendar(company)
    if isinstance(calendar, LocalCalendar):  # it answers for the span itself, as it books
        buffer = company.rules_for(service).buffer
        return [
            host
            for host in hosts(company, service, wish)
            if await calendar.span_free(
                span, staff_key=None if host is None else host.key, buffer=buffer
            )
        ]
    length = span.end - span.start
    around = TimeRange(span.start - length, span.end + length)
    hosts_by_key: dict[str | None, StaffMember | None] = {}
    starts: dict[str | None, list[datetime]] = {}
    for offer in await offers_in(ctx, company, service, around, wish):
        key = None if offer.person is None else offer.person.key
        hosts_by_key[key] = offer.person
        starts.setdefault(key, []).append(offer.start)
    return [hosts_by_key[key] for key, free in starts.items() if _covers(free, length, span)]


def _covers(starts: list[datetime], length: timedelta, span: TimeRange) -> bool:
    """Whether free slots ``[s, s + length)`` leave no gap inside ``span``."""
    if span.start in starts:
        return True
    reach = span.start
    for start in sorted(starts):
        if start > reach:
            return False
        reach = max(reach, start + length)
        if reach >= span.end:
            return True
    return False


async def alternatives(
    ctx: Context,
    company: Company,
    service: Service,
    wish: datetime,
    person: StaffMember | None = None,
) -> tuple[Offer, ...]:
    """Up to three allowed, free starts nearest ``wish``: that day first, then the next days.

    With a wished person, their own starts come first and the earliest start of anyone else
    that day (or later) is added, so the agent can say "bei Anna erst um 15, bei Jonas um 11".
    """
    day_start = datetime.combine(
        wish.astimezone(company.tz).date(), datetime.min.time(), tzinfo=company.tz
    )
    for days in (1, ALTERNATIVE_DAYS):
        window = TimeRange(day_start, day_start + timedelta(days=days))
        try:
            offers = await offers_in(ctx, company, service, window, None)
        except CalendarUnreachable:
            return ()
        offers = [o for o in offers if o.start != wish or (person and o.person != person)]
        if person is not None:
            found = _with_person(offers, person, wish)
            if found:
                return found
            continue
        if offers:
            return _nearest(first_per_start(offers), wish, MAX_ALTERNATIVES)
    return ()


async def offers_in(
    ctx: Context,
    company: Company,
    service: Service,
    window: TimeRange,
    wish: StaffMember | None,
) -> list[Offer]:
    """Allowed starts in ``window`` per host, from each host's calendar."""
    calendar = ctx.calendar(company)
    rules = company.rules_for(service)
    found: list[Offer] = []
    failures: list[CalendarUnreachable] = []
    candidates = hosts(company, service, wish)
    for host in candidates:
        try:
            starts = await _free(calendar, window, service, host, rules.buffer)
        except CalendarUnreachable as problem:
            failures.append(problem)
            continue
        allowed = allowed_starts(
            starts, service.duration, rules, company.opening_hours, company.tz, ctx.clock()
        )
        found.extend(Offer(s, host) for s in allowed)
    if candidates and len(failures) == len(candidates):
        if all(isinstance(f, AvailabilityUnknown) for f in failures):
            raise AvailabilityUnknown("no host's free slots can be looked up now")
        raise CalendarUnreachable("no host's calendar could be read")
    return sorted(found, key=lambda o: o.start)


async def _free(
    calendar: CalendarProvider,
    window: TimeRange,
    service: Service,
    host: StaffMember | None,
    buffer: timedelta,
) -> list[datetime]:
    return await calendar.free_slots(
        window=window,
        duration_minutes=service.duration_minutes,
        event_type_id=event_type_for(service, host),
        staff_key=None if host is None else host.key,
        buffer=buffer,
    )


def event_type_for(service: Service, person: StaffMember | None) -> int | None:
    """The Cal.com event type of ``service`` with ``person`` (the service's own by default)."""
    if person is None:
        return service.calcom_event_type_id
    return person.event_types.get(service.name.casefold(), service.calcom_event_type_id)


async def unavailable(
    ctx: Context,
    company: Company,
    service: Service,
    span: TimeRange,
    person: StaffMember | None,
    found: ScheduleProblem | None = None,
    reason: Reason = Reason.SLOT_TAKEN,
) -> Reply:
    """``unavailable`` for ``span`` with the rule broken (or ``reason``) and alternatives."""
    anchor = span.start
    horizon = company.rules_for(service).horizon_days
    if found is not None and found.reason is Reason.TOO_FAR and horizon is not None:
        # Nothing lies near a wish beyond the horizon: offer the last days inside it.
        anchor = ctx.clock() + timedelta(days=horizon - 1)
    others = await alternatives(ctx, company, service, anchor, person)
    facts = alternative_facts(others)
    if found is not None:
        facts.update(problem_facts(found))
    if person is not None:
        facts["staff"] = person.name
    return Reply(
        Status.UNAVAILABLE,
        reason=found.reason if found is not None else reason,
        requested_start=span.start.astimezone(company.tz),
        alternatives=tuple(o.start.astimezone(company.tz) for o in others),
        facts=facts,
    )


async def check_span(
    ctx: Context,
    company: Company,
    service: Service,
    span: TimeRange,
    person: StaffMember | None,
) -> StaffMember | Reply | None:
    """The host to book ``span`` with, or the ``unavailable`` reply.

    The rules are checked first, without any calendar call. A company without staff has
    one host (None), whose calendar decides at booking time; with staff, the wished person
    or the first person free then is chosen by asking their calendars.
    """
    found = rule_problem(ctx, company, service, span)
    if found is not None:
        return await unavailable(ctx, company, service, span, person, found)
    if not company.staff:
        return None
    free = await free_hosts(ctx, company, service, span, person)
    if not free:
        away = person is not None and not person.works(span, company)
        return await unavailable(
            ctx,
            company,
            service,
            span,
            person,
            reason=Reason.STAFF_OFF if away else Reason.SLOT_TAKEN,
        )
    return free[0]


def staff_facts(company: Company, staff_key: str | None) -> dict[str, Any]:
    """``{"staff": name}`` for the person who serves an appointment, when there is one."""
    person = company.person(staff_key)
    return {} if person is None else {"staff": person.name}


def alternative_facts(offers: tuple[Offer, ...]) -> dict[str, Any]:
    """Reply fields for alternatives: the local starts, and who is free then when staff exist."""
    facts: dict[str, Any] = {}
    if any(o.person is not None for o in offers):
        facts["alternative_staff"] = [o.person.name if o.person else None for o in offers]
    return facts


def problem_facts(found: ScheduleProblem) -> dict[str, Any]:
    """Reply fields that say why the day is closed (a holiday's name or a closure's label)."""
    closed = found.closed
    if closed is None:
        return {}
    facts: dict[str, Any] = {"closed_date": closed.day.isoformat()}
    if closed.holiday:
        facts["holiday"] = closed.holiday
    if closed.label:
        facts["closure"] = closed.label
    return facts


def event_type_uses(company: Company, services: list[Service]) -> dict[int, list[str]]:
    """Which service (and person) each Cal.com event type books, as the tenants file says."""
    uses: dict[int, list[str]] = {}
    for service in services:
        for person in (None, *company.staff_for(service)):
            event_type = event_type_for(service, person)
            if event_type is None or (
                person is not None and event_type == service.calcom_event_type_id
            ):
                continue
            label = service.name if person is None else f"{service.name} with {person.name}"
            uses.setdefault(event_type, []).append(label)
    return uses


def _with_person(offers: list[Offer], person: StaffMember, wish: datetime) -> tuple[Offer, ...]:
    own = [o for o in offers if o.person == person]
    others = [o for o in offers if o.person != person]
    picked = list(_nearest(own, wish, MAX_ALTERNATIVES - (1 if others else 0)))
    if others:
        picked.append(min(others, key=lambda o: (abs((o.start - wish).total_seconds()), o.start)))
    return tuple(sorted(picked, key=lambda o: o.start)) if own or others else ()


def first_per_start(offers: list[Offer]) -> list[Offer]:
    seen: dict[datetime, Offer] = {}
    for offer in offers:
        seen.setdefault(offer.start, offer)
    return list(seen.values())


def _nearest(offers: list[Offer], wish: datetime, count: int) -> tuple[Offer, ...]:
    nearest = sorted(offers, key=lambda o: (abs((o.start - wish).total_seconds()), o.start))
    return tuple(sorted(nearest[:count], key=lambda o: o.start))
