"""Writes owed after a database outage: which errors count as one, and the repair queue."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.booking import outage
from slotguard.booking.outage import Repairs
from slotguard.store.db import create_engine, database_unavailable

DEAD = "postgresql://nobody@127.0.0.1:1/none"


async def _error_of(engine: AsyncEngine, *statements: str) -> Exception:
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    except Exception as problem:
        return problem
    raise AssertionError("the statement succeeded")


class TestDatabaseUnavailable:
    """Only a database that is gone counts; a refused row does not."""

    async def test_refused_connection_is_unavailable(self) -> None:
        """A server that refuses the connection (the dead primary) is an outage."""
        engine = create_engine(DEAD)
        try:
            assert database_unavailable(await _error_of(engine, "SELECT 1"))
        finally:
            await engine.dispose()

    async def test_multi_host_url_with_only_dead_hosts(self) -> None:
        """No host of a multi-host URL answering is an outage too."""
        engine = create_engine(
            "postgresql://nobody@127.0.0.1:1,127.0.0.1:2/none?target_session_attrs=read-write"
        )
        try:
            assert database_unavailable(await _error_of(engine, "SELECT 1"))
        finally:
            await engine.dispose()

    @pytest.mark.pg_only
    async def test_constraint_violation_is_not(self, pg_engine: AsyncEngine) -> None:
        """A unique violation is a refusal to translate, not an outage to retry."""
        problem = await _error_of(
            pg_engine,
            "CREATE TEMP TABLE t (x int PRIMARY KEY)",
            "INSERT INTO t VALUES (1), (1)",
        )
        assert isinstance(problem, IntegrityError)
        assert not database_unavailable(problem)

    @pytest.mark.pg_only
    async def test_read_only_node_is_unavailable(self, pg_engine: AsyncEngine) -> None:
        """A write refused as read-only (a demoted primary) is an outage: find the new one."""
        problem = await _error_of(
            pg_engine,
            "SET TRANSACTION READ ONLY",
            "CREATE TABLE read_only_probe (x int)",
        )
        assert getattr(getattr(problem, "orig", None), "sqlstate", None) == "25006"
        assert database_unavailable(problem)


class TestRepairs:
    """Repairs run in order and are retried while the database is unreachable."""

    async def test_retried_until_the_database_answers_then_in_order(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A repair failing with an outage is retried; the one queued after it waits."""
        monkeypatch.setattr(outage, "RETRY_SECONDS", 0.01)
        dead = create_engine(DEAD)
        done: list[str] = []
        tries = 0

        async def first() -> None:
            nonlocal tries
            tries += 1
            if tries < 3:  # the real error of an unreachable server, twice
                async with dead.connect() as connection:
                    await connection.execute(text("SELECT 1"))
            done.append("first")

        async def second() -> None:
            done.append("second")

        repairs = Repairs()
        try:
            repairs.add("first", first)
            repairs.add("second", second)
            assert repairs.queued == 2
            for _ in range(200):
                if not repairs.queued:
                    break
                await asyncio.sleep(0.01)
        finally:
            await dead.dispose()
        assert (done, tries, repairs.queued) == (["first", "second"], 3, 0)

    async def test_other_failures_are_dropped(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A repair failing for another reason is logged and dropped, not retried forever."""
        monkeypatch.setattr(outage, "RETRY_SECONDS", 0.01)
        done: list[str] = []

        async def broken() -> None:
            raise ValueError("not an outage")

        async def after() -> None:
            done.append("after")

        repairs = Repairs()
        repairs.add("broken", broken)
        repairs.add("after", after)
        for _ in range(100):
            if not repairs.queued:
                break
            await asyncio.sleep(0.01)
        assert (done, repairs.queued) == (["after"], 0)
