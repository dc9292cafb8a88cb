"""The FastAPI app factory; the lifespan owns the engine, the HTTP client and background tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from slotguard.api import health, retell
from slotguard.booking.context import Context, utc_now
from slotguard.observability import Metrics, configure_logging, get_logger
from slotguard.settings import Settings, SettingsError, load_settings
from slotguard.store.db import create_engine, session_factory

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
        engine = create_engine(settings.database_url)
        ctx = Context(
            engine=engine,
            sessions=session_factory(engine),
            metrics=metrics or Metrics(),
            clock=clock,
        )
        if settings.retell_api_key is None:
            log.warning("insecure_dev", detail="Retell signatures are NOT verified")
        try:
            yield {"ctx": ctx, "settings": settings}
        finally:
            await engine.dispose()

    app = FastAPI(
        title="slotguard",
        summary="Booking backend for AI phone agents with three layers of duplicate prevention.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(health.router)
    app.include_router(retell.router)
    return app


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` worker processes: settings from the environment."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
