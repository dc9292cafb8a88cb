"""POST /calcom/webhook/{company}: verify, store first, answer 200, apply (Layer 3).

Every request that does not carry a valid signature for a configured company gets the same
404, whether the slug is unknown, has no secret, or the signature is wrong: nobody learns
which companies exist. The precise reason goes to the log. Slugs come from a small
per-process table refreshed at most every TARGETS_REFRESH_SECONDS, so unauthenticated
requests cannot make the database do work.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from pydantic import ValidationError

from slotguard.api.body import parse_json_object, read_limited
from slotguard.booking.calcom_events import CHANGES, apply_event
from slotguard.booking.context import Context
from slotguard.calcom_webhooks import WebhookBody, store_event, verify
from slotguard.observability import get_logger
from slotguard.store.companies import CompanyRepository

router = APIRouter(prefix="/calcom", tags=["calcom"])
log = get_logger("calcom_webhooks")

NOT_FOUND = "no Cal.com webhook here accepts this request"
# A new company (or a changed secret variable) is seen within this time; unknown slugs
# cost at most one query per this interval and process.
TARGETS_REFRESH_SECONDS = 5.0
# Longest slug we look up or log; the column holds 64.
_MAX_SLUG = 64


@dataclass
class _Targets:
    """Slug → (company id, name of its webhook secret variable), with when it was read."""

    by_slug: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    read_at: float = float("-inf")
    # Verifying against a throwaway secret when there is none keeps the timing uniform.
    decoy: str = field(default_factory=lambda: secrets.token_hex(32))


async def _targets(request: Request) -> _Targets:
    cache: _Targets | None = getattr(request.app.state, "calcom_targets", None)
    if cache is None:
        cache = request.app.state.calcom_targets = _Targets()
    if time.monotonic() - cache.read_at >= TARGETS_REFRESH_SECONDS:
        ctx: Context = request.state.ctx
        async with ctx.sessions() as session:
            found = await CompanyRepository(session).all()
        cache.by_slug = {c.slug: (c.id, c.calcom_webhook_secret_env) for c in found}
        cache.read_at = time.monotonic()
    return cache


@router.post("/webhook/{company}")
async def calcom_webhook(company: str, request: Request) -> dict[str, str]:
    """A Cal.com webhook for one company, signed with that company's webhook secret."""
    ctx: Context = request.state.ctx
    body = await read_limited(request)
    targets = await _targets(request)
    company_id, secret_env = targets.by_slug.get(company[: _MAX_SLUG + 1], (None, None))
    secret = ctx.secret(secret_env)
    problem = verify(body, secret or targets.decoy, request.headers.get("x-cal-signature-256"))
    if company_id is None:
        problem = "unknown company"
    elif not secret:
        problem = "no Cal.com webhook secret configured"
    if problem is not None or company_id is None:
        log.warning("calcom_webhook_refused", company=company[:_MAX_SLUG], problem=problem)
        raise HTTPException(404, NOT_FOUND)
    try:
        event = WebhookBody.model_validate(parse_json_object(body))
        if event.triggerEvent in CHANGES:
            event.booking()  # refused here rather than failing on every apply later
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise HTTPException(400, f"invalid Cal.com webhook: {where}: {first['msg']}") from None
    _observe_lag(ctx, event)
    stored = await store_event(ctx.sessions, ctx.clock(), company_id, event, body)
    if not stored.created:
        ctx.metrics.webhook_events.labels(
            provider="calcom", trigger=event.triggerEvent, outcome="duplicate"
        ).inc()
        return {"status": "duplicate"}
    outcome = await apply_event(ctx, stored.event_id)
    return {"status": outcome.value}


def _observe_lag(ctx: Context, event: WebhookBody) -> None:
    """How late the delivery is, measured from Cal.com's ``createdAt`` (when it parses)."""
    try:
        created = datetime.fromisoformat((event.createdAt or "").replace("Z", "+00:00"))
    except ValueError:
        return
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    lag = (ctx.clock() - created).total_seconds()
    ctx.metrics.webhook_lag.labels("calcom").observe(max(lag, 0.0))
