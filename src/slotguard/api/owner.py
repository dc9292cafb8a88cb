"""The salon owner's side of the dashboard: their login, their page, their two actions.

An owner signs in with their company's owner token (``slotguard owners token``) on the same
login form as the operator and gets the same kind of server-side session (``api.auth``),
with the subject ``owner:SLUG`` and the stored token hash as its credential, so a new token
signs the owner out. An owner sees only their
own company — any other slug is an unknown company to them — while the operator's session
sees every company, and can open the owner's page of any with ``?view=owner``.

The page speaks the owner's words ("Doppelte Buchungen verhindert", "Warnungen", "Anrufe";
no layers, no API time), shows the week's appointments with the person, findings that name
the customer, who to call back, and how Cal.com is doing. Its two actions go through the
same code as everyone else: a false positive is marked as the admin API marks it, and a
cancellation is the caller's cancellation (``booking.cancel.cancel_known``: Cal.com first).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from babel.dates import format_datetime
from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from slotguard.api.admin import mark_false_positive
from slotguard.api.auth import open_session, session_subject
from slotguard.booking.cancel import cancel_known
from slotguard.booking.context import Context
from slotguard.booking.replies import Status
from slotguard.booking.statistics import load_stats
from slotguard.domain import ACTIVE_STATUSES, Company, local_day, local_day_bounds
from slotguard.observability import get_logger
from slotguard.store.admin import AdminRepository, AppointmentFilter, DecisionFilter, NotAFinding
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.companies import CompanyRepository
from slotguard.store.owner_view import OwnerViewRepository
from slotguard.store.owners import company_for_token, owner_key
from slotguard.store.sessions import SessionRepository

# The dashboard session's subject for a company's owner: "owner:SLUG" (the operator's: "admin").
OWNER_SUBJECT = "owner:"
MAX_COOKIE_LENGTH = 128
WEEK_DAYS = 7
STATS_DAYS = 30
CALL_BACK_DAYS = 14

log = get_logger("owner")


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the operator (every company) or one company's owner."""

    company: str | None  # None: the operator

    @property
    def operator(self) -> bool:
        """True for the operator's session."""
        return self.company is None

    def may_see(self, slug: str) -> bool:
        """The operator sees every company, an owner only their own."""
        return self.company is None or self.company == slug


async def owner_login(ctx: Context, token: str) -> tuple[str, str] | None:
    """(slug, session cookie) when ``token`` is a company's owner token, else None."""
    async with ctx.sessions() as session:
        slug = await company_for_token(session, token)
        key_hash = None if slug is None else await owner_key(session, slug)
    if slug is None or key_hash is None:
        return None
    return slug, await open_session(ctx, key_hash, OWNER_SUBJECT + slug)


async def owner_from_session(ctx: Context, cookie: str | None) -> str | None:
    """The slug whose owner the unexpired session behind ``cookie`` belongs to, or None.

    The session's credential is the stored token hash: a new owner token ends it.
    """
    if not cookie or len(cookie) > MAX_COOKIE_LENGTH or not cookie.isascii():
        return None
    async with ctx.sessions() as session:
        found = await SessionRepository(session).live(
            hashlib.sha256(cookie.encode()).hexdigest(), ctx.clock()
        )
        subject = None if found is None else found[0]
        if subject is None or not subject.startswith(OWNER_SUBJECT):
            return None
        slug = subject.removeprefix(OWNER_SUBJECT)
        key_hash = await owner_key(session, slug)
    if key_hash is None or await session_subject(ctx, cookie, key_hash) != subject:
        return None
    return slug


async def company_view(ctx: Context, company: Company, lang: str) -> dict[str, Any]:
    """Everything the owner's page shows for ``company``."""
    now, tz = ctx.clock(), company.tz
    today = local_day_bounds(local_day(now, tz), tz)
    week_end = local_day_bounds(local_day(now, tz) + timedelta(days=WEEK_DAYS - 1), tz).end
    week = AppointmentFilter(
        company_id=company.id,
        statuses=tuple(sorted(s.value for s in ACTIVE_STATUSES)),
        starts_from=today.start,
        starts_to=week_end,
    )
    since = now - timedelta(days=STATS_DAYS)
    async with ctx.sessions() as session:
        admin = AdminRepository(session)
        owner = OwnerViewRepository(session)
        appointments = await admin.appointments(week, 200)
        keys = await owner.staff_keys(a.id for a in appointments)
        decisions = await admin.decisions(DecisionFilter(company.id, findings_only=True), 25)
        names = await owner.customer_names(d.customer_id for d in decisions)
        call_backs = await owner.call_backs(company.id, now - timedelta(days=CALL_BACK_DAYS))
        calls = await owner.calls_since(company.id, since)
        last_webhook = await owner.last_webhook(company.id)
    stats = await load_stats(ctx, DecisionFilter(company.id, made_from=since))
    days: dict[str, list[Any]] = {}
    for appointment in appointments:
        label = str(
            format_datetime(appointment.starts_at.astimezone(tz), "EEEE, d. MMMM", locale=lang)
        )
        days.setdefault(label, []).append(appointment)
    last_ok = ctx.metrics.calcom_last_ok.get(company.slug)
    staff_names = {member.key: member.name for member in company.staff}
    return {
        "week": days,
        "staff": {i: staff_names.get(key, key) for i, key in keys.items()},
        "decisions": [(d, names.get(d.customer_id) if d.customer_id else None) for d in decisions],
        "call_backs": call_backs,
        "prevented": stats.layer2_preventions + stats.layer3_catches,
        "warnings": stats.layer1_detections,
        "calls": calls,
        "calcom": {
            "uses": company.calendar == "calcom",
            "last_ok": None if last_ok is None else datetime.fromtimestamp(last_ok, UTC),
            "budget": ctx.metrics.calcom_budget_left.get(company.slug),
            "last_webhook": last_webhook,
        },
        "when": lambda at, pattern="EEE d. MMM, HH:mm": str(
            format_datetime(at.astimezone(tz), pattern, locale=lang)
        ),
    }


async def _owned_company(request: Request, slug: str, viewer: Viewer | None) -> Company | None:
    if viewer is None or not viewer.may_see(slug):
        return None
    ctx: Context = request.state.ctx
    async with ctx.sessions() as session:
        return await CompanyRepository(session).by_slug(slug)


def _back(slug: str, lang: str, anchor: str, notice: str | None = None) -> Response:
    query = f"?view=owner&lang={lang}" + (f"&notice={notice}" if notice else "")
    return RedirectResponse(f"/dashboard/companies/{slug}{query}#{anchor}", status_code=303)


async def false_positive_action(
    request: Request, slug: str, decision_id: int, note: str, viewer: Viewer | None, lang: str
) -> Response | None:
    """Mark one of the company's findings as false positive; None when not allowed."""
    company = await _owned_company(request, slug, viewer)
    if company is None:
        return None
    try:
        item = await mark_false_positive(request.state.ctx, decision_id, note or None, slug)
    except NotAFinding:
        return _back(slug, lang, "decisions", "not_a_finding")
    if item is None:
        return None
    log.info("salon_false_positive", company=slug, decision_id=decision_id)
    return _back(slug, lang, "decisions", "marked")


async def cancel_action(
    request: Request, slug: str, appointment_id: int, viewer: Viewer | None, lang: str
) -> Response | None:
    """Cancel one of the company's appointments the way a caller's cancel does."""
    company = await _owned_company(request, slug, viewer)
    if company is None:
        return None
    ctx: Context = request.state.ctx
    async with ctx.sessions() as session:
        target = await AppointmentRepository(session).get(appointment_id)
    if target is None or target.company_id != company.id:
        return None
    if target.status not in ACTIVE_STATUSES:
        return _back(slug, lang, "week", "not_active")
    who = "operator" if viewer is not None and viewer.operator else "owner"
    reply = await cancel_known(ctx, company, target, f"cancelled by the salon ({who})")
    log.info("salon_cancel", company=slug, appointment_id=appointment_id, status=reply.status.value)
    outcome = "cancelled" if reply.status is Status.CANCELLED else "calendar_unreachable"
    return _back(slug, lang, "week", outcome)
