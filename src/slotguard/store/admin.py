"""Read queries of the admin API and the dashboard: keyset pages, filters and counters."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from slotguard.store.sql import required
from slotguard.store.tables import (
    AppointmentRow,
    CallRow,
    CompanyRow,
    CustomerRow,
    DuplicateDecisionRow,
    ServiceRow,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Keyset = tuple[datetime, int]
_T = TypeVar("_T", bound="DataclassInstance")
_D = DuplicateDecisionRow


class NotAFinding(ValueError):
    """A ``clear`` decision found nothing, so it cannot be a false positive."""


def _after(
    at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[int],
    position: Keyset | None,
    descending: bool,
) -> list[ColumnElement[bool]]:
    if position is None:
        return []
    when, last = position
    if descending:
        return [or_(at < when, and_(at == when, row_id < last))]
    return [or_(at > when, and_(at == when, row_id > last))]


def _span(
    column: InstrumentedAttribute[datetime], start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    found = [] if start is None else [column >= start]
    return found if end is None else [*found, column < end]


@dataclass(frozen=True)
class AppointmentFilter:
    """Which appointments to list: starts in ``[starts_from, starts_to)``."""

    company_id: int | None = None
    customer_id: int | None = None
    statuses: tuple[str, ...] = ()
    starts_from: datetime | None = None
    starts_to: datetime | None = None


@dataclass(frozen=True)
class DecisionFilter:
    """Which decisions to list: made in ``[made_from, made_to)``."""

    company_id: int | None = None
    layer: int | None = None
    result: str | None = None
    reason: str | None = None
    made_from: datetime | None = None
    made_to: datetime | None = None
    findings_only: bool = False  # leave out clear decisions and webhook echoes


@dataclass(frozen=True)
class ServiceItem:
    """A service as the admin API shows it."""

    id: int
    name: str
    aliases: list[str]
    duration_minutes: int
    calcom_event_type_id: int | None
    active: bool


@dataclass(frozen=True)
class CustomerItem:
    """A customer; ``forgotten_at`` is set once their personal data was erased."""

    id: int
    company: str
    name: str | None
    phone: str | None
    email: str | None
    forgotten_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class AppointmentItem:
    """An appointment with its service and customer names."""

    id: int
    company: str
    customer_id: int
    customer_name: str | None
    service: str
    starts_at: datetime
    ends_at: datetime
    status: str
    source: str
    calcom_booking_uid: str | None
    call_row_id: int | None
    deleted_at: datetime | None


@dataclass(frozen=True)
class CallbackItem:
    """A booking that failed after the caller heard "being confirmed": whom to call back."""

    appointment_id: int
    company: str
    customer_name: str | None
    phone: str | None
    email: str | None
    service: str
    starts_at: datetime
    failure_reason: str | None
    failed_at: datetime


@dataclass(frozen=True)
class DecisionItem:
    """One duplicate-detection decision of the audit trail."""

    id: int
    company: str
    created_at: datetime
    function: str
    layer: int
    result: str
    reason: str
    action: str
    customer_id: int | None
    call_row_id: int | None
    service: str | None
    requested_start: datetime | None
    existing_appointment_id: int | None
    false_positive: bool
    note: str | None


@dataclass(frozen=True)
class CallItem:
    """One Retell call and what it led to."""

    id: int
    call_id: str
    company: str
    agent_id: str | None
    from_number: str | None
    customer_id: int | None
    appointment_id: int | None
    appointment_link_status: str
    call_status: str | None
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime


class AdminRepository:
    """Read-mostly SQL behind /api/v1 and /dashboard. Flushes only; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def services(self, company_id: int) -> list[ServiceItem]:
        """Every service of a company, inactive ones included (old appointments use them)."""
        query = select(ServiceRow).where(ServiceRow.company_id == company_id)
        rows = await self.session.scalars(query.order_by(ServiceRow.name))
        return [_item(ServiceItem, r, aliases=list(r.aliases or ())) for r in rows]

    async def customers(
        self, company_id: int | None, search: str | None, limit: int, after: int | None
    ) -> list[CustomerItem]:
        """Customers by id; ``search`` matches part of the name or of the phone number."""
        c = CustomerRow
        query = select(c, CompanyRow.slug).join(CompanyRow, CompanyRow.id == c.company_id)
        query = query.where(c.id > (after or 0))
        if company_id is not None:
            query = query.where(c.company_id == company_id)
        if search:
            query = query.where(_matches(search))
        rows = await self.session.execute(query.order_by(c.id).limit(limit))
        return [_item(CustomerItem, r, company=slug, phone=r.phone_e164) for r, slug in rows]

    async def appointments(
        self, where: AppointmentFilter, limit: int, after: Keyset | None = None
    ) -> list[AppointmentItem]:
        """Appointments by (starts_at, id), the page after ``after``."""
        a = AppointmentRow
        query = _appointment_query().where(
            *_span(a.starts_at, where.starts_from, where.starts_to),
            *_after(a.starts_at, a.id, after, descending=False),
        )
        if where.company_id is not None:
            query = query.where(a.company_id == where.company_id)
        if where.customer_id is not None:
            query = query.where(a.customer_id == where.customer_id)
        if where.statuses:
            query = query.where(a.status.in_(where.statuses), a.deleted_at.is_(None))
        rows = await self.session.execute(query.order_by(a.starts_at, a.id).limit(limit))
        return [_appointment(*row) for row in rows]

    async def callbacks(self, company_id: int | None, limit: int) -> list[CallbackItem]:
        """Failed-after-pending bookings not yet called back, oldest failure first."""
        a = AppointmentRow
        query = (
            select(a, ServiceRow.name, CustomerRow, CompanyRow.slug)
            .join(ServiceRow, ServiceRow.id == a.service_id)
            .join(CustomerRow, CustomerRow.id == a.customer_id)
            .join(CompanyRow, CompanyRow.id == a.company_id)
            .where(a.needs_callback.is_(True), a.called_back_at.is_(None))
        )
        if company_id is not None:
            query = query.where(a.company_id == company_id)
        rows = await self.session.execute(query.order_by(a.updated_at, a.id).limit(limit))
        return [
            CallbackItem(
                appointment_id=row.id,
                company=slug,
                customer_name=person.name,
                phone=person.phone_e164 or person.household_phone,
                email=person.email,
                service=service,
                starts_at=row.starts_at,
                failure_reason=row.failure_reason,
                failed_at=row.updated_at,
            )
            for row, service, person, slug in rows
        ]

    async def decisions(
        self, where: DecisionFilter, limit: int, after: Keyset | None = None
    ) -> list[DecisionItem]:
        """Decisions newest first by (created_at, id), the page after ``after``."""
        query = _decision_query(where).where(*_after(_D.created_at, _D.id, after, descending=True))
        query = query.order_by(_D.created_at.desc(), _D.id.desc()).limit(limit)
        return [_decision(*row) for row in await self.session.execute(query)]

    async def calls(
        self, company_id: int | None, limit: int, after: Keyset | None = None
    ) -> list[CallItem]:
        """Retell calls newest first by (created_at, id), the page after ``after``."""
        c = CallRow
        query = select(c, CompanyRow.slug).join(CompanyRow, CompanyRow.id == c.company_id)
        if company_id is not None:
            query = query.where(c.company_id == company_id)
        query = query.where(*_after(c.created_at, c.id, after, descending=True))
        query = query.order_by(c.created_at.desc(), c.id.desc()).limit(limit)
        return [_item(CallItem, r, company=slug) for r, slug in await self.session.execute(query)]

    async def decision_counts(self, where: DecisionFilter) -> dict[tuple[int, str, str, bool], int]:
        """Number of decisions per (layer, result, reason, false_positive)."""
        columns = (_D.layer, _D.result, _D.reason, _D.false_positive)
        query = select(*columns, func.count()).where(*_decision_filter(where)).group_by(*columns)
        rows = await self.session.execute(query)
        return {(int(lay), res, why, bool(fp)): int(n) for lay, res, why, fp, n in rows}

    async def warnings_not_pursued(self, where: DecisionFilter) -> int:
        """Layer 1 warnings whose request never reached Layer 2: no booking attempt, no call.

        A request is one (customer, call, requested start); an agent override or any Layer 2
        decision for it means the booking went ahead, so its calendar call was not avoided.
        """
        later = aliased(DuplicateDecisionRow)
        pursued = exists().where(
            later.customer_id == _D.customer_id,
            later.call_row_id.is_not_distinct_from(_D.call_row_id),
            later.requested_start == _D.requested_start,
            or_(later.layer == 2, later.action == "overridden"),
        )
        warned = (
            select(_D.customer_id, _D.call_row_id, _D.requested_start)
            .where(*_decision_filter(where), _D.layer == 1, _D.action == "warning", ~pursued)
            .distinct()
            .subquery()
        )
        return int(await self.session.scalar(select(func.count()).select_from(warned)) or 0)

    async def decision_times(self, company_id: int, since: datetime) -> list[tuple[datetime, int]]:
        """(created_at, layer) of every finding (see ``_findings``) since ``since``."""
        query = select(_D.created_at, _D.layer).where(
            _D.company_id == company_id, _D.created_at >= since, *_findings()
        )
        return [(at, int(layer)) for at, layer in await self.session.execute(query)]

    async def mark_false_positive(
        self, decision_id: int, note: str | None
    ) -> tuple[DecisionItem, bool] | None:
        """Mark a finding as a false positive; returns (decision, newly marked) or None.

        The conditional UPDATE makes "newly marked" true exactly once however often it is
        sent, so the false-positive counter is not inflated by repeats. Raises NotAFinding.
        """
        result = await self.session.scalar(select(_D.result).where(_D.id == decision_id))
        if result is None:
            return None
        if result == "clear":
            raise NotAFinding(
                f"decision {decision_id} is clear: it found nothing to be wrong about"
            )
        changed = await self.session.execute(
            update(_D)
            .where(_D.id == decision_id, _D.false_positive == false())
            .values(false_positive=True)
        )
        if note is not None:
            await self.session.execute(update(_D).where(_D.id == decision_id).values(note=note))
        item = required(await self.decision(decision_id), f"decision {decision_id}")
        return item, bool(getattr(changed, "rowcount", 0))

    async def decision(self, decision_id: int) -> DecisionItem | None:
        """One decision by id."""
        query = _decision_query(DecisionFilter()).where(_D.id == decision_id)
        row = (await self.session.execute(query)).first()
        return None if row is None else _decision(*row)


def _item(cls: type[_T], row: object, **extra: object) -> _T:
    """An item from the row's same-named attributes, with ``extra`` for joined values."""
    names = [f.name for f in fields(cls)]
    return cls(**{n: extra[n] if n in extra else getattr(row, n) for n in names})


def _appointment(
    row: AppointmentRow, service: str, customer: str | None, slug: str
) -> AppointmentItem:
    return _item(
        AppointmentItem,
        row,
        company=slug,
        customer_name=customer,
        service=service,
        call_row_id=row.call_row_id,
    )


def _decision(row: DuplicateDecisionRow, service: str | None, slug: str) -> DecisionItem:
    return _item(DecisionItem, row, company=slug, service=service, call_row_id=row.call_row_id)


def _matches(search: str) -> ColumnElement[bool]:
    text = search.strip().lower()
    # "0151 234…" is how people type the national form of "+49151234…".
    digits = "".join(c for c in text if c.isdigit()).lstrip("0")
    clauses = [func.lower(CustomerRow.name).contains(text, autoescape=True)]
    if len(digits) >= 3:
        clauses.append(CustomerRow.phone_e164.contains(digits, autoescape=True))
    return or_(*clauses)


def _appointment_query() -> Select[AppointmentRow, str, str | None, str]:
    a = AppointmentRow
    return (
        select(a, ServiceRow.name, CustomerRow.name, CompanyRow.slug)
        .join(ServiceRow, ServiceRow.id == a.service_id)
        .join(CustomerRow, CustomerRow.id == a.customer_id)
        .join(CompanyRow, CompanyRow.id == a.company_id)
    )


def _decision_query(where: DecisionFilter) -> Select[DuplicateDecisionRow, str | None, str]:
    return (
        select(_D, ServiceRow.name, CompanyRow.slug)
        .join(CompanyRow, CompanyRow.id == _D.company_id)
        .outerjoin(ServiceRow, ServiceRow.id == _D.service_id)
        .where(*_decision_filter(where))
    )


def _decision_filter(where: DecisionFilter) -> list[ColumnElement[bool]]:
    found = _span(_D.created_at, where.made_from, where.made_to)
    wanted: list[tuple[Any, object]] = [
        (_D.company_id, where.company_id),
        (_D.layer, where.layer),
        (_D.result, where.result),
        (_D.reason, where.reason),
    ]
    found += [column == value for column, value in wanted if value is not None]
    return [*found, *_findings()] if where.findings_only else found


def _findings() -> list[ColumnElement[bool]]:
    # A webhook echoing a booking we already linked is routine, not a finding.
    return [_D.result != "clear", _D.reason != "known_booking_uid"]
