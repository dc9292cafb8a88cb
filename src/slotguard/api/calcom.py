"""POST /calcom/webhook/{company}: verify, store first, answer 200, apply (Layer 3)."""

from __future__ import annotations

import os

from fastapi import APIRouter, HTTPException, Request
from pydantic import ValidationError

from slotguard.api.body import parse_json_object, read_limited
from slotguard.booking.context import Context
from slotguard.calcom_webhooks import apply_event, store_event, verify
from slotguard.calcom_webhooks.payload import WebhookBody
from slotguard.observability import get_logger
from slotguard.store.companies import CompanyRepository

router = APIRouter(prefix="/calcom", tags=["calcom"])
log = get_logger("calcom_webhooks")


@router.post("/webhook/{company}")
async def calcom_webhook(company: str, request: Request) -> dict[str, str]:
    """A Cal.com webhook for one company, signed with that company's webhook secret."""
    ctx: Context = request.state.ctx
    async with ctx.sessions() as session:
        target = await CompanyRepository(session).by_slug(company)
    if target is None:
        raise HTTPException(404, f"unknown company {company!r}")
    secret_env = target.calcom_webhook_secret_env
    secret = os.environ.get(secret_env) if secret_env else None
    if not secret:
        raise HTTPException(404, f"company {company!r} has no Cal.com webhook secret configured")
    body = await read_limited(request)
    problem = verify(body, secret, request.headers.get("x-cal-signature-256"))
    if problem is not None:
        log.warning("calcom_signature_refused", company=company, problem=problem)
        raise HTTPException(401, problem)
    try:
        event = WebhookBody.model_validate(parse_json_object(body))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise HTTPException(400, f"invalid Cal.com webhook: {where}: {first['msg']}") from None
    stored = await store_event(ctx, target.id, event, body)
    if not stored.created:
        ctx.metrics.webhook_events.labels(
            provider="calcom", trigger=event.triggerEvent, outcome="duplicate"
        ).inc()
        return {"status": "duplicate"}
    return {"status": await apply_event(ctx, stored.event_id)}
