"""Drive an ASGI app in-process with its lifespan, as a server would (for tests and benchmarks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send


@asynccontextmanager
async def lifespan_client(
    app: FastAPI,
    base_url: str = "http://slotguard.test",
    client: tuple[str, int] = ("127.0.0.1", 123),
) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app``'s lifespan and yield an httpx client bound to it.

    httpx's ASGITransport does not run the lifespan nor pass its state into requests; this does
    both, the way uvicorn does, so tests go through the real factory and startup path.
    """
    async with app.router.lifespan_context(app) as state:
        shared: dict[str, Any] = dict(state or {})

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] in ("http", "websocket"):
                scope = {**scope, "state": dict(shared)}
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state, client=client)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield http
