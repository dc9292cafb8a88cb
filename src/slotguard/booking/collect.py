"""collect_appointment_data: Layer 1 early warning, what Layer 2 would say, and availability."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from slotguard.booking import idempotency
from slotguard.booking.availability import services_of
from slotguard.booking.context import Context
from slotguard.booking.detect import examine, record, request_for
from slotguard.booking.offer import check_span, free_hosts, unavailable, wished_person
from slotguard.booking.replies import AppointmentView, Reply, Status
from slotguard.booking.resolve import CallRef, caller_for, company_for, requested_span
from slotguard.calendar import CalendarUnreachable
from slotguard.domain import Company, Result, Service, SuggestedAction, TimeRange
from slotguard.store.decisions import DecisionRecord

FUNCTION = "collect_appointment_data"
# Retell's retries of one tool call arrive within a minute (3 tries of our 20 s timeout); a
# later identical question is a new one whose answer may have changed (a booking since).
REPLAY_TTL = timedelta(minutes=5)


async def collect_appointment_data(
    ctx: Context,
    call: CallRef,
    *,
    customer_name: str | None,
    service: str | None,
    date: str | None,
    time: str | None,
    customer_email: str | None = None,
    staff: str | None = None,
) -> Reply:
    """Tell the agent at once about an existing appointment, a refusal, or a taken slot."""
    company = await company_for(ctx, call)
    args = {
        "customer_name": customer_name,
        "service": service,
        "date": date,
        "time": time,
        "customer_email": customer_email,
        "staff": staff,
    }

    async def work() -> Reply:
        chosen = await services_of(ctx, company, service)
        wished_person(company, chosen, staff)  # an unknown name is refused before anything else
        span = requested_span(ctx, company, call, chosen, date, time)
        caller = await caller_for(ctx, company, call, name=customer_name, email=customer_email)
        assert caller.customer is not None
        request = request_for(company, caller.customer.id, chosen.id, span)
        where = DecisionRecord(
            company.id,
            FUNCTION,
            caller.customer.id,
            caller.call_row_id,
            chosen.id,
            span.start,
            span.end,
        )
        local = span.start.astimezone(company.tz)
        async with ctx.sessions() as session, session.begin():
            found = await examine(session, company, request, ctx.clock())
            for decision in (found.refusal, found.warning):
                if decision.result is not Result.CLEAR:
                    await record(ctx, session, decision, where)
        for decision, status in ((found.refusal, Status.REFUSED), (found.warning, Status.WARNING)):
            if decision.result is not Result.CLEAR:
                existing = tuple(AppointmentView.of(a, company.tz) for a in decision.existing)
                action = SuggestedAction.CONFIRM_OR_RESCHEDULE if status is Status.WARNING else None
                return Reply(
                    status,
                    reason=decision.reason,
                    requested_start=local,
                    existing=existing,
                    suggested_action=action,
                )
        return Reply(Status.OK, requested_start=local)

    checked = await idempotency.run_once(
        ctx,
        company_id=company.id,
        call_id=call.call_id,
        function=FUNCTION,
        args=args,
        work=work,
        ttl=REPLAY_TTL,
    )
    if checked.status is not Status.OK:
        return checked
    # Availability is read afresh on every ask, never replayed: a start free a minute ago
    # may be taken now.
    chosen = await services_of(ctx, company, service)
    span = requested_span(ctx, company, call, chosen, date, time)
    return await _with_availability(ctx, company, chosen, span, staff, checked)


async def _with_availability(
    ctx: Context,
    company: Company,
    chosen: Service,
    span: TimeRange,
    staff: str | None,
    checked: Reply,
) -> Reply:
    """``ok`` with ``availability`` free or unknown (slots unreadable), or the rule's or the
    calendar's refusal."""
    person = wished_person(company, chosen, staff)
    try:
        host = await check_span(ctx, company, chosen, span, person)
        if isinstance(host, Reply):
            return host
        if host is None and not await free_hosts(ctx, company, chosen, span, None):
            return await unavailable(ctx, company, chosen, span, person)
    except CalendarUnreachable:  # book_appointment decides; never claim "free" unasked
        who = {} if person is None else {"staff": person.name}
        return replace(checked, facts={**checked.facts, **who, "availability": "unknown"})
    who = {} if host is None else {"staff": host.name}
    return replace(checked, facts={**checked.facts, **who, "availability": "free"})
