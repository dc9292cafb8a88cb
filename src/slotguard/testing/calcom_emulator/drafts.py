"""Turning validated requests into unsaved `Booking` rows (event type lookup, length rule)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from .config import EmulatorConfig, EventTypeConfig
from .model import Attendee, Booking, bad_request, not_found
from .validation import CreateInput, RescheduleInput

_NOT_MULTIPLE = (
    "Can't specify 'lengthInMinutes' because event type does not have multiple possible "
    "lengths. Please, remove the 'lengthInMinutes' field from the request body."
)


def find_event_type(config: EmulatorConfig, request: CreateInput) -> EventTypeConfig:
    """The event type a create addresses, or the 404 Cal.com answers (errors.service.ts)."""
    if request.event_type_id is not None:
        found = config.event_type(request.event_type_id)
        if found is None:
            raise not_found(f"Event type with id {request.event_type_id} not found.")
        return found
    for event_type in config.event_types:
        if (event_type.slug, event_type.host.username) == (
            request.event_type_slug,
            request.username,
        ):
            return event_type
    raise not_found(
        f"Event type with slug {request.event_type_slug} belonging to user "
        f"{request.username} not found."
    )


def booking_length(event_type: EventTypeConfig, requested: int | None) -> int:
    """`lengthInMinutes` is allowed only for multiple-duration event types
    (docs/calcom-and-retell-facts.md §2.2)."""
    if requested is None:
        return event_type.length
    if not event_type.lengths:
        raise bad_request(_NOT_MULTIPLE)
    if requested not in event_type.lengths:
        options = ", ".join(str(length) for length in event_type.lengths)
        raise bad_request(
            "Provided 'lengthInMinutes' is not one of the possible lengths for the event type. "
            f"The possible lengths are: {options}"
        )
    return requested


def location_text(location: Any) -> str | None:
    """The string Cal.com stores for a location input (object form or deprecated string)."""
    if isinstance(location, str):
        return location
    if not isinstance(location, dict):
        return None
    for key in ("phone", "address", "link"):
        if isinstance(location.get(key), str):
            return str(location[key])
    kind = location.get("type")
    return f"integrations:{kind}" if isinstance(kind, str) else None


def _responses(request: CreateInput) -> dict[str, Any]:
    """As input.service.ts: `{...bookingFieldsResponses, name, email ?? "", phone, guests}`."""
    attendee = request.attendee
    responses: dict[str, Any] = dict(request.booking_fields_responses or {})
    responses.update(name=attendee.name, email=attendee.email or "", guests=list(request.guests))
    if attendee.phone_number:
        responses["attendeePhoneNumber"] = attendee.phone_number
    if request.location is not None:
        responses["location"] = request.location
    return responses


def create_draft(event_type: EventTypeConfig, request: CreateInput, now: datetime) -> Booking:
    """An unsaved booking for a create request (id 0, empty uid)."""
    length = booking_length(event_type, request.length_in_minutes)
    person = request.attendee
    attendee = Attendee(
        person.name, person.stored_email, person.time_zone, person.language, person.phone_number
    )
    return Booking(
        id=0,
        uid="",
        event_type=event_type,
        start=request.start,
        end=request.start + timedelta(minutes=length),
        status="pending" if event_type.requires_confirmation else "accepted",
        attendees=(attendee,),
        created_at=now,
        updated_at=now,
        title=f"{event_type.display_title} between {event_type.host.name} and {person.name}",
        guests=request.guests,
        metadata=dict(request.metadata or {}),
        location=location_text(request.location),
        responses=_responses(request),
    )


def reschedule_draft(old: Booking, request: RescheduleInput, now: datetime) -> Booking:
    """An unsaved copy of `old` at the new time; metadata is carried over (UNVERIFIED upstream).

    Rescheduled by the host's own email auto-confirms, as in Cal.com
    (docs/calcom-and-retell-facts.md §2.6).
    """
    needs_confirmation = old.event_type.requires_confirmation
    by_host = request.rescheduled_by == old.event_type.host.email
    return replace(
        old,
        id=0,
        uid="",
        start=request.start,
        end=request.start + (old.end - old.start),
        status="pending" if needs_confirmation and not by_host else "accepted",
        created_at=now,
        updated_at=now,
        metadata=dict(old.metadata),
        responses=dict(old.responses),
        idempotency_key=None,
        rescheduling_reason=request.rescheduling_reason,
        rescheduled_by_email=request.rescheduled_by,
        rescheduled_from_uid=old.uid,
        rescheduled_to_uid=None,
    )
