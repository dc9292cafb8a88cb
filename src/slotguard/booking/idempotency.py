"""Idempotent execution of a function call: Retell retries and LLM repeats run the work once.

The key is company + call id + function + canonical arguments, so a retry with the same
arguments replays the first reply, and a repeat that arrives while the first is still running
waits for it (across processes: the state is in the database). A repeat is a retry only for a
short window (``Context.replay_window``), only while no other change of the same call came
in between, and only while its reply still holds; otherwise it runs afresh.
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

from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.booking.context import Context
from slotguard.booking.replies import Reply, Status
from slotguard.domain import Reason
from slotguard.observability import get_logger
from slotguard.store.appointments import AppointmentRepository
from slotguard.store.db import database_unavailable
from slotguard.store.idempotency import Claim, ClaimState, IdempotencyRepository

log = get_logger("idempotency")

# Keys outlive their replay window only so that the purge has something to delete; a repeat
# after the window runs afresh (see Context.replay_window).
KEY_TTL = timedelta(hours=1)
# How long a repeat waits for the first request before answering "busy": less than Retell's
# tool timeout (20 s, set by `retell-tools`), so the agent hears an answer, not a timeout.
WAIT_BUDGET_SECONDS = 15.0
# First poll interval while waiting; doubles up to POLL_MAX_SECONDS.
POLL_SECONDS = 0.02
POLL_MAX_SECONDS = 0.25
# Functions that change a caller's appointments: after one of them finished in a call, an
# earlier reply of that call is no longer replayed (book, cancel, book again is two bookings).
CHANGES = frozenset({"book_appointment", "cancel_appointment", "reschedule_appointment"})
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
) -> Reply:
    """Run ``work`` at most once per key while a repeat is a retry; else run it afresh.

    A repeat is replayed only within ``ctx.replay_window``, when no other change of this call
    finished in between, and while what the reply reports still holds. Errors and busy
    answers are never stored, so "please try again" works.
    """
    scope = f"company:{company_id}"
    key, request_hash = key_for(company_id, call_id, function, args)
    deadline = time.monotonic() + WAIT_BUDGET_SECONDS
    pause = POLL_SECONDS
    while True:
        claim = await _claim(ctx, scope, key, request_hash, call_id, function)
        if claim.state is ClaimState.ACQUIRED:
            return await _run(ctx, scope, key, work)
        if claim.state is ClaimState.DONE and claim.reply is not None:
            reply = Reply.from_json(claim.reply)
            if await _still_a_retry(ctx, scope, key, call_id, claim, reply):
                return _replayed(ctx, function, call_id, reply)
            if await _retake(ctx, scope, key, request_hash):
                return await _run(ctx, scope, key, work)
        if claim.state is ClaimState.MISMATCH:
            return Reply(Status.ERROR, reason=Reason.INVALID_ARGUMENT)
        if time.monotonic() >= deadline:
            return Reply(Status.PENDING, reason=Reason.BUSY)
        await asyncio.sleep(pause)
        pause = min(pause * 2, POLL_MAX_SECONDS)


async def decide_once(
    ctx: Context,
    *,
    company_id: int,
    call_id: str,
    function: str,
    args: Mapping[str, Any],
    work: Callable[[AsyncSession], Awaitable[Reply]],
) -> Reply:
    """:func:`run_once` for work that only reads and writes the database (no calendar call).

    The claim, the work and the stored reply are one transaction: a repeat that arrives
    meanwhile waits on the claim's row until the first commits, then replays it (on SQLite
    the write lock orders them); a failure, or a failover cutting the transaction off, leaves
    no claim behind, so nothing needs releasing. Two statement sessions fewer per call.
    """
    scope = f"company:{company_id}"
    key, request_hash = key_for(company_id, call_id, function, args)
    now = ctx.clock()
    async with ctx.sessions() as session, session.begin():
        repo = IdempotencyRepository(session)
        claim = await repo.claim(
            scope, key, request_hash, now, ttl=KEY_TTL,
            lock_timeout=ctx.claim_timeout, call_id=call_id, function=function,
        )  # fmt: skip
        if claim.state is ClaimState.MISMATCH:
            return Reply(Status.ERROR, reason=Reason.INVALID_ARGUMENT)
        if claim.state is ClaimState.DONE and claim.reply is not None:
            reply = Reply.from_json(claim.reply)
            if await _holds(ctx, session, scope, key, call_id, claim, reply):
                return _replayed(ctx, function, call_id, reply)
            if not await repo.retake(scope, key, request_hash, now, KEY_TTL):
                return Reply(Status.PENDING, reason=Reason.BUSY)
        elif claim.state is not ClaimState.ACQUIRED:  # left in progress by another path
            return Reply(Status.PENDING, reason=Reason.BUSY)
        reply = await work(session)
        await _store(repo, scope, key, reply, ctx.clock())
        return reply


async def _claim(
    ctx: Context, scope: str, key: str, request_hash: str, call_id: str, function: str
) -> Claim:
    now = ctx.clock()
    try:
        # Each statement of a claim is atomic alone (insert-on-conflict, then
        # compare-and-set): no transaction around it, two round trips fewer per call.
        async with ctx.statements() as session, session.begin():
            return await IdempotencyRepository(session).claim(
                scope, key, request_hash, now, ttl=KEY_TTL,
                lock_timeout=ctx.claim_timeout, call_id=call_id, function=function,
            )  # fmt: skip
    except Exception as problem:
        if database_unavailable(problem):
            # A COMMIT cut off by a failover may have taken the key on the standby; no work
            # ran, so free our lock (not another request's) once the new primary answers.
            ctx.repairs.add(
                f"release idempotency key {key[:12]}",
                functools.partial(_release, ctx, scope, key, locked_at=now),
            )
        raise


async def _still_a_retry(
    ctx: Context, scope: str, key: str, call_id: str, claim: Claim, reply: Reply
) -> bool:
    """Within the window, no change in this call since, and the reply's appointment holds."""
    async with ctx.sessions() as session:
        return await _holds(ctx, session, scope, key, call_id, claim, reply)


async def _holds(
    ctx: Context,
    session: AsyncSession,
    scope: str,
    key: str,
    call_id: str,
    claim: Claim,
    reply: Reply,
) -> bool:
    finished = claim.finished_at
    if finished is None or finished <= ctx.clock() - ctx.replay_window:
        return False
    if await IdempotencyRepository(session).changed_since(scope, call_id, finished, CHANGES, key):
        return False
    if reply.status in (Status.BOOKED, Status.RESCHEDULED) and reply.appointment:
        current = await AppointmentRepository(session).get(reply.appointment.id)
        return current is not None and current.is_active
    return True


async def _retake(ctx: Context, scope: str, key: str, request_hash: str) -> bool:
    async with ctx.sessions() as session, session.begin():
        return await IdempotencyRepository(session).retake(
            scope, key, request_hash, ctx.clock(), KEY_TTL
        )


def replayable(reply: Reply) -> bool:
    """Errors and busy answers are never replayed: the next try must really try again."""
    if reply.status is Status.ERROR:
        return False
    return not (reply.status is Status.PENDING and reply.reason is Reason.BUSY)


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
        await _store(IdempotencyRepository(session), scope, key, reply, ctx.clock())


async def _store(
    repo: IdempotencyRepository, scope: str, key: str, reply: Reply, now: datetime
) -> None:
    """Keep the reply for repeats, or free the key when it must not be replayed."""
    if replayable(reply):
        await repo.finish(scope, key, reply.to_json(), now)
    else:
        await repo.release(scope, key)


def _replayed(ctx: Context, function: str, call_id: str, reply: Reply) -> Reply:
    """Count the replay and mark it in the log: this answer was given before, not recomputed."""
    ctx.metrics.idempotent_replays.labels(function=function).inc()
    log.info("idempotent_replay", function=function, call_id=call_id, status=reply.status.value)
    return reply


async def purge_expired(ctx: Context) -> int:
    """Delete keys past their expiry; run periodically."""
    async with ctx.sessions() as session, session.begin():
        return await IdempotencyRepository(session).delete_expired(ctx.clock())
