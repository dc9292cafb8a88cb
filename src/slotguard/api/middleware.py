"""The outermost layer of every HTTP request: its request id, its log line, its counter.

Each request gets an id — the caller's ``X-Request-ID`` when it is a sane token, else a new
one — bound to every log line written while it is handled (structlog contextvars) and echoed
in the response's ``X-Request-ID``. An exception nobody handled is logged once with its
traceback and answered as a JSON 500 that names the request id, so the caller can quote it.
``slotguard_http_requests_total`` counts requests by route template, never by raw path.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slotguard.observability import get_logger

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode("latin-1")
# What we accept from a caller (a proxy's or Retell's id): short, printable, no spaces.
_SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
# Scraped and probed all day: their lines are debug, not info.
_QUIET_ROUTES = frozenset({"/metrics", "/healthz", "/readyz"})
UNMATCHED = "unmatched"

log = get_logger("http")


def request_id_from(scope: Scope) -> str:
    """The caller's request id when it is sane, else a fresh one (32 hex digits)."""
    for key, value in scope.get("headers", ()):
        if key == _HEADER_KEY:
            given = str(value.decode("latin-1")).strip()
            if _SANE.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


class RequestContext:
    """ASGI middleware: request id, one log line per request, the HTTP counter, crash logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request (or pass lifespan and websocket scopes through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unhandled_error", method=scope["method"], path=scope["path"])
                if status:
                    raise  # the response has begun: nothing sensible can be sent any more
                status = 500
                await _internal_error(request_id, send_with_id)
            finally:
                _account(scope, status or 500, time.perf_counter() - started)


async def _internal_error(request_id: str, send: Send) -> None:
    body = (
        b'{"detail":"internal error; quote request id ' + request_id.encode() + b' when reporting"}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _account(scope: Scope, status: int, seconds: float) -> None:
    route = getattr(scope.get("route"), "path", None) or UNMATCHED
    state: dict[str, Any] = scope.get("state") or {}
    ctx = state.get("ctx")
    if ctx is not None:
        ctx.metrics.http_requests.labels(scope["method"], route, str(status)).inc()
    emit = log.debug if route in _QUIET_ROUTES else log.info
    emit(
        "http_request",
        method=scope["method"],
        route=route,
        status=status,
        duration_ms=round(seconds * 1000, 2),
    )
