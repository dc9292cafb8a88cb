"""Liveness, readiness and the Prometheus scrape endpoint."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.booking.context import Context
from slotguard.observability import exposition
from slotguard.settings import Settings
from slotguard.store.db import database_unavailable, server_node
from slotguard.store.migrate import SchemaState, schema_state

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the newest migration.

    On PostgreSQL ``node`` names the server answering (``address:port``): behind a multi-host
    URL, the primary this process writes to.
    """
    ctx: Context = request.state.ctx
    try:
        state, node = await _probe(ctx.engine)
    except (SQLAlchemyError, OSError) as error:
        return JSONResponse(
            {"status": "unavailable", "database": f"unreachable: {type(error).__name__}"},
            status_code=503,
        )
    where = {} if node is None else {"node": node}
    if not state.at_head:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "reachable",
                **where,
                "migrations": f"at {state.current}, head is {state.head}; run `slotguard migrate`",
            },
            status_code=503,
        )
    return JSONResponse(
        {"status": "ok", "database": "reachable", **where, "migrations": state.head}
    )


async def _probe(engine: AsyncEngine) -> tuple[SchemaState, str | None]:
    try:
        return await schema_state(engine), await server_node(engine)
    except (SQLAlchemyError, OSError) as problem:
        if not database_unavailable(problem):
            raise
    # A pooled connection to a node that died (a failover) fails once and empties the pool;
    # the second try connects afresh through the (multi-host) URL.
    return await schema_state(engine), await server_node(engine)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text exposition of this process's metrics."""
    settings: Settings = request.state.settings
    if settings.metrics_token is not None:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {settings.metrics_token.get_secret_value()}"
        if not hmac.compare_digest(given.encode("latin-1"), expected.encode()):
            return Response(
                "metrics need Authorization: Bearer $SLOTGUARD_METRICS_TOKEN\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                media_type="text/plain",
            )
    ctx: Context = request.state.ctx
    return Response(exposition(ctx.metrics), media_type=CONTENT_TYPE_LATEST)
