"""What every `/v2` request goes through: request log, credentials, rate limit, faults.

Order, as in Cal.com's guards: the throttler (an unknown `cal_` key is a 401 there,
before counting), then injected latency and faults, then the route handler. Faults
after a committed mutation (stall or drop) run once the handler has returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from .faults import Fault
from .model import CalcomError, bad_request, unauthorized
from .outputs import error_body
from .ratelimit import TOO_MANY
from .requestlog import RecordedRequest

if TYPE_CHECKING:
    from .emulator import CalcomEmulator

#: ASGI scope extension through which `serve_in_thread` lets an app cut its connection.
ABORT_EXTENSION = "slotguard.abort_connection"
_INVALID_KEY = "CustomThrottlerGuard - Invalid API Key"


@dataclass(frozen=True)
class ApiCall:
    """One parsed request as a route handler sees it."""

    request: Request
    route: str
    body: Any
    api_key: str | None  # a configured key, or None when no credentials were sent
    bad_credentials: bool  # a bearer that is neither a configured key nor absent

    @property
    def version(self) -> str | None:
        """The `cal-api-version` header."""
        return self.request.headers.get("cal-api-version")


@dataclass(frozen=True)
class ApiResult:
    """A handler's answer; `committed` marks a mutation that changed state."""

    status: int
    body: dict[str, Any]
    committed: bool = False


Handler = Callable[["CalcomEmulator", ApiCall], Awaitable[ApiResult]]


class DropConnection(Response):
    """Closes the TCP connection without sending a byte of HTTP (needs `serve_in_thread`)."""

    def __init__(self) -> None:
        super().__init__(status_code=500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        abort = scope.get("extensions", {}).get(ABORT_EXTENSION)
        if abort is None:
            raise RuntimeError("drop_connection needs a server started by serve_in_thread")
        abort()
        await _until_disconnected(receive)


def error_response(emulator: CalcomEmulator, error: CalcomError, path: str) -> JSONResponse:
    """Cal.com's error envelope as a response."""
    return JSONResponse(error_body(error, path, emulator.clock()), status_code=error.status)


async def handle(
    emulator: CalcomEmulator, request: Request, route: str, handler: Handler
) -> Response:
    """Run one `/v2` request through the pipeline and record it."""
    emulator.webhooks.bind_loop(asyncio.get_running_loop())
    raw = await request.body()
    body = _decode(raw)
    record = emulator.requests.add(
        method=request.method,
        path=request.url.path,
        route=route,
        query=dict(request.query_params),
        body=body,
        received_at=emulator.clock(),
        request_id=str(uuid.uuid4()),
    )
    response = await _process(emulator, request, route, handler, raw, body, record)
    if isinstance(response, DropConnection):
        record.outcome = "dropped"
        return response
    record.status = response.status_code
    if record.outcome == "pending":
        record.outcome = "answered"
    response.headers["X-Request-Id"] = record.request_id
    return response


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def _credentials(emulator: CalcomEmulator, request: Request) -> tuple[str | None, bool, str]:
    """(valid key or None, bad credentials?, throttler tracker)."""
    header = request.headers.get("authorization")
    if not header:
        return None, False, f"ip:{request.client.host if request.client else 'unknown'}"
    token = header.removeprefix("Bearer ").strip()
    if token in emulator.config.api_keys:
        return token, False, f"api_key:{token}"
    if token.startswith("cal_"):
        raise unauthorized(_INVALID_KEY)
    return None, True, f"access_token:{token}"


async def _process(
    emulator: CalcomEmulator,
    request: Request,
    route: str,
    handler: Handler,
    raw: bytes,
    body: Any,
    record: RecordedRequest,
) -> Response:
    path = request.url.path
    try:
        api_key, bad, tracker = _credentials(emulator, request)
    except CalcomError as error:  # thrown by the throttler before it counts
        return error_response(emulator, error, path)
    limit = emulator.rate_limiter.hit(tracker)
    if not limit.allowed:
        throttled = CalcomError(429, "ThrottlerException", TOO_MANY)
        response: Response = error_response(emulator, throttled, path)
    else:
        call = ApiCall(request, route, body, api_key, bad)
        response = await _guarded(emulator, call, handler, raw, record)
    if not isinstance(response, DropConnection):
        response.headers.update(limit.headers())
    return response


async def _guarded(
    emulator: CalcomEmulator, call: ApiCall, handler: Handler, raw: bytes, record: RecordedRequest
) -> Response:
    path, faults = call.request.url.path, emulator.faults
    delay = faults.latency_seconds(call.route)
    if delay > 0:
        await asyncio.sleep(delay)
    fault = faults.before(call.route)
    if fault is not None:
        return _fault_response(emulator, fault, path)
    try:
        if raw and isinstance(call.body, str):
            raise bad_request("Unexpected token in JSON body")
        result = await handler(emulator, call)
    except CalcomError as error:
        return error_response(emulator, error, path)
    response = JSONResponse(result.body, status_code=result.status)
    after = faults.after_commit(call.route) if result.committed else None
    if after is not None and after.kind == "drop":
        return DropConnection()
    if after is not None:
        record.outcome = "timeout_after_commit"
        await _stall(call.request, after.seconds)
    return response


def _fault_response(emulator: CalcomEmulator, fault: Fault, path: str) -> Response:
    if fault.kind == "drop":
        return DropConnection()
    if fault.status == 429:
        error = CalcomError(429, "ThrottlerException", TOO_MANY)
    else:
        error = CalcomError(fault.status, "INTERNAL_SERVER_ERROR", "Internal server error.")
    response = error_response(emulator, error, path)
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response


async def _until_disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _stall(request: Request, seconds: float) -> None:
    """Hold the answer up to `seconds`, ending early once the client has hung up."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_until_disconnected(request.receive), seconds)
