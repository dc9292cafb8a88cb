"""Idempotency keys (Stripe semantics): one execution per key, the stored reply replayed."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from slotguard.store.sql import insert_ignore_on, once_per_dialect, table_of
from slotguard.store.tables import IdempotencyKeyRow

_KEYS = table_of(IdempotencyKeyRow)


@once_per_dialect
def _claim(dialect: str) -> ReturningInsert[int]:
    return insert_ignore_on(dialect, _KEYS, ["scope", "key"]).returning(_KEYS.c.id)


@once_per_dialect
def _finish(dialect: str) -> Update:
    return (
        update(_KEYS)
        .where(_KEYS.c.scope == bindparam("match_scope"), _KEYS.c.key == bindparam("match_key"))
        .values(
            state="done",
            reply=bindparam("reply"),
            locked_at=None,
            finished_at=bindparam("finished_at"),
        )
    )


class ClaimState(enum.StrEnum):
    """What a claim found."""

    ACQUIRED = "acquired"  # we run the request
    DONE = "done"  # a stored reply exists
    IN_FLIGHT = "in_flight"  # another request holds the key right now
    MISMATCH = "mismatch"  # same key, different request body


@dataclass(frozen=True)
class Claim:
    """The result of one claim attempt; ``finished_at`` is when a stored reply was made."""

    state: ClaimState
    reply: dict[str, Any] | None = None
    finished_at: datetime | None = None


class IdempotencyRepository:
    """Claims, finishes, releases and expires keys. Flushes only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self,
        scope: str,
        key: str,
        request_hash: str,
        now: datetime,
        *,
        ttl: timedelta,
        lock_timeout: timedelta,
        call_id: str | None = None,
        function: str | None = None,
    ) -> Claim:
        """Take the key, or report who has it. A lock older than ``lock_timeout`` is taken over.

        The insert is ON CONFLICT DO NOTHING, so of many parallel claimers exactly one acquires.
        """
        values = {
            "scope": scope,
            "key": key,
            "request_hash": request_hash,
            "state": "in_progress",
            "locked_at": now,
            "created_at": now,
            "expires_at": now + ttl,
            "call_id": call_id,
            "function": function,
        }
        inserted = await self.session.execute(_claim(self.session), values)
        if inserted.first() is not None:
            return Claim(ClaimState.ACQUIRED)
        row = await self.session.scalar(
            select(IdempotencyKeyRow).where(
                IdempotencyKeyRow.scope == scope, IdempotencyKeyRow.key == key
            )
        )
        if row is None:  # deleted between our insert and select: try again later
            return Claim(ClaimState.IN_FLIGHT)
        if row.expires_at <= now or (
            row.state == "in_progress"
            and row.locked_at is not None
            and row.locked_at <= now - lock_timeout
        ):
            return await self._take_over(row, request_hash, now, ttl)
        if row.request_hash != request_hash:
            return Claim(ClaimState.MISMATCH)
        if row.state == "done":
            return Claim(ClaimState.DONE, row.reply, row.finished_at or row.created_at)
        return Claim(ClaimState.IN_FLIGHT)

    async def retake(
        self, scope: str, key: str, request_hash: str, now: datetime, ttl: timedelta
    ) -> bool:
        """Run a finished key again (its reply no longer holds); False when another retook it."""
        result = await self.session.execute(
            update(IdempotencyKeyRow)
            .where(
                IdempotencyKeyRow.scope == scope,
                IdempotencyKeyRow.key == key,
                IdempotencyKeyRow.state == "done",
            )
            .values(
                state="in_progress",
                request_hash=request_hash,
                reply=None,
                locked_at=now,
                created_at=now,
                expires_at=now + ttl,
                finished_at=None,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def changed_since(
        self, scope: str, call_id: str, since: datetime, functions: frozenset[str], key: str
    ) -> bool:
        """Whether another of ``functions`` in the same call finished since ``since``.

        Inclusive: with equal timestamps the repeat is run afresh, which is always safe.
        """
        found = await self.session.scalar(
            select(IdempotencyKeyRow.id)
            .where(
                IdempotencyKeyRow.scope == scope,
                IdempotencyKeyRow.call_id == call_id,
                IdempotencyKeyRow.key != key,
                IdempotencyKeyRow.function.in_(sorted(functions)),
                IdempotencyKeyRow.finished_at >= since,
            )
            .limit(1)
        )
        return found is not None

    async def finish(self, scope: str, key: str, reply: dict[str, Any], now: datetime) -> None:
        """Store the reply; later claims replay it."""
        await self.session.execute(
            _finish(self.session),
            {"match_scope": scope, "match_key": key, "reply": reply, "finished_at": now},
        )

    async def release(self, scope: str, key: str, *, locked_at: datetime | None = None) -> None:
        """Forget an in-progress key after an unexpected failure, so a retry may run.

        With ``locked_at``, only a lock taken at that moment (ours) is released.
        """
        query = delete(IdempotencyKeyRow).where(
            IdempotencyKeyRow.scope == scope,
            IdempotencyKeyRow.key == key,
            IdempotencyKeyRow.state == "in_progress",
        )
        if locked_at is not None:
            query = query.where(IdempotencyKeyRow.locked_at == locked_at)
        await self.session.execute(query)

    async def delete_expired(self, now: datetime) -> int:
        """Remove keys past their expiry; returns how many."""
        result = await self.session.execute(
            delete(IdempotencyKeyRow).where(IdempotencyKeyRow.expires_at <= now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def _take_over(
        self, row: IdempotencyKeyRow, request_hash: str, now: datetime, ttl: timedelta
    ) -> Claim:
        # Compare-and-set on the old lock time: of two takers-over only one wins.
        same_lock = (
            IdempotencyKeyRow.locked_at.is_(None)
            if row.locked_at is None
            else IdempotencyKeyRow.locked_at == row.locked_at
        )
        result = await self.session.execute(
            update(IdempotencyKeyRow)
            .where(IdempotencyKeyRow.id == row.id, same_lock)
            .values(
                state="in_progress",
                request_hash=request_hash,
                reply=None,
                locked_at=now,
                expires_at=now + ttl,
            )
        )
        won = bool(result.rowcount)  # type: ignore[attr-defined]
        return Claim(ClaimState.ACQUIRED if won else ClaimState.IN_FLIGHT)
