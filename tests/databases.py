"""Test databases: one fresh PostgreSQL database and one SQLite file per test session."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.store.db import create_engine
from slotguard.store.migrate import upgrade
from slotguard.store.tables import Base

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server named by SLOTGUARD_TEST_PG_URL cannot be reached."""


def pg_admin_url() -> str:
    """The server the PostgreSQL tests use (SLOTGUARD_TEST_PG_URL)."""
    return os.environ.get("SLOTGUARD_TEST_PG_URL", DEFAULT_PG_URL)


def create_pg_database(prefix: str = "slotguard_test") -> str:
    """Create an empty, uniquely named database on the test server; return its URL."""
    admin = make_url(pg_admin_url())
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"

    async def _create() -> None:
        connection = await _connect(admin.set(drivername="postgresql"))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(_create())
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    """Drop a database made by ``create_pg_database``, ending its leftover connections."""
    target = make_url(url)
    admin = make_url(pg_admin_url())

    async def _drop() -> None:
        connection = await _connect(admin.set(drivername="postgresql"))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(_drop())


async def _connect(url: object) -> asyncpg.Connection:
    parsed = make_url(str(url)) if not hasattr(url, "host") else url
    try:
        return await asyncpg.connect(
            host=parsed.host or "127.0.0.1",  # type: ignore[attr-defined]
            port=parsed.port or 5432,  # type: ignore[attr-defined]
            user=parsed.username or "postgres",  # type: ignore[attr-defined]
            password=parsed.password,  # type: ignore[attr-defined]
            database=parsed.database or "postgres",  # type: ignore[attr-defined]
            timeout=5,
        )
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        raise PostgresUnavailable(f"{pg_admin_url()}: {error}") from error


def sqlite_url(directory: Path) -> str:
    """A SQLite file URL inside ``directory``."""
    return f"sqlite:///{directory / 'slotguard-test.db'}"


def migrate(url: str) -> None:
    """Run every migration on ``url`` (the schema under test is the migrated one)."""

    async def _run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(_run())


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every table: use cases commit, so per-test rollback cannot isolate tests."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - own table names
