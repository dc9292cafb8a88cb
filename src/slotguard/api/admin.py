"""The admin API under /api/v1: read companies, customers, appointments, decisions, calls, stats.

Every route needs ``Authorization: Bearer $SLOTGUARD_ADMIN_TOKEN`` (see ``auth``). Lists are
keyset-paginated: pass ``next_cursor`` back as ``cursor``; ``limit`` is 1–200. Phone numbers
and email addresses are masked in list output unless ``reveal=true``, which is logged.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field, ValidationError

from slotguard.api.auth import require_admin
from slotguard.api.body import parse_json_object, read_limited
from slotguard.booking.callbacks import mark_called_back
from slotguard.booking.context import Context
from slotguard.booking.statistics import Stats, load_stats
from slotguard.domain import AppointmentStatus, Reason, Result
from slotguard.observability import get_logger, mask_phone, mask_text
from slotguard.store.admin import (
    AdminRepository,
    AppointmentFilter,
    AppointmentItem,
    CallbackItem,
    CallItem,
    CustomerItem,
    DecisionFilter,
    DecisionItem,
    Keyset,
    NotAFinding,
    ServiceItem,
)
from slotguard.store.companies import CompanyRepository

router = APIRouter(prefix="/api/v1", tags=["admin"], dependencies=[Depends(require_admin)])
log = get_logger("admin")

# Ids are BIGINT: a larger number can match nothing and would overflow the database's type.
MAX_ID = 2**63 - 1
# Cursors we issue are about 80 characters; slugs are at most 64 (companies.slug).
MAX_CURSOR_LENGTH = 512
SLUG_LENGTH = 64
Limit = Annotated[int, Query(ge=1, le=200, description="page size, at most 200")]
Cursor = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page"),
]
CompanySlug = Annotated[str | None, Query(max_length=SLUG_LENGTH, description="company slug")]
Reveal = Annotated[bool, Query(description="show phone numbers and emails unmasked (logged)")]
From = Annotated[datetime | None, Query(alias="from", description="ISO 8601 with offset")]
To = Annotated[datetime | None, Query(alias="to", description="ISO 8601 with offset, exclusive")]
T = TypeVar("T")
_I = TypeVar("_I", CustomerItem, AppointmentItem, DecisionItem, CallItem, CallbackItem)


class Page(BaseModel, Generic[T]):
    """One page of a listing; ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: str | None


class CompanyOut(BaseModel):
    """A company as the admin API shows it; Cal.com secrets only by env var name."""

    slug: str
    name: str
    timezone: str
    language: str
    calendar: str
    max_appointments_per_day: int
    same_service_window_days: int
    calcom_api_key_env: str | None
    calcom_webhook_secret_env: str | None


class FalsePositive(BaseModel):
    """Body of POST /decisions/{id}/false-positive."""

    note: str | None = Field(default=None, max_length=2000)


def encode_cursor(kind: str, position: Keyset | int) -> str:
    """An opaque cursor for listing ``kind`` continuing after ``position``."""
    at, row_id = (None, position) if isinstance(position, int) else position
    raw = json.dumps([kind, at and at.isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> tuple[datetime | None, int] | None:
    """The position of a cursor of listing ``kind``; 400 for anything else."""
    if cursor is None:
        return None
    try:
        name, at, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if name != kind or type(row_id) is not int or not 0 <= row_id <= MAX_ID:
            raise ValueError(name)
        position = None if at is None else datetime.fromisoformat(at)
        if position is not None and position.tzinfo is None:
            raise ValueError(at)
        return position, row_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise HTTPException(
            400, f"invalid cursor for {kind}: pass next_cursor of the previous page unchanged"
        ) from None


def _keyset(kind: str, cursor: str | None) -> Keyset | None:
    position = decode_cursor(kind, cursor)
    if position is None:
        return None
    at, row_id = position
    if at is None:
        raise HTTPException(400, f"invalid cursor for {kind}: it belongs to another listing")
    return at, row_id


async def _company_id(request: Request, slug: str | None) -> int | None:
    if slug is None:
        return None
    ctx: Context = request.state.ctx
    async with ctx.sessions() as session:
        company = await CompanyRepository(session).by_slug(slug)
    if company is None:
        raise HTTPException(404, f"unknown company {slug!r}")
    return company.id


def _aware(name: str, value: datetime | None, after: datetime | None = None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise HTTPException(400, f"{name!r} needs a UTC offset, e.g. 2026-11-25T00:00:00+01:00")
    try:
        value = None if value is None else value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant Python has
        raise HTTPException(400, f"{name!r} is outside the years 1 to 9999 in UTC") from None
    if value is not None and after is not None and after.tzinfo is not None and value <= after:
        raise HTTPException(400, "'to' must be later than 'from'")
    return value


def _page(kind: str, items: list[_I], limit: int, key: Callable[[_I], Keyset | int]) -> Page[_I]:
    cursor = encode_cursor(kind, key(items[-1])) if items and len(items) == limit else None
    return Page[_I](items=items, next_cursor=cursor)


def _masked(request: Request, items: list[_I], reveal: bool) -> list[_I]:
    if reveal:
        # Which filters were used, never their values: a searched number is personal data.
        params = request.query_params
        log.info(
            "admin_reveal",
            path=request.url.path,
            company=params.get("company", "")[:SLUG_LENGTH] or None,
            params=sorted({name[:32] for name in params}),
            revealed=len(items),
        )
        return items
    return [replace(i, **_masks(vars(i))) for i in items]


def _masks(values: dict[str, object]) -> dict[str, Any]:
    found = {
        k: mask_phone(v) for k in ("phone", "from_number") if isinstance(v := values.get(k), str)
    }
    email = values.get("email")
    return found | ({"email": mask_text(email)} if isinstance(email, str) else {})


@router.get("/companies", summary="List companies")
async def companies(request: Request) -> list[CompanyOut]:
    """Every company (tenant) with its settings; secrets appear only as env var names."""
    ctx: Context = request.state.ctx
    async with ctx.sessions() as session:
        found = await CompanyRepository(session).all()
    return [CompanyOut.model_validate(c, from_attributes=True) for c in found]


@router.get("/companies/{slug}/services", summary="List a company's services")
async def services(
    slug: Annotated[str, Path(max_length=SLUG_LENGTH)], request: Request
) -> list[ServiceItem]:
    """Every service of the company, inactive ones included."""
    company_id = await _company_id(request, slug) or 0  # a slug always names one, or 404
    async with request.state.ctx.sessions() as session:
        return await AdminRepository(session).services(company_id)


@router.get("/customers", summary="Search customers")
async def customers(
    request: Request,
    company: CompanySlug = None,
    q: Annotated[str | None, Query(max_length=100, description="part of name or phone")] = None,
    reveal: Reveal = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[CustomerItem]:
    """Customers oldest first, optionally of one company and matching ``q``."""
    company_id = await _company_id(request, company)
    position = decode_cursor("customers", cursor)
    after = None if position is None else position[1]
    async with request.state.ctx.sessions() as session:
        items = await AdminRepository(session).customers(company_id, q, limit, after)
    page = _page("customers", items, limit, lambda i: i.id)
    return Page[CustomerItem](items=_masked(request, items, reveal), next_cursor=page.next_cursor)


@router.get("/appointments", summary="List appointments")
async def appointments(
    request: Request,
    company: CompanySlug = None,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: AppointmentStatus | None = None,
    start: From = None,
    end: To = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[AppointmentItem]:
    """Appointments by start time, filtered; ``from``/``to`` bound the start time."""
    where = AppointmentFilter(
        company_id=await _company_id(request, company),
        customer_id=customer_id,
        statuses=() if status is None else (status.value,),
        starts_from=_aware("from", start),
        starts_to=_aware("to", end, after=start),
    )
    after = _keyset("appointments", cursor)
    async with request.state.ctx.sessions() as session:
        items = await AdminRepository(session).appointments(where, limit, after)
    return _page("appointments", items, limit, lambda i: (i.starts_at, i.id))


@router.get("/decisions", summary="List duplicate-detection decisions")
async def decisions(
    request: Request,
    company: CompanySlug = None,
    layer: Annotated[int | None, Query(ge=1, le=3)] = None,
    result: Result | None = None,
    reason: Reason | None = None,
    start: From = None,
    end: To = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[DecisionItem]:
    """The audit trail newest first; ``from``/``to`` bound the decision time."""
    where = await _decision_filter(request, company, start, end)
    where = replace(
        where,
        layer=layer,
        result=None if result is None else result.value,
        reason=None if reason is None else reason.value,
    )
    after = _keyset("decisions", cursor)
    async with request.state.ctx.sessions() as session:
        items = await AdminRepository(session).decisions(where, limit, after)
    return _page("decisions", items, limit, lambda i: (i.created_at, i.id))


@router.post(
    "/decisions/{decision_id}/false-positive",
    summary="Mark a false positive",
    # The body is read by parse_json_object (depth, number and text limits), so its schema
    # is declared here rather than inferred from a parameter.
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": FalsePositive.model_json_schema()}},
        }
    },
)
async def false_positive(
    decision_id: Annotated[int, Path(ge=1, le=MAX_ID)], request: Request
) -> DecisionItem:
    """Mark a Layer 1/2/3 finding as a false positive (idempotent; the note is replaced)."""
    body = await _false_positive_body(request)
    try:
        item = await mark_false_positive(request.state.ctx, decision_id, body.note)
    except NotAFinding as problem:
        raise HTTPException(409, str(problem)) from None
    if item is None:
        raise HTTPException(404, f"no decision {decision_id}")
    return item


async def mark_false_positive(
    ctx: Context, decision_id: int, note: str | None, company: str | None = None
) -> DecisionItem | None:
    """Mark a finding false positive (idempotent), counted once; None when there is no such
    decision (of the company with slug ``company``, when given). NotAFinding when clear."""
    async with ctx.sessions() as session, session.begin():
        repo = AdminRepository(session)
        found = await repo.decision(decision_id)
        if found is None or (company is not None and found.company != company):
            return None
        marked = await repo.mark_false_positive(decision_id, note)
    if marked is None:
        return None
    item, newly = marked
    if newly:
        ctx.metrics.false_positives.labels(layer=str(item.layer), reason=item.reason).inc()
        log.info("false_positive", decision_id=decision_id, layer=item.layer, reason=item.reason)
    return item


async def _false_positive_body(request: Request) -> FalsePositive:
    raw = await read_limited(request)
    if not raw.strip():
        return FalsePositive()
    try:
        return FalsePositive.model_validate(parse_json_object(raw))
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise HTTPException(422, f"{where}: {first['msg']}") from None


@router.get("/calls", summary="List Retell calls")
async def calls(
    request: Request,
    company: CompanySlug = None,
    reveal: Reveal = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[CallItem]:
    """Retell calls newest first, with their customer and appointment links."""
    company_id = await _company_id(request, company)
    after = _keyset("calls", cursor)
    async with request.state.ctx.sessions() as session:
        items = await AdminRepository(session).calls(company_id, limit, after)
    page = _page("calls", items, limit, lambda i: (i.created_at, i.id))
    return Page[CallItem](items=_masked(request, items, reveal), next_cursor=page.next_cursor)


@router.get("/callbacks", summary="Bookings that need a call back")
async def callbacks(
    request: Request, company: CompanySlug = None, reveal: Reveal = False, limit: Limit = 200
) -> list[CallbackItem]:
    """Bookings that failed after the caller heard "being confirmed", oldest first."""
    company_id = await _company_id(request, company)
    async with request.state.ctx.sessions() as session:
        items = await AdminRepository(session).callbacks(company_id, limit)
    return _masked(request, items, reveal)


@router.post("/callbacks/{appointment_id}/done", summary="Mark a call back as done")
async def callback_done(
    appointment_id: Annotated[int, Path(ge=1, le=MAX_ID)], request: Request
) -> dict[str, int | str]:
    """The salon reached the caller: the booking leaves the list (idempotent)."""
    ctx: Context = request.state.ctx
    if not await mark_called_back(ctx, appointment_id):
        raise HTTPException(404, f"appointment {appointment_id} needs no call back")
    log.info("callback_done", appointment_id=appointment_id)
    return {"appointment_id": appointment_id, "status": "called_back"}


@router.get("/stats", summary="Duplicate-prevention counters")
async def stats(
    request: Request, company: CompanySlug = None, start: From = None, end: To = None
) -> Stats:
    """Layer 1/2/3 counters, calendar calls avoided, API time saved and false-positive rate."""
    return await load_stats(request.state.ctx, await _decision_filter(request, company, start, end))


async def _decision_filter(
    request: Request, company: str | None, start: datetime | None, end: datetime | None
) -> DecisionFilter:
    return DecisionFilter(
        company_id=await _company_id(request, company),
        made_from=_aware("from", start),
        made_to=_aware("to", end, after=start),
    )
