"""The migration history runs up and down cleanly on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from slotguard.store.db import create_engine
from slotguard.store.migrate import downgrade, schema_state, upgrade
from slotguard.store.tables import Base
from tests import databases


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """An empty database (not migrated) on each engine, dropped afterwards."""
    if request.param == "sqlite":
        yield databases.sqlite_url(tmp_path)
        return
    request.getfixturevalue("pg_url")  # skips or fails loudly when PostgreSQL is unreachable
    url = databases.create_pg_database("slotguard_migr")
    try:
        yield url
    finally:
        databases.drop_pg_database(url)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


class TestMigrations:
    """Upgrade to head, downgrade to base, upgrade again."""

    async def test_up_down_up(self, fresh_url: str) -> None:
        """Every table appears on upgrade, disappears on downgrade, and comes back."""
        engine = create_engine(fresh_url)
        expected = set(Base.metadata.tables)
        try:
            await upgrade(engine)
            async with engine.connect() as c:
                assert await c.run_sync(_tables) == expected
            assert (await schema_state(engine)).at_head
            await downgrade(engine)
            async with engine.connect() as c:
                assert await c.run_sync(_tables) == set()
            assert not (await schema_state(engine)).at_head
            await upgrade(engine)
            async with engine.connect() as c:
                assert await c.run_sync(_tables) == expected
        finally:
            await engine.dispose()
