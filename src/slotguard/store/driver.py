"""A few hot reads and single-statement writes on the database driver's own connection.

On PostgreSQL a statement sent through an ORM session costs about four times the driver's
own work (session, connection, statement and result layers and a greenlet switch each way:
BENCHMARKS.md, throughput). The first look of ``collect_appointment_data`` is a handful of
such statements on every ask, so it runs them here: each is the same SQLAlchemy Core
construct the repositories use, compiled once for the dialect, and sent with asyncpg's
prepared-statement cache on a connection checked out of the engine's pool, in autocommit.

What a session gives is kept: errors come out as SQLAlchemy's (``DBAPIError`` subclasses with
the driver's error as ``orig``, ``connection_invalidated`` when the connection broke), and a
broken connection is invalidated so the pool replaces it. On SQLite the same calls run through
an ordinary session (the embedded default has no such overhead worth the code).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, cast

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import CursorResult, Row, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

# SQLSTATE classes and codes that mean "this connection or this server cannot go on".
_GONE_CLASSES = ("08", "57P", "53")


class Record(Protocol):
    """A result row: by position and by column name."""

    def __getitem__(self, key: int | str) -> Any: ...


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Per position: ("param", name), ("item", name, index) of a list parameter, ("const", value).
    slots: tuple[tuple[Any, ...], ...]


class Lane(Protocol):
    """One connection's worth of statements, each committing on its own."""

    @property
    def dialect(self) -> str:
        """The database's dialect name ("postgresql", "sqlite")."""
        ...

    async def rows(self, statement: ClauseElement, params: Mapping[str, Any]) -> Sequence[Record]:
        """The statement's rows (a write's RETURNING rows), each by position and by name."""
        ...


class _DriverLane:
    """Statements on asyncpg (see the module docstring)."""

    def __init__(self, raw: Any, connection: AsyncConnection) -> None:
        self._raw, self._connection = raw, connection

    @property
    def dialect(self) -> str:
        """Always PostgreSQL's."""
        return self._connection.engine.dialect.name

    async def rows(self, statement: ClauseElement, params: Mapping[str, Any]) -> Sequence[Record]:
        """The statement's rows, compiled once and sent with the driver's statement cache."""
        compiled = _compile(self._connection.engine, statement, params)
        args = [_value(slot, params) for slot in compiled.slots]
        try:
            found: Sequence[Record] = await self._raw.fetch(compiled.sql, *args)
        except Exception as error:
            raise await self._translated(error, compiled.sql, args) from error
        return found

    async def _translated(self, error: Exception, sql: str, args: list[Any]) -> Exception:
        """``error`` as SQLAlchemy raises it; a broken connection is invalidated first."""
        sqlstate = str(getattr(error, "sqlstate", None) or "")
        if isinstance(error, asyncpg.exceptions.DataError):  # a value the driver cannot send
            return exc.DataError(sql, args, error)
        if not sqlstate or sqlstate.startswith(_GONE_CLASSES):  # lost, or the server going
            await self._connection.invalidate(error)
            return exc.OperationalError(sql, args, error, connection_invalidated=True)
        if sqlstate.startswith("23"):
            return exc.IntegrityError(sql, args, error)
        if sqlstate.startswith("22"):
            return exc.DataError(sql, args, error)
        if sqlstate.startswith(("25", "40")):  # a read-only standby, serialization, deadlock
            return exc.OperationalError(sql, args, error)
        return exc.ProgrammingError(sql, args, error)


class SessionLane:
    """The same statements through a session (SQLite, or inside a session's transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @property
    def dialect(self) -> str:
        """The session's dialect name."""
        bind = self._session.bind
        return "" if bind is None else bind.dialect.name

    async def rows(self, statement: ClauseElement, params: Mapping[str, Any]) -> Sequence[Record]:
        """The statement's rows through SQLAlchemy."""
        result = await self._session.execute(cast(Executable, statement), dict(params))
        if not cast(CursorResult[Any], result).returns_rows:  # a write without RETURNING
            return []
        return [_Mapped(row) for row in result]


class Named:
    """A record's columns as attributes, for mappers written against SQLAlchemy's rows."""

    __slots__ = ("_record",)

    def __init__(self, record: Record) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        return self._record[name]


class _Mapped:
    """A session's row, readable like a driver's record."""

    __slots__ = ("_row",)

    def __init__(self, row: Row[Any]) -> None:
        self._row = row

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, int):
            return self._row[key]
        return self._row._mapping[key]


@dataclass
class _Shared:
    """The lane a block of one task shares (``Driver.shared``), opened on first use."""

    driver: Driver
    task: asyncio.Task[Any] | None
    stack: AsyncExitStack
    lane: Lane | None = None


_SHARED: ContextVar[_Shared | None] = ContextVar("slotguard_shared_lane", default=None)


class Driver:
    """Lanes on PostgreSQL's driver, or ordinary sessions on SQLite."""

    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._native = engine.dialect.name == "postgresql"
        self._sessions = sessions

    @asynccontextmanager
    async def lane(self) -> AsyncIterator[Lane]:
        """A lane for a few statements, each committing on its own (the shared one inside
        :meth:`shared`)."""
        shared = _SHARED.get()
        if shared is not None and shared.driver is self and shared.task is asyncio.current_task():
            if shared.lane is None:
                shared.lane = await shared.stack.enter_async_context(self._own())
            yield shared.lane
            return
        async with self._own() as lane:
            yield lane

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        """Every lane this task opens in the block is one connection, checked out once (on
        PostgreSQL; SQLite's lanes are transactions and stay their own). Other tasks started
        in the block open their own."""
        if not self._native:
            yield
            return
        async with AsyncExitStack() as stack:
            token = _SHARED.set(_Shared(self, asyncio.current_task(), stack))
            try:
                yield
            finally:
                _SHARED.reset(token)

    @asynccontextmanager
    async def _own(self) -> AsyncIterator[Lane]:
        if not self._native:
            async with self._sessions() as session, session.begin():
                yield SessionLane(session)
            return
        async with self._engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            yield _DriverLane(raw, connection)


# Keyed by the statement's identity: only statements built once per process come here.
_CACHE: dict[tuple[str, int, tuple[str, ...], tuple[int, ...]], _Compiled] = {}
_ITEM = re.compile(r"^(?P<name>.+)_(?P<index>\d+)$")


def _compile(engine: AsyncEngine, statement: ClauseElement, params: Mapping[str, Any]) -> _Compiled:
    """``statement`` as SQL with ``$n`` placeholders, once per statement, parameter names and
    list lengths.

    List parameters (``IN`` with ``expanding=True``) become one placeholder per item, so a
    statement is compiled again for each number of items it is given (one or two, here).
    """
    # The names in the caller's order: one call site always gives them in the same order.
    key = (
        engine.dialect.name,
        id(statement),
        tuple(params),
        tuple(len(v) for v in params.values() if isinstance(v, (list, tuple))),
    )
    found = _CACHE.get(key)
    if found is not None:
        return found
    names = tuple(sorted(params))
    lengths = {k: len(v) for k, v in params.items() if isinstance(v, (list, tuple))}
    compiled = cast(
        SQLCompiler,  # an INSERT's columns are the values given
        statement.compile(dialect=engine.dialect, column_keys=list(names)),
    )
    # Placeholder values, only for rendering: list items of the right count.
    shape = {k: list(range(lengths[k])) if k in lengths else None for k in names}
    state = compiled.construct_expanded_state(shape)
    if state.processors:  # values the dialect converts before sending: a session's job
        raise ValueError(
            f"the driver sends values as given; {sorted(state.processors)} need converting"
        )
    slots: list[tuple[Any, ...]] = []
    for name in state.positiontup or ():
        item = _ITEM.match(name)
        if name in params and name not in lengths:
            slots.append(("param", name))
        elif item is not None and item["name"] in lengths:
            slots.append(("item", item["name"], int(item["index"]) - 1))
        else:
            slots.append(("const", state.parameters[name]))  # the statement's own values
    found = _CACHE[key] = _Compiled(state.statement, tuple(slots))
    return found


def _value(slot: tuple[Any, ...], params: Mapping[str, Any]) -> Any:
    kind = slot[0]
    if kind == "param":
        return params[slot[1]]
    if kind == "item":
        return params[slot[1]][slot[2]]
    return slot[1]
