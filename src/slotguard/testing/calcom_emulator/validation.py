"""Request-body validation for the v2 booking routes, mirroring Nest's ValidationPipe.

Unknown fields are ignored (the pipe's `whitelist` strips them); violations become one
400 `BadRequestException({errors})` listing every failed property.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from .model import bad_request, validation_failed

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_METADATA_MESSAGE = (
    "Metadata must have at most 50 keys, each key up to 40 characters, "
    "and values up to 500 characters."
)
_FIRST_YEAR, _LAST_YEAR = 1970, 9000  # keeps every later datetime sum in range
# Cal.com's validate-metadata.ts limits (docs/calcom-and-retell-facts.md §2.2)
_METADATA_MAX_KEYS = 50
_METADATA_MAX_KEY = 40
_METADATA_MAX_VALUE = 500
_EVENT_TYPE_REQUIRED = (
    "Either eventTypeId or eventTypeSlug + username or eventTypeSlug + teamSlug must be provided"
)
LANGUAGES = frozenset((
    "ar", "ca", "de", "es", "eu", "he", "id", "ja", "lv", "pl", "ro", "sr", "th", "vi",
    "az", "cs", "el", "es-419", "fi", "hr", "it", "km", "nl", "pt", "ru", "sv", "tr",
    "zh-CN", "bg", "da", "en", "et", "fr", "hu", "iw", "ko", "no", "pt-BR", "sk", "ta",
    "uk", "zh-TW",
))  # fmt: skip


@dataclass(frozen=True)
class AttendeeInput:
    """`attendee` of a create request."""

    name: str
    email: str | None
    phone_number: str | None
    time_zone: str
    language: str

    @property
    def stored_email(self) -> str:
        """The email Cal.com stores: the given one, or `<digits>@sms.cal.com`."""
        if self.email:
            return self.email
        digits = "".join(ch for ch in self.phone_number or "" if ch.isdigit())
        return f"{digits}@sms.cal.com"


@dataclass(frozen=True)
class CreateInput:
    """A validated `POST /v2/bookings` body (docs/calcom-and-retell-facts.md §2.2)."""

    start: datetime
    attendee: AttendeeInput
    event_type_id: int | None = None
    event_type_slug: str | None = None
    username: str | None = None
    length_in_minutes: int | None = None
    guests: tuple[str, ...] = ()
    location: Any = None
    metadata: dict[str, str] | None = None
    booking_fields_responses: dict[str, Any] | None = None


@dataclass(frozen=True)
class RescheduleInput:
    """A validated reschedule body (docs/calcom-and-retell-facts.md §2.6)."""

    start: datetime
    rescheduled_by: str | None = None
    rescheduling_reason: str | None = None


class _Errors:
    """Collects class-validator style errors and raises them together."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, prop: str, constraint: str, message: str, value: Any = None) -> None:
        self.items.append({"property": prop, "value": value, "constraints": {constraint: message}})

    def raise_if_any(self) -> None:
        if self.items:
            raise validation_failed(self.items)


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 string as an aware UTC datetime (naive means UTC), or None if invalid.

    Years outside 1970-9000 count as invalid, so later arithmetic cannot overflow.
    """
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        moment = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment if _FIRST_YEAR <= moment.year <= _LAST_YEAR else None


def is_time_zone(value: Any) -> bool:
    """Whether `value` names an IANA time zone."""
    if not isinstance(value, str) or not value:
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: e.g. a name too long
        return False
    return True


def _is_phone(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(value, None)))
    except phonenumbers.NumberParseException:
        return False


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise validation_failed(
            [
                {
                    "property": "body",
                    "value": body,
                    "constraints": {"isObject": "body must be an object"},
                }
            ]
        )
    return body


def _start(body: dict[str, Any], errors: _Errors) -> datetime:
    start = parse_datetime(body.get("start"))
    if start is None:
        errors.add(
            "start", "isDateString", "start must be a valid ISO 8601 date string", body.get("start")
        )
        return datetime.min.replace(tzinfo=UTC)
    return start


def _attendee(raw: Any, errors: _Errors) -> AttendeeInput:
    if not isinstance(raw, dict):
        errors.add("attendee", "isObject", "attendee must be an object", raw)
        return AttendeeInput("", None, None, "UTC", "en")
    name, email, phone = raw.get("name"), raw.get("email"), raw.get("phoneNumber")
    zone, language = raw.get("timeZone"), raw.get("language", "en")
    if not isinstance(name, str) or not name.strip():
        errors.add("attendee.name", "isString", "name must be a string", name)
    if email is not None and (not isinstance(email, str) or not _EMAIL.match(email)):
        errors.add("attendee.email", "isEmail", "email must be an email", email)
    if phone is not None and not _is_phone(phone):
        errors.add("attendee.phoneNumber", "isPhoneNumber", "invalid phone number", phone)
    if email is None and phone is None:
        errors.add("attendee.email", "isEmailOrPhone", "email or phoneNumber is required")
    if not is_time_zone(zone):
        errors.add("attendee.timeZone", "isTimeZone", "timeZone must be a valid IANA zone", zone)
    if not isinstance(language, str) or language not in LANGUAGES:
        errors.add("attendee.language", "isEnum", "language must be a supported locale", language)
    return AttendeeInput(str(name or ""), email, phone, str(zone or "UTC"), str(language))


def _metadata(raw: Any, errors: _Errors) -> dict[str, str] | None:
    if raw is None:
        return None
    ok = isinstance(raw, dict) and len(raw) <= _METADATA_MAX_KEYS
    if ok:
        ok = all(
            len(key) <= _METADATA_MAX_KEY
            and isinstance(value, str)
            and len(value) <= _METADATA_MAX_VALUE
            for key, value in raw.items()
        )
    if not ok:
        errors.add("metadata", "validateMetadata", _METADATA_MESSAGE, raw)
        return None
    return dict(raw)


def _optional_int(body: dict[str, Any], key: str, errors: _Errors) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors.add(key, "isInt", f"{key} must be a positive integer", value)
        return None
    return value


def _guests(raw: Any, errors: _Errors) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(g, str) and _EMAIL.match(g) for g in raw):
        errors.add("guests", "isEmail", "each value in guests must be an email", raw)
        return ()
    return tuple(raw)


def _fields(raw: Any, errors: _Errors) -> dict[str, Any] | None:
    if raw is not None and not isinstance(raw, dict):
        errors.add("bookingFieldsResponses", "isObject", "must be an object", raw)
        return None
    return raw


def parse_create(raw: Any) -> CreateInput:
    """Validate a create body or raise the 400 Cal.com would answer."""
    body, errors = _object(raw), _Errors()
    start = _start(body, errors)
    attendee = _attendee(body.get("attendee"), errors)
    metadata = _metadata(body.get("metadata"), errors)
    event_type_id = _optional_int(body, "eventTypeId", errors)
    length = _optional_int(body, "lengthInMinutes", errors)
    guests = _guests(body.get("guests"), errors)
    fields = _fields(body.get("bookingFieldsResponses"), errors)
    errors.raise_if_any()
    slug, username = body.get("eventTypeSlug"), body.get("username")
    if event_type_id is None and not (isinstance(slug, str) and isinstance(username, str)):
        raise bad_request(_EVENT_TYPE_REQUIRED)
    return CreateInput(
        start,
        attendee,
        event_type_id,
        slug,
        username,
        length,
        guests,
        body.get("location"),
        metadata,
        fields,
    )


def parse_reschedule(raw: Any) -> RescheduleInput:
    """Validate a reschedule body or raise a 400."""
    body, errors = _object(raw), _Errors()
    start = _start(body, errors)
    by, reason = body.get("rescheduledBy"), body.get("reschedulingReason")
    if by is not None and (not isinstance(by, str) or not _EMAIL.match(by)):
        errors.add("rescheduledBy", "isEmail", "rescheduledBy must be an email", by)
    if reason is not None and not isinstance(reason, str):
        errors.add("reschedulingReason", "isString", "reschedulingReason must be a string", reason)
    errors.raise_if_any()
    return RescheduleInput(start, by, reason)


def parse_cancel(raw: Any) -> str | None:
    """Validate a cancel body (may be empty) and return the cancellation reason."""
    body = {} if raw is None else _object(raw)
    reason = body.get("cancellationReason")
    if reason is not None and not isinstance(reason, str):
        raise validation_failed(
            [
                {
                    "property": "cancellationReason",
                    "value": reason,
                    "constraints": {"isString": "cancellationReason must be a string"},
                }
            ]
        )
    return reason
