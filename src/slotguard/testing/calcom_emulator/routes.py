"""Handlers of the `/v2` routes: version routing, auth guards, then the booking rules.

Version routing follows bootstrap.ts: a missing or unknown `cal-api-version` selects the
legacy 2024-04-15 controllers. The emulator answers those with legacy shapes where the
read is harmless (list, get, slots, cancel) and with the 400 the legacy create input
validation gives for a 2024-08-13 body; the legacy API has no reschedule route (404).
A known version that the route does not have is a 404, as Nest answers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from .config import EventTypeConfig
from .listing import list_bookings as select_page
from .model import Booking, bad_request, not_found, unauthorized, validation_failed
from .outputs import booking_output, legacy_booking_output, legacy_slots_output, slots_output
from .pipeline import ApiCall, ApiResult
from .validation import is_time_zone, parse_cancel, parse_create, parse_datetime, parse_reschedule
from .webhook_payload import booking_payload, cancelled_payload, rescheduled_payload

if TYPE_CHECKING:
    from .emulator import CalcomEmulator

BOOKINGS_VERSIONS = frozenset({"2024-08-13", "2026-02-25"})  # 2026-02-25 reuses the shapes
SLOTS_VERSIONS = frozenset({"2024-09-04"})
EVENT_TYPES_VERSIONS = frozenset({"2024-06-14"})
LEGACY = "2024-04-15"
OTHER_VERSIONS = frozenset({"2024-06-11"})  # exists, but not on these routes
KNOWN_VERSIONS = frozenset(
    {LEGACY, *OTHER_VERSIONS, *BOOKINGS_VERSIONS, *SLOTS_VERSIONS, *EVENT_TYPES_VERSIONS}
)
MAX_SLOT_RANGE = timedelta(days=62)  # the emulator's own bound, so a typo cannot hang it
NO_AUTH = (
    "No authentication method provided. Either pass an API key as 'Bearer' header or OAuth "
    "client credentials as 'x-cal-secret-key' and 'x-cal-client-id' headers"
)
_LEGACY_CREATE_ERRORS = [
    {
        "property": "responses",
        "value": None,
        "constraints": {"isObject": "responses must be an object"},
    },
    {"property": "timeZone", "value": None, "constraints": {"isTimeZone": "invalid time zone"}},
]


def _is_legacy(call: ApiCall, supported: frozenset[str]) -> bool:
    version = call.version
    if version in supported:
        return False
    if version in KNOWN_VERSIONS and version != LEGACY:
        raise not_found(f"Cannot {call.request.method} {call.request.url.path}")
    return True


def _guard(call: ApiCall, *, required: bool) -> None:
    """ApiAuthGuard (required) or OptionalApiAuthGuard: bad credentials are always a 401."""
    if call.bad_credentials:
        raise unauthorized("ApiAuthStrategy - Invalid access token")
    if required and call.api_key is None:
        raise unauthorized(NO_AUTH)


def _success(data: Any, status: int = 200, committed: bool = False) -> ApiResult:
    return ApiResult(status, {"status": "success", "data": data}, committed)


def announce_created(emulator: CalcomEmulator, row: Booking) -> None:
    """BOOKING_CREATED, or BOOKING_REQUESTED when the booking awaits confirmation."""
    trigger = "BOOKING_REQUESTED" if row.status == "pending" else "BOOKING_CREATED"
    emulator.webhooks.emit(trigger, booking_payload(row))


async def create_booking(emulator: CalcomEmulator, call: ApiCall) -> ApiResult:
    """`POST /v2/bookings` → 201 with the booking."""
    legacy = _is_legacy(call, BOOKINGS_VERSIONS)
    _guard(call, required=False)
    if legacy:
        raise validation_failed(_LEGACY_CREATE_ERRORS)
    request = parse_create(call.body)
    row = await emulator.state.create(request, race_window=emulator.faults.race_window_ms / 1000)
    announce_created(emulator, row)
    return _success(booking_output(row), 201, committed=True)


async def list_bookings(emulator: CalcomEmulator, call: ApiCall) -> ApiResult:
    """`GET /v2/bookings` → one page plus `pagination`."""
    legacy = _is_legacy(call, BOOKINGS_VERSIONS)
    _guard(call, required=True)
    query = call.request.query_params
    rows, pagination = select_page(emulator.state.bookings, query, emulator.clock())
    if legacy:
        legacy_data = {
            "bookings": [legacy_booking_output(row) for row in rows],
            "recurringInfo": [],
            "nextCursor": None,
        }
        return _success(legacy_data)
    body = {"status": "success", "data": [booking_output(row) for row in rows]}
    return ApiResult(200, {**body, "pagination": pagination})


async def get_booking(emulator: CalcomEmulator, call: ApiCall) -> ApiResult:
    """`GET /v2/bookings/{uid}`."""
    legacy = _is_legacy(call, BOOKINGS_VERSIONS)
    _guard(call, required=False)
    row = emulator.state.get(call.request.path_params["uid"])
    return _success(legacy_booking_output(row) if legacy else booking_output(row))


async def reschedule_booking(emulator: CalcomEmulator, call: ApiCall) -> ApiResult:
    """`POST /v2/bookings/{uid}/reschedule` → 201 with the new booking."""
    if _is_legacy(call, BOOKINGS_VERSIONS):
        raise not_found(f"Cannot POST {call.request.url.path}")
    _guard(call, required=False)
    request = parse_reschedule(call.body)
    window = emulator.faults.race_window_ms / 1000
    new, old = await emulator.state.reschedule(
        call.request.path_params["uid"], request, race_window=window
    )
    emulator.webhooks.emit("BOOKING_RESCHEDULED", rescheduled_payload(new, old))
    return _success(booking_output(new), 201, committed=True)


async def cancel_booking(emulator: CalcomEmulator, call: ApiCall) -> ApiResult:
    """`POST /v2/bookings/{uid}/cancel` → 200 with the cancelled booking."""
    legacy = _is_legacy(call, BOOKINGS_VERSIONS)
    _guard(call, required=False)
    reason = parse_cancel(call.body)
    row = emulator.state.cancel(call.request.path_params["uid"], reason)
    emulator.webhooks.emit("BOOKING_CANCELLED", cancelled_payload(row))
    output = legacy_booking_output(row) if legacy else booking_output(row)
    return _success(output, committed=True)


def _slots_event_type(emulator: CalcomEmulator, query: QueryParams) -> EventTypeConfig:
    raw = query.get("eventTypeId")
    if raw is None or not (raw.isascii() and raw.isdigit()):
        raise bad_request("eventTypeId must be provided as an integer")
    event_type = emulator.config.event_type(int(raw))
    if event_type is None:
        raise not_found(f"Event type with id {raw} not found.")
    return event_type


def _bound(query: QueryParams, key: str, zone: str, end: bool) -> datetime:
    raw = query.get(key)
    if raw is not None and len(raw) == 10:  # a date alone: that local day's start or end
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raw = None
        else:
            midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
            return (midnight + timedelta(days=1) if end else midnight).astimezone(UTC)
    moment = parse_datetime(raw)
    if moment is None:
        raise bad_request(f"{key} must be a valid ISO 8601 date or date-time")
    return moment


def _slot_length(event_type: EventTypeConfig, raw: str | None) -> int:
    if raw is None:
        return event_type.length
    if not (raw.isascii() and raw.isdigit()) or int(raw) not in (
        event_type.length,
        *event_type.lengths,
    ):
        raise bad_request(f"duration {raw} is not a length of event type {event_type.id}")
    return int(raw)


async def get_slots(emulator: CalcomEmulator, call: ApiCall) -> ApiResult:
    """`GET /v2/slots` (2024-09-04), or the legacy `{"slots": …}` shape without the header."""
    legacy = _is_legacy(call, SLOTS_VERSIONS)
    query = call.request.query_params
    zone = query.get("timeZone", "UTC")
    if not is_time_zone(zone):
        raise bad_request(f"timeZone {zone} is not a valid IANA time zone")
    event_type = _slots_event_type(emulator, query)
    start = _bound(query, "startTime" if legacy else "start", zone, end=False)
    end = _bound(query, "endTime" if legacy else "end", zone, end=True)
    if not start <= end <= start + MAX_SLOT_RANGE:
        raise bad_request(f"end must be within {MAX_SLOT_RANGE.days} days after start")
    length = _slot_length(event_type, query.get("duration"))
    slots = emulator.state.free_slots(event_type, start, end, length)
    if legacy:
        return _success(legacy_slots_output(slots))
    return _success(slots_output(slots, zone, ranges=query.get("format") == "range"))


async def list_event_types(emulator: CalcomEmulator, call: ApiCall) -> ApiResult:
    """`GET /v2/event-types` (2024-06-14): the configured event types of the host."""
    if _is_legacy(call, EVENT_TYPES_VERSIONS):
        raise not_found(f"Cannot GET {call.request.url.path}")
    _guard(call, required=True)
    data = [
        {
            "id": t.id,
            "slug": t.slug,
            "title": t.title or t.slug,
            "lengthInMinutes": t.length,
            "ownerId": t.host.id,
        }
        for t in emulator.config.event_types
    ]
    return _success(data)
