"""The FastAPI app factory; the lifespan owns the engine, the HTTP client and background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI

from slotguard import __version__
from slotguard.api import admin, calcom, dashboard, errors, health, retell
from slotguard.api.guard import RefuseUnstorableText
from slotguard.api.middleware import RequestContext
from slotguard.booking import periodic_sync, reconcile
from slotguard.booking.context import Context, utc_now
from slotguard.observability import Metrics, configure_logging, get_logger
from slotguard.runtime import open_context
from slotguard.settings import Settings, SettingsError, load_settings

log = get_logger("api")


def create_app(
    settings: Settings,
    *,
    metrics: Metrics | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    """Build the app for ``settings``; refuses an unsafe configuration before serving anything."""
    problem = settings.serving_problem()
    if problem is not None:
        raise SettingsError(problem)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with open_context(settings, metrics=metrics, clock=clock) as ctx:
            if settings.retell_api_key is None:
                log.warning("insecure_dev", detail="Retell signatures are NOT verified")
            tasks = [_start_reconciler(ctx, settings), _start_sync(ctx, settings)]
            try:
                yield {"ctx": ctx, "settings": settings}
            finally:
                for background in tasks:
                    if background is not None:
                        background.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await background

    app = FastAPI(
        title="slotguard",
        summary="Booking backend for AI phone agents with three layers of duplicate prevention.",
        version=__version__,
        lifespan=lifespan,
        # The schema lists every admin route and parameter: public only when asked for.
        openapi_url="/openapi.json" if settings.docs_served else None,
        docs_url="/docs" if settings.docs_served else None,
        redoc_url=None,
    )
    errors.install_handlers(app)
    app.add_middleware(RefuseUnstorableText)
    app.add_middleware(RequestContext)  # outermost: every answer carries the request id
    app.include_router(health.router)
    # The busiest route, below FastAPI's layer, and first: the router tries routes in order.
    app.router.routes.insert(0, retell.FunctionRoute())
    app.include_router(retell.router)
    app.include_router(calcom.router)
    app.include_router(admin.router)
    app.include_router(dashboard.router)
    return app


def _start_reconciler(ctx: Context, settings: Settings) -> asyncio.Task[None] | None:
    if settings.reconcile_interval_seconds <= 0:
        return None
    grace = timedelta(seconds=settings.pending_grace_seconds)
    return asyncio.create_task(
        reconcile.run_forever(
            ctx,
            interval=settings.reconcile_interval_seconds,
            grace=grace,
            retention=timedelta(days=settings.retention_days),
        ),
        name="slotguard-reconciler",
    )


def _start_sync(ctx: Context, settings: Settings) -> asyncio.Task[None] | None:
    if settings.calendar_sync_interval_seconds <= 0:
        return None
    return asyncio.create_task(
        periodic_sync.run_forever(
            ctx,
            interval=settings.calendar_sync_interval_seconds,
            days=settings.calendar_sync_days,
        ),
        name="slotguard-calendar-sync",
    )


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` worker processes: settings from the environment."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    # What the worker has built by now (modules, the app, compiled statements) lives as long
    # as the process: out of the collector's way, a full collection walks only what requests
    # made. Without it the collector's pauses set the p99 at 16 callers (BENCHMARKS.md).
    gc.freeze()
    return app
