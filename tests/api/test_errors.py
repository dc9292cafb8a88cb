"""The database-error mapping: 503 only when the database cannot serve; 400 for a refused value."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.api.errors import install_handlers
from slotguard.store.db import session_factory


async def _answer(engine: AsyncEngine, sql: str, **params: object) -> httpx.Response:
    """What a route that runs ``sql`` answers through the app's real mapping table."""
    app = FastAPI()
    install_handlers(app)

    async def run() -> dict[str, str]:
        async with session_factory(engine)() as session:
            await session.execute(text(sql), params)
        return {"status": "ok"}

    app.add_api_route("/run", run)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/run")


class TestDatabaseErrors:
    """Only an unreachable database is an outage; bad data and bugs are not."""

    async def test_refused_value_is_400(self, pg_engine: AsyncEngine) -> None:
        """A value PostgreSQL refuses (SQLSTATE class 22) is a 400, not an outage."""
        response = await _answer(pg_engine, "SELECT CAST(:v AS INTEGER)", v="zwölf")
        assert response.status_code == 400
        assert "does not fit the database" in response.json()["detail"]
        assert "retry-after" not in response.headers

    async def test_bug_is_500_not_503(self, engine: AsyncEngine) -> None:
        """A query error that is our bug stays a 500: it must not be retried as an outage."""
        response = await _answer(engine, "SELECT * FROM no_such_table")
        assert response.status_code == 500
