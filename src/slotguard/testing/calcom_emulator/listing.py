"""`GET /v2/bookings` filters, sorting and pagination (docs/calcom-and-retell-facts.md §2.5), over
plain rows."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .model import Booking, validation_failed
from .validation import parse_datetime

STATUSES = frozenset({"upcoming", "recurring", "past", "cancelled", "unconfirmed"})
MAX_TAKE = 250  # get-bookings.input.ts bounds
DEFAULT_TAKE = 100
_SORTS: dict[str, Callable[[Booking], datetime]] = {
    "sortStart": lambda row: row.start,
    "sortEnd": lambda row: row.end,
    "sortCreated": lambda row: row.created_at,
    "sortUpdatedAt": lambda row: row.updated_at,
}
_TIME_FILTERS: dict[str, tuple[Callable[[Booking], datetime], bool]] = {
    "afterStart": (lambda row: row.start, True),  # True: row value must be >= the parameter
    "beforeEnd": (lambda row: row.end, False),
    "afterCreatedAt": (lambda row: row.created_at, True),
    "beforeCreatedAt": (lambda row: row.created_at, False),
    "afterUpdatedAt": (lambda row: row.updated_at, True),
    "beforeUpdatedAt": (lambda row: row.updated_at, False),
}


@dataclass
class _Criteria:
    statuses: set[str] = field(default_factory=set)
    attendee_email: str | None = None
    attendee_name: str | None = None
    booking_uid: str | None = None
    event_type_ids: set[int] = field(default_factory=set)
    times: dict[str, datetime] = field(default_factory=dict)
    sorts: list[tuple[str, bool]] = field(default_factory=list)  # (param, descending)
    take: int = DEFAULT_TAKE
    skip: int = 0


def _error(prop: str, value: Any, message: str) -> dict[str, Any]:
    return {"property": prop, "value": value, "constraints": {prop: message}}


def _int(query: Mapping[str, str], key: str, low: int, high: int, default: int) -> int | None:
    raw = query.get(key)
    if raw is None:
        return default
    return int(raw) if raw.isascii() and raw.isdigit() and low <= int(raw) <= high else None


def _ints(raw: str) -> set[int] | None:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    return (
        {int(part) for part in parts}
        if all(part.isascii() and part.isdigit() for part in parts)
        else None
    )


def _parse(query: Mapping[str, str]) -> _Criteria:
    c, errors = _Criteria(), []
    c.statuses = {part for part in query.get("status", "").split(",") if part}
    if not c.statuses <= STATUSES:
        errors.append(_error("status", query["status"], f"status must be in {sorted(STATUSES)}"))
    email = query.get("attendeeEmail")
    c.attendee_email = email.replace(" ", "+") if email is not None else None  # unencoded plus
    c.attendee_name, c.booking_uid = query.get("attendeeName"), query.get("bookingUid")
    raw_ids = ",".join(filter(None, [query.get("eventTypeId"), query.get("eventTypeIds")]))
    ids = _ints(raw_ids)
    if ids is None:
        errors.append(_error("eventTypeIds", raw_ids, "event type ids must be integers"))
    c.event_type_ids = ids or set()
    for key in _TIME_FILTERS.keys() & query.keys():
        moment = parse_datetime(query[key])
        if moment is None:
            errors.append(_error(key, query[key], f"{key} must be a valid ISO 8601 date string"))
        else:
            c.times[key] = moment
    for key in [key for key in query if key in _SORTS]:  # in the order given
        if query[key] not in ("asc", "desc"):
            errors.append(_error(key, query[key], f"{key} must be asc or desc"))
        c.sorts.append((key, query[key] == "desc"))
    take, skip = _int(query, "take", 1, MAX_TAKE, DEFAULT_TAKE), _int(query, "skip", 0, 10**9, 0)
    if take is None or skip is None:
        errors.append(_error("take", query.get("take"), "take must be 1-250, skip must be >= 0"))
    c.take, c.skip = take or DEFAULT_TAKE, skip or 0
    if errors:
        raise validation_failed(errors)
    return c


def _status_matches(row: Booking, wanted: set[str], now: datetime) -> bool:
    if not wanted:
        return True
    dead = row.status in ("cancelled", "rejected")
    checks = {
        "upcoming": row.end >= now and not dead,
        "unconfirmed": row.end >= now and row.status == "pending",
        "past": row.end <= now and not dead,
        "cancelled": dead,
        "recurring": False,  # the emulator has no recurring event types
    }
    return any(checks[name] for name in wanted)


def _within(row: Booking, key: str, moment: datetime) -> bool:
    value_of, after = _TIME_FILTERS[key]
    return value_of(row) >= moment if after else value_of(row) <= moment


def _matches(row: Booking, c: _Criteria, now: datetime) -> bool:
    people = row.attendees
    return (
        _status_matches(row, c.statuses, now)
        and (
            c.attendee_email is None
            or any(p.email.lower() == c.attendee_email.lower() for p in people)
        )
        and (
            c.attendee_name is None
            or any(p.name.lower() == c.attendee_name.lower() for p in people)
        )
        and (c.booking_uid is None or row.uid == c.booking_uid)
        and (not c.event_type_ids or row.event_type.id in c.event_type_ids)
        and all(_within(row, key, moment) for key, moment in c.times.items())
    )


def _pagination(total: int, returned: int, take: int, skip: int) -> dict[str, Any]:
    return {
        "totalItems": total,
        "remainingItems": max(0, total - skip - returned),
        "returnedItems": returned,
        "itemsPerPage": take,
        "currentPage": skip // take + 1,
        "totalPages": math.ceil(total / take),
        "hasNextPage": skip + take < total,
        "hasPreviousPage": skip > 0,
    }


def list_bookings(
    rows: list[Booking], query: Mapping[str, str], now: datetime
) -> tuple[list[Booking], dict[str, Any]]:
    """The page of rows a query selects, with Cal.com's pagination object.

    Default order is start ascending (then id); `attendeeName` matches case-insensitively
    on the whole name. Both choices are the emulator's, not verified upstream.
    """
    criteria = _parse(query)
    selected = sorted(
        (row for row in rows if _matches(row, criteria, now)), key=lambda row: (row.start, row.id)
    )
    for key, descending in reversed(criteria.sorts):  # first listed sort is primary
        selected.sort(key=_SORTS[key], reverse=descending)
    page = selected[criteria.skip : criteria.skip + criteria.take]
    return page, _pagination(len(selected), len(page), criteria.take, criteria.skip)
