"""The operator dashboard at /dashboard: server-rendered HTML (Jinja2, autoescaped), no build.

Login posts the admin token once (throttled per client address); the session cookie is a
random value whose session lives in the database and ends on logout (see ``auth``). Pages
are per company: today's and upcoming appointments, the layers' counters, a 14-day chart of
findings and the decisions timeline, in German or English.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from fastapi import APIRouter, Form, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from starlette.templating import Jinja2Templates

from slotguard.api.auth import (
    ADMIN_OFF,
    SESSION_COOKIE,
    SESSION_SECONDS,
    close_session,
    configured_token,
    login_wait,
    open_session,
    record_login,
    session_subject,
    token_matches,
)
from slotguard.api.owner import (
    Viewer,
    cancel_action,
    company_view,
    false_positive_action,
    owner_from_session,
    owner_login,
)
from slotguard.booking.context import Context
from slotguard.booking.statistics import load_stats
from slotguard.domain import ACTIVE_STATUSES, Company, local_day, local_day_bounds
from slotguard.observability import get_logger
from slotguard.settings import Settings
from slotguard.store.admin import AdminRepository, AppointmentFilter, DecisionFilter
from slotguard.store.calcom_state import SyncRepository
from slotguard.store.companies import CompanyRepository

router = APIRouter(prefix="/dashboard", include_in_schema=False)
log = get_logger("dashboard")
_HERE = Path(__file__).parent
_templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,  # every value is escaped, names and notes included
        undefined=jinja2.StrictUndefined,
    )
)
_CSS = (_HERE / "static" / "dashboard.css").read_text(encoding="utf-8")
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
CHART_DAYS = 14
STATS_DAYS = 30
UPCOMING_DAYS = 14
_LANGUAGES = ("de", "en")


@dataclass(frozen=True)
class Bar:
    """One day of the chart: its label and the findings per layer."""

    label: str
    layers: tuple[int, int, int]

    @property
    def total(self) -> int:
        """Findings of all layers that day."""
        return sum(self.layers)


def chart(times: list[tuple[datetime, int]], now: datetime, tz: ZoneInfo, lang: str) -> list[Bar]:
    """Findings per local day and layer for the CHART_DAYS days ending today."""
    today = local_day(now, tz)
    counts = Counter((local_day(at, tz), layer) for at, layer in times)
    days = [today - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    pattern = "d.M." if lang == "de" else "M/d"
    return [
        Bar(str(format_date(d, pattern, locale=lang)), (counts[d, 1], counts[d, 2], counts[d, 3]))
        for d in days
    ]


def _lang(request: Request, company: Company | None = None) -> str:
    asked = request.query_params.get("lang")
    if asked in _LANGUAGES:
        return asked
    if company is not None:
        return company.language.value
    accept = request.headers.get("accept-language", "")
    return "de" if accept.lower().startswith("de") else "en"


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    lang = context.get("lang", "en")
    page = {"request": request, "t": TEXT[lang], "lang": lang, **context}
    response = _templates.TemplateResponse(request, name, page, status_code=status)
    response.headers.update(_HEADERS)
    return response


async def _gate(request: Request, *, page: bool = True) -> Response | None:
    """Why this request may not go on (admin off, not signed in) as a page, or None."""
    settings: Settings = request.state.settings
    if settings.admin_token is None:
        text = {"lang": _lang(request), "heading": "404", "text": ADMIN_OFF}
        return _render(request, "message.html", text, status=404)
    if not page:
        return None
    ctx: Context = request.state.ctx
    cookie = request.cookies.get(SESSION_COOKIE)
    if await session_subject(ctx, cookie, settings.admin_token.get_secret_value()) is not None:
        return None
    return _to_login(request)


async def viewer(request: Request) -> Viewer | None:
    """The operator (a session opened with the admin token) or a company's owner."""
    settings: Settings = request.state.settings
    ctx: Context = request.state.ctx
    cookie = request.cookies.get(SESSION_COOKIE)
    if settings.admin_token is not None:
        admin = settings.admin_token.get_secret_value()
        if await session_subject(ctx, cookie, admin) is not None:
            return Viewer(None)
    slug = await owner_from_session(ctx, cookie)
    return None if slug is None else Viewer(slug)


def _to_login(request: Request) -> Response:
    lang = request.query_params.get("lang")
    suffix = f"?lang={lang}" if lang in _LANGUAGES else ""
    return RedirectResponse(f"/dashboard/login{suffix}", status_code=303)


@router.get("/assets/dashboard.css")
async def stylesheet() -> Response:
    """The dashboard's one stylesheet."""
    return Response(_CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/login")
async def login_page(request: Request) -> Response:
    """The login form."""
    if (stop := await _gate(request, page=False)) is not None:
        return stop
    return _render(request, "login.html", {"lang": _lang(request), "failed": False})


@router.post("/login")
async def login(request: Request, token: Annotated[str, Form(max_length=512)]) -> Response:
    """Check the admin token; on success set the session cookie and go to the dashboard."""
    if (stop := await _gate(request, page=False)) is not None:
        return stop
    lang = _lang(request)
    ctx: Context = request.state.ctx
    client = request.client.host if request.client is not None else "unknown"
    if (wait := await login_wait(ctx, client)) is not None:
        log.warning("login_throttled", client=client)
        response = _render(request, "login.html", {"lang": lang, "failed": True}, status=429)
        response.headers["Retry-After"] = str(wait)
        return response
    if not token_matches(token, configured_token(request)):
        owner = await owner_login(ctx, token)
        await record_login(ctx, client, succeeded=owner is not None)
        if owner is None:
            log.warning("login_failed", client=client)
            return _render(request, "login.html", {"lang": lang, "failed": True}, status=401)
        slug, cookie = owner
        response = RedirectResponse(f"/dashboard/companies/{slug}", status_code=303)
        return _with_session(response, cookie, request)
    await record_login(ctx, client, succeeded=True)
    cookie = await open_session(ctx, configured_token(request))
    response = RedirectResponse(f"/dashboard?lang={lang}", status_code=303)
    return _with_session(response, cookie, request)


def _with_session(response: Response, cookie: str, request: Request) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=SESSION_SECONDS,
        path="/dashboard",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session on the server (a copied cookie dies too) and remove the cookie."""
    await close_session(request.state.ctx, request.cookies.get(SESSION_COOKIE))
    response = _to_login(request)
    response.delete_cookie(SESSION_COOKIE, path="/dashboard", httponly=True, samesite="strict")
    return response


@router.get("")
async def companies(request: Request) -> Response:
    """The companies to choose from (straight to the page when there is only one)."""
    who = await _signed_in(request)
    if isinstance(who, Response):
        return who
    if who.company is not None:
        return RedirectResponse(f"/dashboard/companies/{who.company}", status_code=303)
    ctx: Context = request.state.ctx
    async with ctx.sessions() as session:
        found = await CompanyRepository(session).all()
    if len(found) == 1:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/dashboard/companies/{found[0].slug}{query}", status_code=303)
    return _render(request, "companies.html", {"lang": _lang(request), "companies": found})


@router.get("/companies/{slug}")
async def company_page(slug: str, request: Request) -> Response:
    """One company: the owner's page for its owner (and the operator with ``?view=owner``),
    else the operator's: counters, chart, today's and upcoming appointments, decisions."""
    who = await _signed_in(request)
    if isinstance(who, Response):
        return who
    ctx: Context = request.state.ctx
    async with ctx.sessions() as session:
        company = await CompanyRepository(session).by_slug(slug) if who.may_see(slug) else None
    if company is None:
        return _unknown_company(request, slug)
    lang = _lang(request, company)
    if not who.operator or request.query_params.get("view") == "owner":
        page = await company_view(ctx, company, lang)
        notice = request.query_params.get("notice")
        extra = {"company": company, "operator": who.operator, "notice": notice, **page}
        return _render(request, "owner.html", {"lang": lang, **extra, "labels": LABELS[lang]})
    view = await _company_view(ctx, company, lang)
    return _render(request, "company.html", {"lang": lang, "company": company, **view})


def _unknown_company(request: Request, slug: str) -> Response:
    text = {"lang": _lang(request), "heading": "404", "text": f"unknown company {slug!r}"}
    return _render(request, "message.html", text, status=404)


@router.post("/companies/{slug}/decisions/{decision_id}/false-positive")
async def false_positive(
    slug: str,
    decision_id: Annotated[int, PathParam(ge=1, le=2**62)],
    request: Request,
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Mark one of the company's findings as a false positive (owner or operator)."""
    who = await _signed_in(request)
    if isinstance(who, Response):
        return who
    lang = _lang(request)
    done = await false_positive_action(request, slug, decision_id, note.strip(), who, lang)
    return done or _unknown_company(request, slug)


async def _signed_in(request: Request) -> Viewer | Response:
    """The viewer, or the page to send them to (dashboard off, or not signed in)."""
    if (stop := await _gate(request, page=False)) is not None:
        return stop
    who = await viewer(request)
    return _to_login(request) if who is None else who


@router.post("/companies/{slug}/appointments/{appointment_id}/cancel")
async def cancel(
    slug: str, appointment_id: Annotated[int, PathParam(ge=1, le=2**62)], request: Request
) -> Response:
    """Cancel one of the company's appointments: in Cal.com first, then here."""
    who = await _signed_in(request)
    if isinstance(who, Response):
        return who
    done = await cancel_action(request, slug, appointment_id, who, _lang(request))
    return done or _unknown_company(request, slug)


async def _company_view(ctx: Context, company: Company, lang: str) -> dict[str, Any]:
    now, tz = ctx.clock(), company.tz
    today = local_day_bounds(local_day(now, tz), tz)
    upcoming = AppointmentFilter(
        company_id=company.id,
        statuses=tuple(sorted(s.value for s in ACTIVE_STATUSES)),
        starts_from=today.end,
        starts_to=today.end + timedelta(days=UPCOMING_DAYS),
    )
    chart_start = local_day_bounds(local_day(now, tz) - timedelta(days=CHART_DAYS - 1), tz).start
    async with ctx.sessions() as session:
        repo = AdminRepository(session)
        todays = await repo.appointments(
            AppointmentFilter(company.id, starts_from=today.start, starts_to=today.end), 100
        )
        later = await repo.appointments(upcoming, 25)
        callbacks = await repo.callbacks(company.id, 50)
        decisions = await repo.decisions(DecisionFilter(company.id, findings_only=True), 25)
        times = await repo.decision_times(company.id, chart_start)
        sync = await SyncRepository(session).last_run(company.id)
    stats = await load_stats(
        ctx, DecisionFilter(company.id, made_from=now - timedelta(days=STATS_DAYS))
    )
    bars = chart(times, now, tz, lang)
    return {
        "today": todays,
        "upcoming": later,
        "sync": sync if sync is not None and sync.last_run_at is not None else None,
        "callbacks": callbacks,
        "decisions": decisions,
        "stats": stats,
        "bars": bars,
        "bar_max": max([b.total for b in bars] + [1]),
        "when": lambda at, pattern="EEE d. MMM, HH:mm": str(
            format_datetime(at.astimezone(tz), pattern, locale=lang)
        ),
        "day_label": str(format_datetime(now.astimezone(tz), "EEEE, d. MMMM y", locale=lang)),
        "saved": _duration(stats.api_time_saved_seconds, lang),
        "fp_rate": "–"
        if stats.false_positive_rate is None
        else str(format_percent(stats.false_positive_rate, "#,##0.0 %", locale=lang)),
        "labels": LABELS[lang],
    }


def _duration(seconds: float, lang: str) -> str:
    if seconds < 120:
        return f"{format_decimal(round(seconds, 1), locale=lang)} s"
    return f"{format_decimal(round(seconds / 60, 1), locale=lang)} min"


TEXT: dict[str, dict[str, str]] = {
    "de": {
        "title": "Übersicht",
        "login": "Anmelden",
        "token": "Admin-Token",
        "login_hint": "Den Wert von SLOTGUARD_ADMIN_TOKEN eingeben.",
        "login_failed": "Dieses Token ist nicht gültig.",
        "logout": "Abmelden",
        "companies": "Betriebe",
        "today": "Termine heute",
        "upcoming": "Kommende Termine",
        "sync": "Kalender-Abgleich",
        "sync_never": "Noch nicht gelaufen.",
        "sync_last": "Zuletzt",
        "sync_found": "Gefunden",
        "callbacks": "Rückruf nötig",
        "callbacks_hint": "Diese Anrufer hörten „wird bestätigt“, die Buchung scheiterte.",
        "none": "Keine Termine.",
        "decisions": "Entscheidungen",
        "no_decisions": "Noch keine Funde.",
        "layer1": "Ebene 1: Warnungen",
        "layer2": "Ebene 2: verhindert",
        "layer3": "Ebene 3: abgefangen",
        "avoided": "Kalender-Aufrufe gespart",
        "saved": "API-Zeit gespart",
        "fp_rate": "Fehlalarm-Quote",
        "last_days": "letzte 30 Tage",
        "chart": "Funde pro Tag (14 Tage)",
        "time": "Zeit",
        "customer": "Kunde",
        "service": "Leistung",
        "status": "Status",
        "layer": "Ebene",
        "reason": "Grund",
        "action": "Aktion",
        "false_positive": "Fehlalarm",
        "estimated": "geschätzt",
        "owner_period": "letzte 30 Tage",
        "operator_view": "Betreiber-Ansicht",
        "owner_prevented": "Doppelte Buchungen verhindert",
        "owner_warnings": "Warnungen",
        "owner_calls": "Anrufe",
        "owner_findings": "Hinweise zu Kunden",
        "call_backs": "Rückruf nötig",
        "no_call_backs": "Niemand wartet auf einen Rückruf.",
        "failed_after_pending": "Buchung nach „wird bestätigt“ fehlgeschlagen",
        "anonymous_not_booked": "anonymer Anruf, nichts gebucht",
        "unknown_caller": "Unbekannt",
        "week": "Termine dieser Woche",
        "with_staff": "bei",
        "cancel": "Absagen",
        "mark_false_positive": "Fehlalarm",
        "calcom": "Cal.com-Verbindung",
        "calcom_last_ok": "Letzte erfolgreiche Anfrage",
        "calcom_budget": "Freie Anfragen (pro Minute)",
        "calcom_last_webhook": "Letzter Webhook",
        "calcom_local": "Dieser Betrieb bucht im eigenen Kalender, nicht in Cal.com.",
        "never": "noch nie",
        "notice_marked": "Als Fehlalarm markiert.",
        "notice_cancelled": "Termin abgesagt – auch in Cal.com.",
        "notice_calendar_unreachable": "Cal.com nicht erreichbar: Termin nicht abgesagt.",
        "notice_not_active": "Dieser Termin ist nicht mehr aktiv.",
        "notice_not_a_finding": "Das war kein Hinweis.",
    },
    "en": {
        "title": "Overview",
        "login": "Sign in",
        "token": "Admin token",
        "login_hint": "Enter the value of SLOTGUARD_ADMIN_TOKEN.",
        "login_failed": "That token is not valid.",
        "logout": "Sign out",
        "companies": "Companies",
        "today": "Today's appointments",
        "upcoming": "Upcoming appointments",
        "sync": "Calendar sync",
        "sync_never": "Not run yet.",
        "sync_last": "Last run",
        "sync_found": "Found",
        "callbacks": "Needs a call back",
        "callbacks_hint": 'These callers heard "being confirmed" and the booking failed.',
        "none": "No appointments.",
        "decisions": "Decisions",
        "no_decisions": "No findings yet.",
        "layer1": "Layer 1: warnings",
        "layer2": "Layer 2: prevented",
        "layer3": "Layer 3: caught",
        "avoided": "Calendar calls avoided",
        "saved": "API time saved",
        "fp_rate": "False-positive rate",
        "last_days": "last 30 days",
        "chart": "Findings per day (14 days)",
        "time": "Time",
        "customer": "Customer",
        "service": "Service",
        "status": "Status",
        "layer": "Layer",
        "reason": "Reason",
        "action": "Action",
        "false_positive": "false positive",
        "estimated": "estimated",
        "owner_period": "last 30 days",
        "operator_view": "operator view",
        "owner_prevented": "Double bookings prevented",
        "owner_warnings": "Warnings",
        "owner_calls": "Calls",
        "owner_findings": "Notes on customers",
        "call_backs": "Needs a call back",
        "no_call_backs": "Nobody is waiting for a call back.",
        "failed_after_pending": "booking failed after \u201cbeing confirmed\u201d",
        "anonymous_not_booked": "anonymous call, nothing booked",
        "unknown_caller": "Unknown",
        "week": "This week's appointments",
        "with_staff": "with",
        "cancel": "Cancel",
        "mark_false_positive": "False alarm",
        "calcom": "Cal.com connection",
        "calcom_last_ok": "Last successful request",
        "calcom_budget": "Requests left (per minute)",
        "calcom_last_webhook": "Last webhook",
        "calcom_local": "This business books in its own calendar, not in Cal.com.",
        "never": "never",
        "notice_marked": "Marked as a false alarm.",
        "notice_cancelled": "Appointment cancelled, in Cal.com too.",
        "notice_calendar_unreachable": "Cal.com is unreachable: the appointment was not cancelled.",
        "notice_not_active": "This appointment is no longer active.",
        "notice_not_a_finding": "That was not a finding.",
    },
}

LABELS: dict[str, dict[str, str]] = {
    "de": {
        "same_day": "Termin am selben Tag",
        "same_service_upcoming": "gleiche Leistung bald gebucht",
        "exact_duplicate": "exaktes Duplikat",
        "overlapping": "Überschneidung",
        "daily_limit": "Tageslimit erreicht",
        "known_booking_uid": "Buchung schon bekannt",
        "reservation_matched": "Reservierung zugeordnet",
        "external_duplicate": "externes Duplikat",
        "warning": "gewarnt",
        "overridden": "trotzdem gebucht",
        "blocked": "abgelehnt",
        "linked": "verknüpft",
        "ignored": "ignoriert",
        "flagged": "markiert",
        "pending": "ausstehend",
        "booked": "gebucht",
        "scheduled": "geplant",
        "confirmed": "bestätigt",
        "cancelled": "storniert",
        "rescheduled": "verschoben",
        "failed": "fehlgeschlagen",
        "no_show": "nicht erschienen",
        "completed": "erledigt",
    },
    "en": {
        "same_day": "same-day appointment",
        "same_service_upcoming": "same service booked soon",
        "exact_duplicate": "exact duplicate",
        "overlapping": "overlapping",
        "daily_limit": "daily limit reached",
        "known_booking_uid": "booking already known",
        "reservation_matched": "reservation matched",
        "external_duplicate": "external duplicate",
        "overridden": "booked anyway",
        "no_show": "no-show",
    },
}
