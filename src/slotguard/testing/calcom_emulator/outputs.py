"""JSON shapes the emulator answers with: v2 2024-08-13 bookings, legacy 2024-04-15, errors."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .model import Attendee, Booking, CalcomError, iso_local, iso_ms
from .schedule import Interval

_OPTIONAL_FIELDS = (
    ("cancellationReason", "cancellation_reason"),
    ("cancelledByEmail", "cancelled_by_email"),
    ("reschedulingReason", "rescheduling_reason"),
    ("rescheduledByEmail", "rescheduled_by_email"),
    ("rescheduledFromUid", "rescheduled_from_uid"),
    ("rescheduledToUid", "rescheduled_to_uid"),
)


def _attendee(person: Attendee) -> dict[str, Any]:
    return {
        "name": person.name,
        "email": person.email,
        "displayEmail": person.email,
        "timeZone": person.time_zone,
        "language": person.language,
        "absent": person.absent,
        "phoneNumber": person.phone_number,
    }


def booking_output(row: Booking) -> dict[str, Any]:
    """`BookingOutput_2024_08_13` (docs/calcom-and-retell-facts.md §2.3); optional fields only when
    set."""
    host = row.event_type.host
    output: dict[str, Any] = {
        "id": row.id,
        "uid": row.uid,
        "title": row.title,
        "description": row.description,
        "hosts": [
            {
                "id": host.id,
                "name": host.name,
                "email": host.email,
                "displayEmail": host.email,
                "username": host.username,
                "timeZone": host.time_zone,
            }
        ],
        "status": row.status,
        "start": iso_ms(row.start),
        "end": iso_ms(row.end),
        "duration": row.duration,
        "eventTypeId": row.event_type.id,
        "eventType": {"id": row.event_type.id, "slug": row.event_type.slug},
        "location": row.location,
        "absentHost": False,
        "createdAt": iso_ms(row.created_at),
        "updatedAt": iso_ms(row.updated_at),
        "metadata": dict(row.metadata),
        "icsUid": f"{row.uid}@Cal.com",
        "attendees": [_attendee(person) for person in row.attendees],
        "bookingFieldsResponses": dict(row.responses),
    }
    if row.guests:
        output["guests"] = list(row.guests)
    for key, attribute in _OPTIONAL_FIELDS:
        value = getattr(row, attribute)
        if value is not None:
            output[key] = value
    return output


def legacy_booking_output(row: Booking) -> dict[str, Any]:
    """The 2024-04-15 shape a client gets when it forgets `cal-api-version` (abridged)."""
    host = row.event_type.host
    return {
        "id": row.id,
        "uid": row.uid,
        "title": row.title,
        "startTime": iso_ms(row.start),
        "endTime": iso_ms(row.end),
        "status": row.status.upper(),
        "eventTypeId": row.event_type.id,
        "user": {"id": host.id, "name": host.name, "email": host.email},
        "attendees": [
            {"name": p.name, "email": p.email, "timeZone": p.time_zone, "locale": p.language}
            for p in row.attendees
        ],
        "metadata": dict(row.metadata),
        "responses": dict(row.responses),
        "location": row.location,
        "createdAt": iso_ms(row.created_at),
    }


def admin_booking(row: Booking) -> dict[str, Any]:
    """The v2 output plus the internals tests like to see (`/_emulator/bookings`)."""
    return {**booking_output(row), "idempotencyKey": row.idempotency_key, "hostId": row.host_id}


def error_body(error: CalcomError, path: str, timestamp: datetime) -> dict[str, Any]:
    """Cal.com's error envelope `{status, timestamp, path, error{code, message, details}}`."""
    detail: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details is not None:
        detail["details"] = error.details
    return {"status": "error", "timestamp": iso_ms(timestamp), "path": path, "error": detail}


def slots_output(slots: Iterable[Interval], zone: str, ranges: bool) -> dict[str, Any]:
    """`{"YYYY-MM-DD": [{"start"[, "end"]}]}` keyed by local date in `zone`
    (docs/calcom-and-retell-facts.md §2.8)."""
    tz = ZoneInfo(zone)
    days: dict[str, list[dict[str, str]]] = {}
    for start, end in slots:
        local = start.astimezone(tz)
        item = {"start": iso_local(local)}
        if ranges:
            item["end"] = iso_local(end.astimezone(tz))
        days.setdefault(local.date().isoformat(), []).append(item)
    return days


def legacy_slots_output(slots: Iterable[Interval]) -> dict[str, Any]:
    """The pre-2024-09-04 shape: `{"slots": {"YYYY-MM-DD": [{"time": UTC}]}}`."""
    days: dict[str, list[dict[str, str]]] = {}
    for start, _end in slots:
        days.setdefault(start.date().isoformat(), []).append({"time": iso_ms(start)})
    return {"slots": days}
