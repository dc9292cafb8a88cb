"""Engine construction: URL normalisation, SQLite pragmas and its write-lock discipline."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
)
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# How long a SQLite writer waits for another writer before giving up, in milliseconds.
# Booking phases are a few milliseconds long, so 15 s only trips on a real stall.
SQLITE_BUSY_TIMEOUT_MS = 15_000
# Connections per process; a booking phase holds one for milliseconds, and PostgreSQL's
# default max_connections (100) must serve several worker processes.
PG_POOL_SIZE = 16
PG_MAX_OVERFLOW = 4
# Idle connections older than this are replaced, below typical firewall/NAT idle timeouts.
PG_POOL_RECYCLE_SECONDS = 1800
# How long opening a connection may take, per host of a multi-host URL (asyncpg's default is
# 60 s): a dead host must not hold a request for a minute before the next host is tried.
PG_CONNECT_TIMEOUT_SECONDS = 5.0
# Errors on a live connection that mean "this node is no longer the primary" (read-only
# transaction after a demotion; administrator, crash or recovery shutdown): SQLAlchemy treats
# them like a broken connection and discards the whole pool, so the next checkout connects
# afresh and the multi-host URL finds the new primary.
PG_NODE_GONE_SQLSTATES = frozenset({"25006", "57P01", "57P02", "57P03"})
# libpq's multi-host form: postgresql://user@host1:port1,host2:port2/db?target_session_attrs=…
_MULTI_HOST = re.compile(
    r"^(?P<scheme>[A-Za-z0-9+]+://)(?P<user>[^@/?]*@)?(?P<hosts>[^/?@]*,[^/?@]*)(?P<rest>[/?].*)?$"
)


class DatabaseUrlError(ValueError):
    """The database URL names an engine slotguard does not support."""


def async_url(url: str) -> URL:
    """Turn a plain ``sqlite:///`` or ``postgresql://`` URL into its async-driver form.

    A libpq multi-host URL (``postgresql://u@h1:5432,h2:5432/db?target_session_attrs=read-write``)
    becomes SQLAlchemy's form (``?host=h1:5432&host=h2:5432``); asyncpg tries the hosts in
    order and keeps the first that matches ``target_session_attrs``.
    """
    parsed = make_url(_hosts_as_query(url))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise DatabaseUrlError(f"unsupported database URL scheme {parsed.drivername!r}")


def _hosts_as_query(url: str) -> str:
    match = _MULTI_HOST.match(url)
    if match is None:
        return url
    hosts = "&".join(f"host={quote(h, safe='')}" for h in match["hosts"].split(",") if h)
    path, _, query = (match["rest"] or "/").partition("?")
    return f"{match['scheme']}{match['user'] or ''}{path}?{hosts}{'&' + query if query else ''}"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Build the process's engine; on SQLite every transaction takes the write lock up front.

    ``BEGIN IMMEDIATE`` is SQLite's per-database equivalent of the per-customer advisory lock:
    two check-then-insert phases can never interleave, and a reader never has to upgrade.
    """
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        engine = create_async_engine(target, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", PG_POOL_SIZE)
    kwargs.setdefault("max_overflow", PG_MAX_OVERFLOW)
    # No pre-ping: it costs a round trip on every phase of a booking (measured 0.3-0.7 ms).
    # A connection broken by a database restart fails one request, which SQLAlchemy turns
    # into a pool invalidation; recycling bounds how stale an idle connection can get.
    kwargs.setdefault("pool_recycle", PG_POOL_RECYCLE_SECONDS)
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("timeout", PG_CONNECT_TIMEOUT_SECONDS)
    engine = create_async_engine(target, **kwargs)
    event.listen(engine.sync_engine, "handle_error", _node_gone_is_disconnect)
    return engine


def _node_gone_is_disconnect(context: Any) -> None:
    sqlstate = getattr(context.original_exception, "sqlstate", None)
    if sqlstate in PG_NODE_GONE_SQLSTATES:
        context.is_disconnect = True


def database_unavailable(error: BaseException) -> bool:
    """The database could not be reached, or its node stopped being the primary mid-request.

    Such a transaction was rolled back by the database (or never began); retrying it on the
    next primary is safe. Constraint violations and programming errors are not this.
    """
    if isinstance(error, IntegrityError):
        return False
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None)
        return (
            error.connection_invalidated
            or isinstance(error, (OperationalError, InterfaceError, InternalError))
            or sqlstate in PG_NODE_GONE_SQLSTATES
            or str(sqlstate or "").startswith("08")
        )
    return isinstance(error, (OSError, TimeoutError))


async def server_node(engine: AsyncEngine) -> str | None:
    """``address:port`` of the PostgreSQL node this engine talks to; None on SQLite.

    With a multi-host URL this is the node that is primary now, as seen from this process.
    """
    if engine.dialect.name != "postgresql":
        return None
    async with engine.connect() as connection:
        row = (
            await connection.execute(text("SELECT inet_server_addr(), inet_server_port()"))
        ).one()
    address, port = row
    return f"{address or 'local socket'}:{port}" if port is not None else "local socket"


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (use cases read them after the phase)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def statement_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions in which every statement commits on its own: no BEGIN and COMMIT round trips.

    Only for a read, a single atomic write, or a sequence of statements each correct alone
    (insert-on-conflict, compare-and-set): nothing here is rolled back together. Callers still
    write ``session.begin()``; on PostgreSQL (autocommit) it sends nothing, on SQLite these are
    ordinary sessions, so it takes the write lock as every SQLite transaction does.
    """
    if engine.dialect.name == "sqlite":
        return session_factory(engine)
    return session_factory(engine.execution_options(isolation_level="AUTOCOMMIT"))


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
