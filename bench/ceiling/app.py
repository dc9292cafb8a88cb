"""The floor's stack doing only the database round trips of one function call of slotguard.

Served by ``bench/ceiling/run.sh`` beside ``../shared/perf/floor.py``, in the floor's virtualenv
(FastAPI, pydantic, uvicorn with uvloop and httptools, raw asyncpg), on a migrated slotguard
database with the demo tenant. It runs none of slotguard's logic, so its rate is what *any*
Python service could reach with that sequence of statements: an upper bound, not a target.

``CEILING_SHAPE`` picks the sequence:
- ``recording``: what collect sent before it answered clear asks by reading (c79ea46): in one
  transaction the idempotency claim, the call row, a new person, the call linked to them,
  the Layer 1+2 read and the stored reply; then the local calendar read once per stylist and
  the "failed booking?" read. 12 round trips, 5 writes.
- ``reading``: what it sends now for a caller not recorded yet: the call row (one autocommit
  upsert) and one calendar read for every stylist. 2 round trips, 1 write.
- ``reading_known``: the same for a known person: the household read, the Layer 1+2 read,
  the call row and the calendar read. 4 round trips, 1 write.
- ``booking``: what ``book_appointment`` sends for a new caller on the local calendar, in its
  phases: the claim; identify (call row, household, a new person, the link) in a transaction;
  the calendar read; reserve (customer lock, Layers 1+2, the decision, the pending row); the
  local calendar's booking (calendar lock, busy read, confirm); settle (booked, call linked);
  the stored reply. 24 round trips, 6 commits.
- ``booking_one``: the same statements in one transaction (what a local calendar, which needs
  no network call between reserve and settle, would allow). 17 round trips, 1 commit.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI
from pydantic import BaseModel


class Call(BaseModel):
    call_id: str
    agent_id: str | None = None
    from_number: str | None = None


class Body(BaseModel):
    name: str
    call: Call
    args: dict[str, Any]


ACTIVE = ["booked", "pending", "scheduled", "confirmed"]
SHAPE = os.environ.get("CEILING_SHAPE", "recording")
# CEILING_CALENDAR_LOCK=0: the booking shapes without the local calendar's company-wide lock.
CALENDAR_LOCK = os.environ.get("CEILING_CALENDAR_LOCK", "1") != "0"
state: dict[str, Any] = {}

CLAIM = (
    "INSERT INTO idempotency_keys (scope, key, request_hash, state, locked_at, created_at,"
    " expires_at, call_id, function) VALUES ($1, $2, $3, 'in_progress', $4, $4, $5, $6, $7)"
    " ON CONFLICT (scope, key) DO NOTHING RETURNING id"
)
CALL = (
    "INSERT INTO calls (call_id, company_id, agent_id, from_number, appointment_link_status,"
    " created_at, updated_at) VALUES ($1, 1, $2, $3, 'none', $4, $4) ON CONFLICT (call_id)"
    " DO UPDATE SET customer_id = coalesce(excluded.customer_id, calls.customer_id),"
    " updated_at = excluded.updated_at RETURNING id, customer_id, appointment_link_status"
)
PERSON = (
    "INSERT INTO customers (company_id, name, name_key, created_at, updated_at)"
    " VALUES (1, $1, $2, $3, $3) RETURNING id"
)
LINK = "UPDATE calls SET customer_id = $1, updated_at = $2 WHERE id = $3"
HOUSEHOLD = (
    "SELECT id, name, email, phone_e164 FROM customers WHERE company_id = 1"
    " AND household_phone = $1 AND forgotten_at IS NULL ORDER BY id"
)
LAYERS = (
    "SELECT a.id, a.company_id, a.customer_id, a.service_id, a.starts_at, a.ends_at, a.status,"
    " a.reservation_key, a.calcom_booking_uid, a.calcom_booking_id, a.deleted_at,"
    " a.rescheduled_from_id, a.staff_key, s.name FROM appointments a"
    " JOIN services s ON s.id = a.service_id WHERE a.company_id = 1"
    " AND a.customer_id = ANY($1::bigint[]) AND a.starts_at >= $2 AND a.starts_at < $3"
    " AND a.status = ANY($4::varchar[]) AND a.deleted_at IS NULL AND a.duplicate_of_id IS NULL"
    " ORDER BY a.starts_at"
)
STORE = (
    "UPDATE idempotency_keys SET state = 'done', reply = $1::json, locked_at = NULL,"
    " finished_at = $2 WHERE scope = $3 AND key = $4"
)
BUSY_OF = (
    "SELECT a.starts_at, a.ends_at, s.rules FROM appointments a"
    " JOIN services s ON s.id = a.service_id WHERE a.company_id = 1 AND a.starts_at < $1"
    " AND a.starts_at > $2::timestamptz - interval '1 day' AND a.ends_at > $2"
    " AND a.status = ANY($4::varchar[]) AND a.deleted_at IS NULL AND a.staff_key = $3"
)
BUSY_ALL = (
    "SELECT a.staff_key, a.starts_at, a.ends_at, s.rules FROM appointments a"
    " JOIN services s ON s.id = a.service_id WHERE a.company_id = 1 AND a.starts_at < $1"
    " AND a.starts_at > $2::timestamptz - interval '1 day' AND a.ends_at > $2"
    " AND a.status = ANY($3::varchar[]) AND a.deleted_at IS NULL"
)
LOCK = "SELECT pg_advisory_xact_lock(hashtext($1), $2)"
DECISION = (
    "INSERT INTO duplicate_decisions (company_id, customer_id, call_id, function, layer, result,"
    " reason, action, service_id, requested_start, requested_end, false_positive, created_at)"
    " VALUES (1, $1, $2, 'book_appointment', 2, 'clear', 'none', 'allowed', 1, $3, $4, false, $5)"
)
HOLD = (
    "INSERT INTO appointments (company_id, customer_id, service_id, starts_at, ends_at, status,"
    " reservation_key, source, call_id, reconcile_attempts, staff_key, created_at, updated_at)"
    " VALUES (1, $1, 1, $2, $3, $4, $5, 'agent', $6, 0, 'anna', $7, $7) RETURNING id"
)
CONFIRM = (
    "UPDATE appointments SET calcom_booking_uid = $1, staff_key = 'anna', updated_at = $2"
    " WHERE reservation_key = $3 AND status = 'pending'"
)
BOOKED = "UPDATE appointments SET status = 'booked', updated_at = $2 WHERE id = $1"
LINKED = (
    "UPDATE calls SET appointment_id = $1, appointment_link_status = 'booked', updated_at = $2"
    " WHERE id = $3"
)
FAILED = (
    "SELECT id, appointment_id FROM calls WHERE call_id = $1"
    " AND appointment_link_status = 'failed' AND appointment_id IS NOT NULL"
)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    state["pool"] = await asyncpg.create_pool(os.environ["CEILING_DSN"], min_size=4, max_size=10)
    yield
    await state["pool"].close()


app = FastAPI(lifespan=lifespan)


@app.post("/retell/functions/{name}")
async def function(name: str, body: Body) -> dict[str, Any]:
    now = datetime.now(UTC)
    day = now + timedelta(days=16)
    call = body.call
    async with state["pool"].acquire() as con:
        if SHAPE == "recording":
            key = hashlib.sha256(json.dumps([call.call_id, name, body.args]).encode()).hexdigest()
            async with con.transaction():
                await con.fetchval(
                    CLAIM, "company:1", key, key, now, now + timedelta(hours=1), call.call_id, name
                )
                row = await con.fetchrow(CALL, call.call_id, call.agent_id, call.from_number, now)
                person = row["customer_id"]
                if person is None:
                    person = await con.fetchval(PERSON, "Max Muster", "max muster", now)
                    await con.execute(LINK, person, now, row["id"])
                await con.fetch(LAYERS, [person], now, now + timedelta(days=46), ACTIVE)
                await con.execute(STORE, '{"status": "ok"}', now, "company:1", key)
            for stylist in ("anna", "jonas"):
                await con.fetch(BUSY_OF, day, day - timedelta(days=1), stylist, ACTIVE)
            await con.fetch(FAILED, call.call_id)
        elif SHAPE.startswith("booking"):
            await _booking(con, name, body, now, day)
        else:
            if SHAPE == "reading_known":
                await con.fetch(HOUSEHOLD, call.from_number)
                await con.fetch(LAYERS, [1], now, now + timedelta(days=46), ACTIVE)
            await con.fetchrow(CALL, call.call_id, call.agent_id, call.from_number, now)
            await con.fetch(BUSY_ALL, day, day - timedelta(days=1), ACTIVE)
    return {"status": "ok", "message": "Der Termin ist frei.", "shape": SHAPE}


async def _booking(con: Any, name: str, body: Body, now: datetime, day: datetime) -> None:
    """book_appointment's statements for a new caller: in phases, or all in one transaction."""
    call = body.call
    key = hashlib.sha256(json.dumps([call.call_id, name, body.args]).encode()).hexdigest()
    start = day + timedelta(minutes=15 * (int(key[:6], 16) % 20000))
    end = start + timedelta(minutes=30)
    one = SHAPE == "booking_one"

    async def step(statements: Any) -> Any:
        if one:
            return await statements()
        async with con.transaction():
            return await statements()

    async def identify() -> Any:
        row = await con.fetchrow(CALL, call.call_id, call.agent_id, call.from_number, now)
        await con.fetch(HOUSEHOLD, call.from_number)
        person = await con.fetchval(PERSON, call.call_id, call.call_id, now)
        await con.execute(LINK, person, now, row["id"])
        return person, row["id"]

    async def reserve() -> int:
        await con.execute(LOCK, "slotguard.customer", person)
        await con.fetch(LAYERS, [person], now, now + timedelta(days=46), ACTIVE)
        await con.execute(DECISION, person, call_row, start, end, now)
        status = "booked" if one else "pending"
        return int(await con.fetchval(HOLD, person, start, end, status, key, call_row, now))

    async def calendar() -> None:
        if CALENDAR_LOCK:
            await con.execute(LOCK, "slotguard.local_calendar", 1)
        await con.fetch(BUSY_OF, end, start - timedelta(days=1), "anna", ACTIVE)
        await con.execute(CONFIRM, "local-" + key, now, key)

    async def settle() -> None:
        if not one:
            await con.execute(BOOKED, appointment, now)
        await con.execute(LINKED, appointment, now, call_row)

    transaction = con.transaction() if one else None
    if transaction is not None:
        await transaction.start()
    await con.fetchval(
        CLAIM, "company:1", key, key, now, now + timedelta(hours=1), call.call_id, name
    )
    person, call_row = await step(identify)
    await con.fetch(BUSY_ALL, end, start - timedelta(days=1), ACTIVE)
    appointment = await step(reserve)
    await step(calendar)
    await step(settle)
    await con.execute(STORE, '{"status": "booked"}', now, "company:1", key)
    if transaction is not None:
        await transaction.commit()
