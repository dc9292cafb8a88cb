"""Retell endpoints: custom-function calls and call lifecycle webhooks."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette import routing
from starlette.types import Scope

from slotguard.api.body import parse_json_object, read_limited
from slotguard.api.errors import reply_for
from slotguard.booking import callbacks
from slotguard.booking.call_events import record_call_event
from slotguard.booking.context import Context
from slotguard.booking.errors import BookingError, UnknownTenant
from slotguard.booking.replies import Reply
from slotguard.booking.resolve import company_for
from slotguard.calendar import CalendarUnreachable, waiting
from slotguard.observability import get_logger
from slotguard.retell import messages, signature
from slotguard.retell.dispatch import FUNCTIONS, call_ref
from slotguard.retell.schemas import FunctionCall, LifecycleEvent
from slotguard.settings import Settings

router = APIRouter(prefix="/retell", tags=["retell"])
log = get_logger("retell")


async def _verified_body(request: Request) -> bytes:
    body = await read_limited(request)
    settings: Settings = request.state.settings
    if settings.retell_api_key is None:
        return body
    key = settings.retell_api_key.get_secret_value()
    problem = signature.verify(
        body, key, request.headers.get("x-retell-signature"), int(time.time() * 1000)
    )
    if problem is not None:
        log.warning("retell_signature_refused", problem=problem, path=request.url.path)
        raise HTTPException(401, problem)
    return body


def _function_call(data: dict[str, Any]) -> FunctionCall:
    if "call" not in data:
        raise HTTPException(
            400,
            "payload has no 'call' object: switch the Retell tool from 'Payload: args only' "
            "to the default wrapped payload {name, call, args}",
        )
    try:
        return FunctionCall.model_validate(data)
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise HTTPException(
            400, f"invalid function call payload: {where}: {first['msg']}"
        ) from None


# Served as a plain Starlette route (``create_app``), below FastAPI's dependency layer: on the
# busiest endpoint that layer cost a tenth of a call's CPU and has nothing to do here (the body
# is read, verified and parsed by hand; the name is the path's). Errors still go through the
# app's exception handlers, and the route template still labels the HTTP metric.
class FunctionRoute(routing.Route):
    """``POST /retell/functions/{name}`` as a plain route that names itself in the scope (the
    request log and ``slotguard_http_requests_total`` label requests by route template;
    FastAPI's router records only its own routes there)."""

    def __init__(self) -> None:
        super().__init__(
            "/retell/functions/{name}", function_by_path, methods=["POST"], include_in_schema=False
        )

    def matches(self, scope: Scope) -> tuple[routing.Match, Scope]:
        """Starlette's match, with this route in the child scope."""
        match, child = super().matches(scope)
        if match is not routing.Match.NONE:
            child["route"] = self
        return match, child


async def function_by_path(request: Request) -> Response:
    """A Retell custom-function call; the tool name is in the path."""
    return await _handle(request, request.path_params["name"])


@router.post("/functions")
async def function_by_body(request: Request) -> Response:
    """A Retell custom-function call; the tool name is in the body's ``name``."""
    return await _handle(request, None)


async def _handle(request: Request, name: str | None) -> Response:
    started = time.perf_counter()
    calendar = waiting.tally()
    callbacks.watch()
    body = await _verified_body(request)
    payload = _function_call(parse_json_object(body))
    name = name or payload.name
    if not name or name not in FUNCTIONS:
        raise HTTPException(
            404, f"unknown function {name!r}; known functions: {', '.join(sorted(FUNCTIONS))}"
        )
    ctx: Context = request.state.ctx
    call = call_ref(payload.call)
    language = "de"
    try:
        company = await company_for(ctx, call)
        language = company.language.value
        reply = await FUNCTIONS[name](ctx, call, payload.args)
        reply = await callbacks.tell_failed_booking(ctx, company, call, reply)
    except UnknownTenant as unknown:
        log.warning("unknown_tenant", agent_id=unknown.agent_id, to_number=unknown.to_number)
        reply = reply_for(unknown)
    except (BookingError, CalendarUnreachable) as failure:
        reply = reply_for(failure)
    return _respond(ctx, name, call.call_id, reply, language, started, calendar)


def _respond(
    ctx: Context,
    name: str,
    call_id: str,
    reply: Reply,
    language: str,
    started: float,
    calendar: waiting.Tally,
) -> Response:
    content = {**reply.to_json(), "message": messages.render(reply, language, name)}
    elapsed = time.perf_counter() - started
    ctx.metrics.function_calls.labels(function=name, status=reply.status.value).observe(elapsed)
    log.info(
        "function_call",
        action=name,
        call_id=call_id,
        status=reply.status.value,
        reason=None if reply.reason is None else reply.reason.value,
        duration_ms=round(elapsed * 1000, 2),
        calendar_ms=calendar.ms,  # of the duration: Cal.com's answers, its budget, peers' lookups
    )
    return Response(orjson.dumps(content), media_type="application/json")


@router.post("/events")
async def lifecycle_event(request: Request) -> dict[str, str]:
    """Retell call lifecycle webhooks (call_started, call_ended, call_analyzed), stored once."""
    body = await _verified_body(request)
    data = parse_json_object(body)
    try:
        event = LifecycleEvent.model_validate(data)
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise HTTPException(400, f"invalid event payload: {where}: {first['msg']}") from None
    ctx: Context = request.state.ctx
    ended = event.call.end_timestamp
    created = await record_call_event(
        ctx,
        call_ref(event.call),
        event.event,
        status=event.call.call_status,
        ended_at=None if ended is None else datetime.fromtimestamp(ended / 1000, UTC),
        raw=body.decode("utf-8"),
    )
    return {"status": "stored" if created else "duplicate"}
