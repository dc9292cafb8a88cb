"""Shared fixtures: a clean environment and real databases (SQLite and PostgreSQL) per session."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.store.db import create_engine
from tests import databases

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Keep SLOTGUARD_* variables out of tests unless a test sets them itself."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith("SLOTGUARD_") and key != "SLOTGUARD_TEST_PG_URL":
            del os.environ[key]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this session (skipped loudly when unreachable)."""
    try:
        url = databases.create_pg_database()
    except databases.PostgresUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {error}")
        print(f"\n*** PostgreSQL unreachable, its tests are SKIPPED: {error}", file=sys.stderr)
        pytest.skip(f"PostgreSQL unreachable: {error}")
    try:
        databases.migrate(url)
        yield url
    finally:
        databases.drop_pg_database(url)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file for this session."""
    url = databases.sqlite_url(tmp_path_factory.mktemp("sqlite"))
    databases.migrate(url)
    return url


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated database; tests using it run once per engine."""
    name = "pg_url" if request.param == "postgresql" else "sqlite_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the per-session database, emptied before the test."""
    engine = create_engine(db_url)
    await databases.truncate_all(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the PostgreSQL database only, for PostgreSQL-only guarantees."""
    engine = create_engine(pg_url)
    await databases.truncate_all(engine)
    try:
        yield engine
    finally:
        await engine.dispose()
