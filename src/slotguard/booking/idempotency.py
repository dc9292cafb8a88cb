"""Idempotent execution of a function call: Retell retries and LLM repeats run the work once.

The key is company + call id + function + canonical arguments, so a repeat with the same
arguments replays the first reply, and a repeat that arrives while the first is still running
waits for it (across processes: the state is in the database).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from slotguard.booking.context import Context
from slotguard.booking.replies import Reply, Status
from slotguard.domain import Reason
from slotguard.observability import get_logger
from slotguard.store.db import database_unavailable
from slotguard.store.idempotency import Claim, ClaimState, IdempotencyRepository

log = get_logger("idempotency")

# Retell may retry a call for hours in theory; 72 h outlives any call and its retries.
KEY_TTL = timedelta(hours=72)
# A holder that has not finished after this long crashed; Retell's default tool timeout is 120 s.
LOCK_TIMEOUT = timedelta(seconds=150)
# How long a repeat waits for the first request before answering "pending"; a voice turn
# cannot wait much longer, and Retell times the tool out at its own limit anyway.
WAIT_BUDGET_SECONDS = 25.0
# First poll interval while waiting; doubles up to POLL_MAX_SECONDS.
POLL_SECONDS = 0.02
POLL_MAX_SECONDS = 0.25
_SENSITIVE = ("phone", "number", "email")


def canonical_args(args: Mapping[str, Any]) -> str:
    """Stable JSON of the arguments: sorted keys, trimmed case-folded text, contacts hashed."""
    clean: dict[str, Any] = {}
    for name, value in sorted(args.items()):
        if value is None or value == "":
            continue
        if isinstance(value, str):
            value = " ".join(value.split()).casefold()
            if any(word in name for word in _SENSITIVE):
                value = hashlib.sha256(value.encode()).hexdigest()
        clean[name] = value
    return json.dumps(clean, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def key_for(
    company_id: int, call_id: str, function: str, args: Mapping[str, Any]
) -> tuple[str, str]:
    """(key, request hash) for one function call."""
    canonical = canonical_args(args)
    request_hash = hashlib.sha256(canonical.encode()).hexdigest()
    key = hashlib.sha256(f"{company_id}|{call_id}|{function}|{canonical}".encode()).hexdigest()
    return key, request_hash


async def run_once(
    ctx: Context,
    *,
    company_id: int,
    call_id: str,
    function: str,
    args: Mapping[str, Any],
    work: Callable[[], Awaitable[Reply]],
    ttl: timedelta = KEY_TTL,
) -> Reply:
    """Run ``work`` at most once per key; repeats get the stored reply, or wait for it.

    After ``ttl`` the same request runs afresh (a read whose answer may have changed).
    """
    scope = f"company:{company_id}"
    key, request_hash = key_for(company_id, call_id, function, args)
    deadline = time.monotonic() + WAIT_BUDGET_SECONDS
    pause = POLL_SECONDS
    while True:
        claim = await _claim(ctx, scope, key, request_hash, ttl)
        if claim.state is ClaimState.ACQUIRED:
            return await _run(ctx, scope, key, work)
        if claim.state is ClaimState.DONE and claim.reply is not None:
            ctx.metrics.idempotent_replays.labels(function=function).inc()
            replayed = Reply.from_json(claim.reply)
            # Marks the request in the log: this answer was given before and not recomputed.
            log.info(
                "idempotent_replay",
                function=function,
                call_id=call_id,
                status=replayed.status.value,
            )
            return replayed
        if claim.state is ClaimState.MISMATCH:
            return Reply(Status.ERROR, reason=Reason.INVALID_ARGUMENT)
        if time.monotonic() >= deadline:
            return Reply(Status.PENDING, reason=Reason.BUSY)
        await asyncio.sleep(pause)
        pause = min(pause * 2, POLL_MAX_SECONDS)


async def _claim(ctx: Context, scope: str, key: str, request_hash: str, ttl: timedelta) -> Claim:
    now = ctx.clock()
    try:
        # Each statement of a claim is atomic alone (insert-on-conflict, then
        # compare-and-set): no transaction around it, two round trips fewer per call.
        async with ctx.statements() as session, session.begin():
            return await IdempotencyRepository(session).claim(
                scope, key, request_hash, now, ttl=ttl, lock_timeout=LOCK_TIMEOUT
            )
    except Exception as problem:
        if database_unavailable(problem):
            # A COMMIT cut off by a failover may have taken the key on the standby; no work
            # ran, so free our lock (not another request's) once the new primary answers.
            ctx.repairs.add(
                f"release idempotency key {key[:12]}",
                functools.partial(_release, ctx, scope, key, locked_at=now),
            )
        raise


async def _run(ctx: Context, scope: str, key: str, work: Callable[[], Awaitable[Reply]]) -> Reply:
    try:
        reply = await work()
    except BaseException as problem:
        # Nothing was promised to anyone: let the next attempt run the request afresh.
        release = functools.partial(_release, ctx, scope, key)
        if isinstance(problem, Exception) and database_unavailable(problem):
            # Cut off by a failover: queue it behind what this request queued itself (an
            # in-doubt reservation is failed before a retry may run).
            ctx.repairs.add(f"release idempotency key {key[:12]}", release)
        else:
            await _owed(ctx, f"release idempotency key {key[:12]}", release)
        raise
    # The reply is decided (a booking may exist): it is given even if it cannot be stored now.
    await _owed(
        ctx, f"store reply of {key[:12]}", functools.partial(_finish, ctx, scope, key, reply)
    )
    return reply


async def _owed(ctx: Context, name: str, write: Callable[[], Awaitable[None]]) -> None:
    """Do ``write`` now; if the database is gone (failover), queue it for when it is back."""
    try:
        await write()
    except Exception as problem:
        if not database_unavailable(problem):
            raise
        ctx.repairs.add(name, write)


async def _release(
    ctx: Context, scope: str, key: str, *, locked_at: datetime | None = None
) -> None:
    async with ctx.statements() as session, session.begin():
        await IdempotencyRepository(session).release(scope, key, locked_at=locked_at)


async def _finish(ctx: Context, scope: str, key: str, reply: Reply) -> None:
    async with ctx.statements() as session, session.begin():
        await IdempotencyRepository(session).finish(scope, key, reply.to_json(), ctx.clock())


async def purge_expired(ctx: Context) -> int:
    """Delete keys past their expiry; run periodically."""
    async with ctx.sessions() as session, session.begin():
        return await IdempotencyRepository(session).delete_expired(ctx.clock())
