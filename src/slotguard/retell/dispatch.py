"""Retell tool name → use case, with argument checking. The tool name is the use-case name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from slotguard import spoken
from slotguard.booking.availability import AvailabilityArgs, check_availability
from slotguard.booking.book import BookArgs, book_appointment
from slotguard.booking.cancel import CancelArgs, cancel_appointment
from slotguard.booking.check_customer import check_customer
from slotguard.booking.collect import CollectArgs, collect_appointment_data
from slotguard.booking.context import Context
from slotguard.booking.errors import InvalidArgument
from slotguard.booking.query import QueryArgs, query_appointment
from slotguard.booking.replies import Reply
from slotguard.booking.reschedule import RescheduleArgs, reschedule_appointment
from slotguard.booking.resolve import CallRef
from slotguard.retell.schemas import RetellCall

Handler = Callable[[Context, CallRef, dict[str, Any]], Awaitable[Reply]]
# The longest argument we accept; a spoken name or phrase is far shorter.
MAX_ARG_LENGTH = 500
# The name is stored in customers.name (200 characters), so a longer one is an invalid
# argument and never a database error. Emails are validated, which bounds them at 254.
NAME_LENGTH = 200


def call_ref(call: RetellCall) -> CallRef:
    """Our view of Retell's call object."""
    started = (
        None
        if call.start_timestamp is None
        else datetime.fromtimestamp(call.start_timestamp / 1000, UTC)
    )
    return CallRef(call.call_id, call.agent_id, call.from_number, call.to_number, started)


def _text(
    args: dict[str, Any], name: str, *, required: bool = False, limit: int = MAX_ARG_LENGTH
) -> str | None:
    value = args.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidArgument(name, "missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidArgument(name, "must be text", value)
    text = str(value).strip()
    if len(text) > limit:
        raise InvalidArgument(name, "too long")
    return text


def _email(args: dict[str, Any]) -> str | None:
    """The caller's email address, spoken forms ("max at example dot com") made exact."""
    text = _text(args, "customer_email")
    if text is None:
        return None
    try:
        return spoken.spoken_email(text)
    except spoken.InvalidEmail:
        raise InvalidArgument("customer_email", "invalid_email", text) from None


def _flag(args: dict[str, Any], name: str) -> bool:
    value = args.get(name, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in (
        "true",
        "false",
        "ja",
        "nein",
        "yes",
        "no",
        "",
    ):
        return value.strip().lower() in ("true", "ja", "yes")
    raise InvalidArgument(name, "must be true or false", value)


async def _check_customer(ctx: Context, call: CallRef, args: dict[str, Any]) -> Reply:
    return await check_customer(ctx, call)


async def _check_availability(ctx: Context, call: CallRef, args: dict[str, Any]) -> Reply:
    wish = AvailabilityArgs(
        service=_text(args, "service", required=True),
        date=_text(args, "date", required=True),
        time=_text(args, "time"),
        staff=_text(args, "staff"),
    )
    return await check_availability(ctx, call, wish)


async def _collect(ctx: Context, call: CallRef, args: dict[str, Any]) -> Reply:
    collect = CollectArgs(
        customer_name=_text(args, "customer_name", required=True, limit=NAME_LENGTH),
        service=_text(args, "service", required=True),
        date=_text(args, "date", required=True),
        time=_text(args, "time"),  # may be said in `date`: "morgen um 14 Uhr"
        customer_email=_email(args),
        staff=_text(args, "staff"),
    )
    return await collect_appointment_data(ctx, call, collect)


async def _book(ctx: Context, call: CallRef, args: dict[str, Any]) -> Reply:
    book = BookArgs(
        customer_name=_text(args, "customer_name", required=True, limit=NAME_LENGTH),
        service=_text(args, "service", required=True),
        date=_text(args, "date", required=True),
        time=_text(args, "time"),  # may be said in `date`: "morgen um 14 Uhr"
        customer_email=_email(args),
        confirm_duplicate=_flag(args, "confirm_duplicate"),
        staff=_text(args, "staff"),
    )
    return await book_appointment(ctx, call, book)


async def _query(ctx: Context, call: CallRef, args: dict[str, Any]) -> Reply:
    return await query_appointment(ctx, call, QueryArgs(_text(args, "date")))


async def _reschedule(ctx: Context, call: CallRef, args: dict[str, Any]) -> Reply:
    move = RescheduleArgs(
        new_date=_text(args, "new_date", required=True),
        new_time=_text(args, "new_time"),
        date=_text(args, "date"),
        time=_text(args, "time"),
        service=_text(args, "service"),
    )
    return await reschedule_appointment(ctx, call, move)


async def _cancel(ctx: Context, call: CallRef, args: dict[str, Any]) -> Reply:
    hints = CancelArgs(_text(args, "date"), _text(args, "time"), _text(args, "service"))
    return await cancel_appointment(ctx, call, hints)


FUNCTIONS: dict[str, Handler] = {
    "check_customer": _check_customer,
    "check_availability": _check_availability,
    "collect_appointment_data": _collect,
    "book_appointment": _book,
    "query_appointment": _query,
    "reschedule_appointment": _reschedule,
    "cancel_appointment": _cancel,
}
