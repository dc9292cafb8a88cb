"""Dialect helpers shared by the repositories: insert-or-ignore and advisory locks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def insert_ignore(session: AsyncSession, table: Any, conflict_columns: list[str]) -> Insert:
    """``INSERT … ON CONFLICT (cols) DO NOTHING`` for the session's dialect.

    The atomic way to create-if-absent under concurrency: exactly one inserter wins, the
    others see no row returned and read the winner's row instead.
    """
    if _dialect(session) == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)


def upsert_touching(
    session: AsyncSession, table: Any, conflict_columns: list[str], touched: str
) -> Insert:
    """``INSERT … ON CONFLICT (cols) DO UPDATE SET touched = excluded.touched``.

    Create-or-get in one round trip: with ``.returning(Entity)`` the statement yields the new
    or the existing row, and only ``touched`` (a timestamp) changes on an existing one.
    """
    if _dialect(session) == "postgresql":
        pg = postgresql.insert(table)
        return pg.on_conflict_do_update(
            index_elements=conflict_columns, set_={touched: pg.excluded[touched]}
        )
    lite = sqlite.insert(table)
    return lite.on_conflict_do_update(
        index_elements=conflict_columns, set_={touched: lite.excluded[touched]}
    )


async def advisory_xact_lock(session: AsyncSession, namespace: str, *parts: object) -> None:
    """Transaction-scoped lock on hash(namespace:parts) on PostgreSQL; a no-op on SQLite.

    Unlike ``FOR UPDATE`` it works before any row exists (the first booking of a customer).
    On SQLite every transaction already began with ``BEGIN IMMEDIATE``, which holds the
    database's single write lock until commit: a coarser lock with the same guarantee.
    """
    if _dialect(session) != "postgresql":
        return
    key = ":".join([namespace, *(str(p) for p in parts)])
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def _dialect(session: AsyncSession) -> str:
    bind = session.bind
    assert bind is not None, "sessions are always bound to the process engine"
    return bind.dialect.name
