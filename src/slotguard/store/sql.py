"""Dialect helpers shared by the repositories: insert-or-ignore and advisory locks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """The dialect's own ``INSERT`` construct, which has ``on_conflict_do_update``."""
    if _dialect(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignore(session: AsyncSession, table: Any, conflict_columns: list[str]) -> Insert:
    """``INSERT … ON CONFLICT (cols) DO NOTHING`` for the session's dialect.

    The atomic way to create-if-absent under concurrency: exactly one inserter wins, the
    others see no row returned and read the winner's row instead.
    """
    return insert_ignore_on(_dialect(session), table, conflict_columns)


def insert_ignore_on(dialect: str, table: Any, conflict_columns: list[str]) -> Insert:
    """``insert_ignore`` for a dialect named ahead of any session (statements built once)."""
    if dialect == "postgresql":
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


_S = TypeVar("_S")


def once_per_dialect(build: Callable[[str], _S]) -> Callable[[AsyncSession], _S]:
    """Build a hot-path statement once per dialect and process, not once per request.

    A statement built anew costs more Python than executing it (constructing the clause
    tree, then walking it for its cache key); a module-level statement with bound
    parameters keeps its memoized cache key, so SQLAlchemy goes straight to the compiled
    form and asyncpg's prepared statement. Values are passed at execution.
    """
    built: dict[str, _S] = {}

    def statement(session: AsyncSession) -> _S:
        dialect = _dialect(session)
        found = built.get(dialect)
        if found is None:
            found = built[dialect] = build(dialect)
        return found

    return statement


def table_of(entity: Any) -> Table:
    """The Core table of a mapped class: hot paths select columns, not ORM entities."""
    return cast(Table, entity.__table__)


def _dialect(session: AsyncSession) -> str:
    bind = session.bind
    if bind is None:
        raise RuntimeError("sessions are always bound to the process engine")
    return bind.dialect.name


_T = TypeVar("_T")


class RowMissing(LookupError):
    """A row that the statement just wrote or matched is not there (a broken invariant)."""


def required(row: _T | None, what: str) -> _T:
    """``row``, or RowMissing naming ``what`` was expected."""
    if row is None:
        raise RowMissing(what)
    return row
