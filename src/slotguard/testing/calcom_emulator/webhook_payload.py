"""Cal.com webhook payloads, version 2021-10-20 (docs/calcom-and-retell-facts.md §3.3), built from a
booking."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .config import HostConfig
from .model import Attendee, Booking, iso_seconds

WEBHOOK_VERSION = "2021-10-20"
_LABELS = {
    "name": "your_name",
    "email": "email_address",
    "attendeePhoneNumber": "phone_number",
    "location": "location",
    "guests": "additional_guests",
    "notes": "additional_notes",
}


def _utc_offset(zone: str, moment: datetime) -> int:
    offset = moment.astimezone(ZoneInfo(zone)).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def _organizer(host: HostConfig, moment: datetime) -> dict[str, Any]:
    return {
        "id": host.id,
        "name": host.name,
        "email": host.email,
        "username": host.username,
        "timeZone": host.time_zone,
        "language": {"locale": "en"},
        "timeFormat": "h:mma",
        "utcOffset": _utc_offset(host.time_zone, moment),
    }


def _attendee(person: Attendee, moment: datetime) -> dict[str, Any]:
    first, _, last = person.name.partition(" ")
    return {
        "name": person.name,
        "email": person.email,
        "firstName": first,
        "lastName": last,
        "timeZone": person.time_zone,
        "phoneNumber": person.phone_number,
        "language": {"locale": person.language},
        "utcOffset": _utc_offset(person.time_zone, moment),
    }


def _responses(row: Booking) -> dict[str, Any]:
    return {
        key: {"label": _LABELS.get(key, key), "value": value}
        for key, value in row.responses.items()
    }


def booking_payload(row: Booking) -> dict[str, Any]:
    """The `payload` object of a booking webhook; `metadata` is the request metadata."""
    event_type, booker = row.event_type, row.attendees[0]
    guests = [Attendee(email, email, booker.time_zone, booker.language) for email in row.guests]
    return {
        "type": event_type.slug,
        "title": row.title,
        "description": row.description,
        "additionalNotes": row.responses.get("notes", ""),
        "customInputs": {},
        "startTime": iso_seconds(row.start),
        "endTime": iso_seconds(row.end),
        "organizer": _organizer(event_type.host, row.start),
        "responses": _responses(row),
        "userFieldsResponses": {},
        "attendees": [_attendee(person, row.start) for person in (*row.attendees, *guests)],
        "location": row.location,
        "destinationCalendar": None,
        "requiresConfirmation": event_type.requires_confirmation,
        "eventTypeId": event_type.id,
        "seatsPerTimeSlot": None,
        "iCalUID": f"{row.uid}@Cal.com",
        "iCalSequence": 0,
        "uid": row.uid,
        "bookingId": row.id,
        "eventTitle": event_type.display_title,
        "length": row.duration,
        "status": row.status.upper(),
        "metadata": dict(row.metadata),
        "price": 0,
        "currency": "usd",
        "appsStatus": [],
        "smsReminderNumber": booker.phone_number,
        "organizationId": None,
        "bookerUrl": "https://cal.com",
    }


def rescheduled_payload(new: Booking, old: Booking) -> dict[str, Any]:
    """BOOKING_RESCHEDULED: the new booking plus `rescheduleUid` etc. of the old one."""
    return {
        **booking_payload(new),
        "rescheduleId": old.id,
        "rescheduleUid": old.uid,
        "rescheduleStartTime": iso_seconds(old.start),
        "rescheduleEndTime": iso_seconds(old.end),
        "rescheduledBy": new.rescheduled_by_email,
    }


def cancelled_payload(row: Booking) -> dict[str, Any]:
    """BOOKING_CANCELLED: the booking plus `cancellationReason`, `cancelledBy`."""
    return {
        **booking_payload(row),
        "cancellationReason": row.cancellation_reason,
        "cancelledBy": row.cancelled_by_email,
        "requestReschedule": False,
    }
