"""Health, readiness and metrics endpoints through the real app factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.api import create_app
from slotguard.settings import Settings, SettingsError
from slotguard.testing.asgi import lifespan_client
from tests import databases


class TestHealth:
    """/healthz, /readyz and /metrics."""

    async def test_ready_on_migrated_database(self, db_url: str, engine: AsyncEngine) -> None:
        """A migrated database makes /readyz answer 200 and /healthz is always 200."""
        app = create_app(Settings(database_url=db_url, insecure_dev=True))
        async with lifespan_client(app) as client:
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert ready.status_code == 200
        assert ready.json()["database"] == "reachable"
        if db_url.startswith("postgresql"):
            where = make_url(db_url)
            assert ready.json()["node"] == f"{where.host}:{where.port or 5432}"
        else:
            assert "node" not in ready.json()

    async def test_multi_host_url_skips_a_dead_host(self, pg_url: str) -> None:
        """A multi-host URL whose first host is down connects to the next; /readyz names it."""
        where = make_url(pg_url)
        node = f"{where.host}:{where.port or 5432}"
        url = f"postgresql://{where.username}@127.0.0.1:1,{node}/{where.database}"
        settings = Settings(
            database_url=f"{url}?target_session_attrs=read-write",
            insecure_dev=True,
            reconcile_interval_seconds=0,
        )
        async with lifespan_client(create_app(settings)) as client:
            ready = await client.get("/readyz")
            # No tenant is applied here: the answer proves the agent route was looked up.
            routed = await client.post(
                "/retell/functions/check_customer",
                content=b'{"call": {"call_id": "mh-1", "agent_id": "agent_nobody"}, "args": {}}',
            )
        assert (ready.status_code, ready.json()["node"]) == (200, node)
        assert routed.status_code == 200
        assert (routed.json()["status"], routed.json()["reason"]) == ("error", "unknown_tenant")

    async def test_not_ready_before_migrations(self, tmp_path: Path) -> None:
        """An unmigrated database makes /readyz answer 503 and say what to run."""
        app = create_app(Settings(database_url=databases.sqlite_url(tmp_path), insecure_dev=True))
        async with lifespan_client(app) as client:
            ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert "slotguard migrate" in ready.json()["migrations"]

    async def test_not_ready_when_database_unreachable(self) -> None:
        """A database that cannot be reached makes /readyz answer 503, not 500."""
        settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", insecure_dev=True)
        async with lifespan_client(create_app(settings)) as client:
            ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["database"].startswith("unreachable")

    async def test_metrics_is_prometheus_text(self, tmp_path: Path) -> None:
        """/metrics serves the Prometheus text format with slotguard's series."""
        app = create_app(Settings(database_url=databases.sqlite_url(tmp_path), insecure_dev=True))
        async with lifespan_client(app) as client:
            response = await client.get("/metrics")
        assert response.headers["content-type"].startswith("text/plain")
        assert "# TYPE slotguard_duplicate_decisions_total counter" in response.text

    def test_refuses_unsigned_configuration(self) -> None:
        """create_app refuses to build without a Retell key unless insecure dev mode is on."""
        with pytest.raises(SettingsError, match="SLOTGUARD_RETELL_API_KEY"):
            create_app(Settings(database_url="sqlite:///x.db"))


class TestDatabaseDown:
    """A database that cannot be reached gives a 503 with Retry-After, never a 500."""

    async def test_function_call_503(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A call while PostgreSQL is down is a 503 with Retry-After; the log names the reason."""
        settings = Settings(
            database_url="postgresql://nobody@127.0.0.1:1/none",
            insecure_dev=True,
            reconcile_interval_seconds=0,
        )
        body = b'{"call": {"call_id": "c1", "agent_id": "agent_demo"}, "args": {}}'
        async with lifespan_client(create_app(settings)) as client:
            response = await client.post("/retell/functions/check_customer", content=body)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "2"
        out = capsys.readouterr().out
        assert "database_unavailable" in out
        assert "Connect call failed" in out, out


class TestPublicSurface:
    """What an unauthenticated visitor can read: no API description in production, metrics
    behind a token when one is set."""

    @pytest.mark.parametrize(
        ("overrides", "served"),
        [
            ({"retell_api_key": "key_abc"}, False),
            ({"retell_api_key": "key_abc", "api_docs": True}, True),
            ({"insecure_dev": True}, True),
            ({"insecure_dev": True, "api_docs": False}, False),
        ],
    )
    async def test_docs_only_when_asked(
        self, tmp_path: Path, overrides: dict[str, Any], served: bool
    ) -> None:
        """/docs and /openapi.json are off with a Retell key unless SLOTGUARD_API_DOCS=1."""
        url = databases.sqlite_url(tmp_path)
        async with lifespan_client(create_app(Settings(database_url=url, **overrides))) as client:
            codes = {(await client.get(path)).status_code for path in ("/docs", "/openapi.json")}
        assert codes == ({200} if served else {404})

    async def test_metrics_token(self, tmp_path: Path) -> None:
        """With SLOTGUARD_METRICS_TOKEN, /metrics answers 401 without it and the text with it."""
        settings = Settings(
            database_url=databases.sqlite_url(tmp_path),
            insecure_dev=True,
            metrics_token="scrape-0123456789",
        )
        async with lifespan_client(create_app(settings)) as client:
            bare = await client.get("/metrics")
            wrong = await client.get("/metrics", headers={"authorization": "Bearer nope"})
            odd = await client.get("/metrics", headers={"authorization": "Bearer \u00e4".encode()})
            good = await client.get(
                "/metrics", headers={"authorization": "Bearer scrape-0123456789"}
            )
        assert [r.status_code for r in (bare, wrong, odd, good)] == [401, 401, 401, 200]
        assert "slotguard_" in good.text and "slotguard_" not in bare.text
