"""Bulk writers for the seed: binary COPY on PostgreSQL, batched executemany on SQLite.

Both write whole tables of plain tuples in one transaction; the seed decides what the rows are.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.store.tables import AppointmentRow, Base

Row = tuple[Any, ...]
# SQLite rows per executemany: large batches amortise the per-statement cost.
SQLITE_BATCH = 5_000


class BulkTable:
    """A table's name and the columns the seed writes, in row order."""

    def __init__(self, name: str, columns: str, json_columns: str = "") -> None:
        self.name = name
        self.columns = tuple(columns.split())
        self.json_columns = frozenset(json_columns.split())


COMPANIES = BulkTable(
    "companies",
    "id slug name timezone language max_appointments_per_day same_service_window_days calendar"
    " opening_hours created_at updated_at",
    "opening_hours",
)
SERVICES_TABLE = BulkTable(
    "services",
    "id company_id name aliases duration_minutes calcom_event_type_id active",
    "aliases",
)
CUSTOMERS = BulkTable("customers", "id company_id name phone_e164 email created_at updated_at")
# call_id, rescheduled_from_id and duplicate_of_id stay NULL, so COPY leaves them out.
APPOINTMENTS = BulkTable(
    "appointments",
    "id company_id customer_id service_id starts_at ends_at status calcom_booking_id"
    " calcom_booking_uid reservation_key source failure_reason reconcile_attempts deleted_at"
    " created_at updated_at",
)
DECISIONS = BulkTable(
    "duplicate_decisions",
    "id company_id customer_id function layer result reason action service_id requested_start"
    " requested_end existing_appointment_id false_positive created_at",
)
TABLES = (COMPANIES, SERVICES_TABLE, CUSTOMERS, APPOINTMENTS, DECISIONS)


async def writer_for(connection: AsyncConnection) -> CopyWriter | BatchWriter:
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        return CopyWriter(raw.driver_connection)
    return BatchWriter(connection)


class CopyWriter:
    """PostgreSQL: binary COPY on the pooled asyncpg connection, in one transaction."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        return self.driver.transaction()  # type: ignore[no-any-return]

    async def prepare(self) -> None:
        """Lock out other writers; skip the foreign-key triggers when allowed to.

        Writers wait until the seed commits, so the ids it picked stay free; readers do not.
        Every reference is to a row written just before in this transaction, so the per-row
        foreign-key checks (a third of the COPY time) are skipped like ``pg_restore
        --disable-triggers`` does; only a superuser may. Unique indexes and the exclusion
        constraint are indexes, not triggers: they still check every row.
        """
        names = ", ".join(t.name for t in TABLES)
        await self.driver.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
        superuser = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        if await self.driver.fetchval(superuser):
            await self.driver.execute("SET LOCAL session_replication_role = replica")

    async def is_empty(self) -> bool:
        return not await self.driver.fetchval("SELECT EXISTS (SELECT 1 FROM appointments)")

    async def first_id(self, table: BulkTable) -> int:
        sequence = await self.driver.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table.name)
        used = await self.driver.fetchval(
            f"SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table.name}), "  # noqa: S608 - own table and sequence names
            f"(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {sequence}))"
        )
        return int(used) + 1

    async def write(self, table: BulkTable, rows: Iterable[Row]) -> None:
        if table.json_columns:
            rows = as_json(table, rows)
        await self.driver.copy_records_to_table(table.name, records=rows, columns=table.columns)

    async def advance(self, table: BulkTable, last_id: int) -> None:
        await self.driver.execute(
            "SELECT setval(pg_get_serial_sequence($1, 'id'), $2)", table.name, last_id
        )

    async def analyze(self) -> None:
        await self.driver.execute(f"ANALYZE {', '.join(t.name for t in TABLES)}")


class BatchWriter:
    """SQLite: batched executemany in one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        return self.connection.begin()

    async def prepare(self) -> None:
        """``BEGIN IMMEDIATE`` already holds the database's only write lock."""

    async def is_empty(self) -> bool:
        query = select(AppointmentRow.id).limit(1)
        return (await self.connection.scalar(query)) is None

    async def first_id(self, table: BulkTable) -> int:
        column = Base.metadata.tables[table.name].c.id
        return int(await self.connection.scalar(select(func.max(column))) or 0) + 1

    async def write(self, table: BulkTable, rows: Iterable[Row]) -> None:
        target = Base.metadata.tables[table.name]
        iterator = iter(rows)
        while batch := list(itertools.islice(iterator, SQLITE_BATCH)):
            values = [dict(zip(table.columns, row, strict=True)) for row in batch]
            await self.connection.execute(insert(target), values)

    async def advance(self, table: BulkTable, last_id: int) -> None:
        """SQLite continues after the largest rowid by itself."""

    async def analyze(self) -> None:
        async with self.connection.begin():
            await self.connection.execute(text("ANALYZE"))


def as_json(table: BulkTable, rows: Iterable[Row]) -> Iterator[Row]:
    positions = {table.columns.index(name) for name in table.json_columns}
    for row in rows:
        yield tuple(json.dumps(v) if i in positions else v for i, v in enumerate(row))
