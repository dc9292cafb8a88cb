"""The one shape of a use case that changes something: args dataclass in, phases, Reply out.

``run`` routes the call to its company and runs the body at most once per (call, function,
arguments) through ``idempotency``, so a retried request replays the first reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, TypeVar

from slotguard.booking import idempotency
from slotguard.booking.context import Context
from slotguard.booking.replies import Reply
from slotguard.booking.resolve import CallRef, company_for
from slotguard.domain import Company

A = TypeVar("A")
Body = Callable[[Context, Company, CallRef, A], Awaitable[Reply]]


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

    fields: dict[str, Any] = asdict(args)  # type: ignore[call-overload]
    return await idempotency.run_once(
        ctx,
        company_id=company.id,
        call_id=call.call_id,
        function=function,
        args=fields,
        work=work,
    )
