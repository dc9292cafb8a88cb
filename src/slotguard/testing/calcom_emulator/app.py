"""The emulator's ASGI application: `/v2` routes through the pipeline, plus admin routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import routes
from .admin import admin_routes
from .model import CalcomError
from .pipeline import Handler, error_response, handle

if TYPE_CHECKING:
    from .emulator import CalcomEmulator

#: (method, path template, handler) of every Cal.com route the emulator implements.
API_ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/v2/slots", routes.get_slots),
    ("POST", "/v2/bookings", routes.create_booking),
    ("GET", "/v2/bookings", routes.list_bookings),
    ("GET", "/v2/bookings/{uid}", routes.get_booking),
    ("POST", "/v2/bookings/{uid}/reschedule", routes.reschedule_booking),
    ("POST", "/v2/bookings/{uid}/cancel", routes.cancel_booking),
    ("GET", "/v2/event-types", routes.list_event_types),
)


def build_app(emulator: CalcomEmulator) -> Starlette:
    """A Starlette app serving `emulator`; its lifespan owns the webhook HTTP client."""

    def endpoint(route: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            return await handle(emulator, request, route, handler)

        return run

    api = [
        Route(path, endpoint(f"{method} {path}", handler), methods=[method])
        for method, path, handler in API_ROUTES
    ]

    async def not_routed(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = f"Cannot {request.method} {request.url.path}"
        code = "NotFoundException" if status == 404 else "MethodNotAllowedException"
        error = CalcomError(status, code, message)
        return error_response(emulator, error, request.url.path)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        emulator.webhooks.bind_loop(asyncio.get_running_loop())
        try:
            yield
        finally:
            await emulator.webhooks.aclose()

    return Starlette(
        routes=[*api, *admin_routes(emulator)],
        exception_handlers={404: not_routed, 405: not_routed},
        lifespan=lifespan,
    )
