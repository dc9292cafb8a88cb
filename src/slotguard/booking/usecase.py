"""The one shape of a use case that changes something: args dataclass in, phases, Reply out.

``run`` routes the call to its company and runs the body at most once per (call, function,
arguments) through ``idempotency``, so a retried request replays the first reply; ``decide``
does the same for a body that only uses the database, in one transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.booking import idempotency
from slotguard.booking.context import Context
from slotguard.booking.replies import Reply
from slotguard.booking.resolve import CallRef, company_for
from slotguard.domain import Company

A = TypeVar("A")
Body = Callable[[Context, Company, CallRef, A], Awaitable[Reply]]
# A body that only reads and writes the database, in the transaction it is given.
DatabaseBody = Callable[[Context, AsyncSession, Company, CallRef, A], Awaitable[Reply]]


async def run(
    ctx: Context,
    call: CallRef,
    function: str,
    args: A,
    body: Body[A],
) -> Reply:
    """Run ``body`` once for this call, function and ``args`` (a dataclass); replay repeats."""
    company = await company_for(ctx, call)

    async def work() -> Reply:
        return await body(ctx, company, call, args)

    return await idempotency.run_once(ctx, **_key(company, call, function, args), work=work)


async def decide(
    ctx: Context,
    call: CallRef,
    function: str,
    args: A,
    body: DatabaseBody[A],
) -> Reply:
    """:func:`run` for a body without calendar calls: claim, body and stored reply commit
    together in one transaction (``idempotency.decide_once``)."""
    company = await company_for(ctx, call)

    async def work(session: AsyncSession) -> Reply:
        return await body(ctx, session, company, call, args)

    return await idempotency.decide_once(ctx, **_key(company, call, function, args), work=work)


def _key(company: Company, call: CallRef, function: str, args: object) -> dict[str, Any]:
    """What makes a request the same request: company, call, function and arguments."""
    fields: dict[str, Any] = asdict(args)  # type: ignore[call-overload]
    return {
        "company_id": company.id,
        "call_id": call.call_id,
        "function": function,
        "args": fields,
    }
