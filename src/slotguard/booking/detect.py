"""Running Layers 1 and 2 for a request, and recording every decision (row, log, metric)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.booking.context import Context
from slotguard.booking.replies import Reply, Status, decision_reply
from slotguard.booking.resolve import Caller
from slotguard.domain import (
    Action,
    Appointment,
    BookingRequest,
    Company,
    Customer,
    Decision,
    Layer,
    Reason,
    Result,
    Service,
    TimeRange,
    early_warning,
    refusal,
    search_window,
)
from slotguard.observability import get_logger
from slotguard.store.appointments import for_rules_on
from slotguard.store.customers import same_email_on
from slotguard.store.decisions import DecisionRecord, DecisionRepository
from slotguard.store.driver import Lane, SessionLane

log = get_logger("duplicates")


@dataclass(frozen=True)
class Findings:
    """What both layers say about one request, from one query."""

    warning: Decision
    refusal: Decision
    existing: list[Appointment]

    @property
    def clear(self) -> bool:
        """Neither layer has anything to say (nothing to record)."""
        return self.warning.result is Result.CLEAR and self.refusal.result is Result.CLEAR


async def examine(
    session: AsyncSession,
    company: Company,
    request: BookingRequest,
    now: datetime,
    email: str | None = None,
) -> Findings:
    """Fetch the person's relevant appointments in one round trip and apply both layers.

    With ``email``, the appointments of everyone who gave that email count as well.
    """
    return await examine_on(SessionLane(session), company, request, now, email)


async def examine_on(
    lane: Lane,
    company: Company,
    request: BookingRequest,
    now: datetime,
    email: str | None = None,
) -> Findings:
    """:func:`examine` on a lane (store.driver): in a transaction or, reading only, outside."""
    tz = company.tz
    if email:
        others = await same_email_on(lane, company.id, email)
        request = replace(request, same_email=frozenset(others) - {request.customer_id})
    window = search_window(request, now=now, tz=tz, window_days=company.same_service_window_days)
    people = [request.customer_id, *sorted(request.same_email)]
    existing = await for_rules_on(lane, company.id, people, window)
    return Findings(
        warning=early_warning(
            request, existing, now=now, tz=tz, window_days=company.same_service_window_days
        ),
        refusal=refusal(request, existing, tz=tz, daily_limit=company.max_appointments_per_day),
        existing=existing,
    )


async def record(
    ctx: Context,
    session: AsyncSession,
    decision: Decision,
    where: DecisionRecord,
) -> None:
    """Write the audit row, log ``DUPLICATE_DETECTION`` and count the metric."""
    await DecisionRepository(session).record(decision, where, ctx.clock())
    existing = decision.first_existing
    log.info(
        "DUPLICATE_DETECTION",
        layer=int(decision.layer),
        result=decision.result.value,
        reason=decision.reason.value,
        action=decision.action.value,
        function=where.function,
        company_id=where.company_id,
        customer_id=where.customer_id,
        call_row_id=where.call_row_id,
        requested_start=None
        if where.requested_start is None
        else where.requested_start.isoformat(),
        existing_appointment_id=None if existing is None else existing.id,
    )
    ctx.metrics.duplicate_decisions.labels(
        layer=str(int(decision.layer)),
        result=decision.result.value,
        reason=decision.reason.value,
        action=decision.action.value,
    ).inc()


async def record_layer3(
    ctx: Context,
    session: AsyncSession,
    function: str,
    existing: Appointment,
    reason: Reason,
    result: Result,
    action: Action,
    incoming: Appointment | None = None,
) -> None:
    """Record a Layer 3 decision about ``existing`` (and the ``incoming`` booking, if new)."""
    decision = Decision(Layer.POST_BOOKING, result, reason, action, (existing,))
    subject = incoming or existing
    where = DecisionRecord(
        subject.company_id,
        function,
        subject.customer_id,
        None,
        subject.service_id,
        subject.span.start,
        subject.span.end,
    )
    await record(ctx, session, decision, where)


def decision_record(
    function: str, caller: Caller, customer: Customer, service: Service, span: TimeRange
) -> DecisionRecord:
    """Where a Layer 1 or 2 decision about the caller's requested ``span`` is made."""
    return DecisionRecord(
        caller.company.id,
        function,
        customer.id,
        caller.call_row_id,
        service.id,
        span.start,
        span.end,
    )


def request_for(
    company: Company,
    customer_id: int,
    service_id: int,
    span: TimeRange,
    ignore_appointment_id: int | None = None,
) -> BookingRequest:
    """A BookingRequest for the rules."""
    return BookingRequest(
        company_id=company.id,
        customer_id=customer_id,
        service_id=service_id,
        start=span.start,
        end=span.end,
        ignore_appointment_id=ignore_appointment_id,
    )


def decided(
    status: Status, decision: Decision, customer_id: int, tz: ZoneInfo, local: datetime
) -> Reply:
    """The refused or warning reply for ``decision``, naming only the person's own appointments.

    When another person's appointment matched through the same email, the reply says only that
    this email has an appointment then (``existing_hidden``), never when or what.
    """
    reply = decision_reply(decision, status, local, tz)
    if all(a.customer_id == customer_id for a in decision.existing):
        return reply
    return replace(reply, existing=(), facts={**reply.facts, "existing_hidden": True})
