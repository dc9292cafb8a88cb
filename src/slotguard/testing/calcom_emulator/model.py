"""The emulator's in-memory records, its error type and time formatting helpers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .config import EventTypeConfig

#: Statuses that hold the host's time (Cal.com's availability check ignores the others).
BUSY_STATUSES = frozenset({"accepted", "pending"})


@dataclass(frozen=True)
class Attendee:
    """The booker as Cal.com stores it; a phone-only booker gets `<digits>@sms.cal.com`."""

    name: str
    email: str
    time_zone: str
    language: str = "en"
    phone_number: str | None = None
    absent: bool = False


@dataclass
class Booking:
    """One Cal.com booking row; mutated only by `BookingStore` under its lock."""

    id: int
    uid: str
    event_type: EventTypeConfig
    start: datetime
    end: datetime
    status: str
    attendees: tuple[Attendee, ...]
    created_at: datetime
    updated_at: datetime
    title: str = ""
    description: str = ""
    guests: tuple[str, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    location: str | None = None
    responses: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    cancellation_reason: str | None = None
    cancelled_by_email: str | None = None
    rescheduling_reason: str | None = None
    rescheduled_by_email: str | None = None
    rescheduled_from_uid: str | None = None
    rescheduled_to_uid: str | None = None

    @property
    def duration(self) -> int:
        """Length in minutes."""
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def host_id(self) -> int:
        """The host user's id."""
        return self.event_type.host.id

    @property
    def is_busy(self) -> bool:
        """Whether the booking blocks the host's time."""
        return self.status in BUSY_STATUSES


class CalcomError(Exception):
    """An HTTP error the emulator answers with Cal.com's error envelope
    (docs/calcom-and-retell-facts.md §2.4)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def bad_request(message: str) -> CalcomError:
    """Nest's `BadRequestException(message)`."""
    details = {"message": message, "error": "Bad Request", "statusCode": 400}
    return CalcomError(400, "BadRequestException", message, details)


def validation_failed(errors: list[dict[str, Any]]) -> CalcomError:
    """The global ValidationPipe's `BadRequestException({errors})`."""
    return CalcomError(400, "BadRequestException", "Bad Request Exception", {"errors": errors})


def not_found(message: str) -> CalcomError:
    """Nest's `NotFoundException(message)`."""
    details = {"message": message, "error": "Not Found", "statusCode": 404}
    return CalcomError(404, "NotFoundException", message, details)


def unauthorized(message: str) -> CalcomError:
    """Nest's `UnauthorizedException(message)`."""
    details = {"message": message, "error": "Unauthorized", "statusCode": 401}
    return CalcomError(401, "UnauthorizedException", message, details)


def booking_conflict() -> CalcomError:
    """The unique `idempotencyKey` race (docs/calcom-and-retell-facts.md §4.1); the v2 body is
    UNVERIFIED upstream."""
    details = {"statusCode": 409, "message": "booking_conflict_error"}
    return CalcomError(409, "ConflictException", "booking_conflict_error", details)


def idempotency_key(start: datetime, end: datetime, host_id: int) -> str:
    """Cal.com's `uuidv5("<startMs>.<endMs>.<hostUserId>", URL)` (docs/calcom-and-retell-facts.md
    §4.1)."""
    start_ms = int(start.timestamp() * 1000)
    end_ms = int(end.timestamp() * 1000)
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{start_ms}.{end_ms}.{host_id}"))


def iso_ms(moment: datetime) -> str:
    """UTC with milliseconds and `Z`, as the v2 REST outputs write it."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_seconds(moment: datetime) -> str:
    """UTC without milliseconds, as dayjs `.utc().format()` writes webhook times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(moment: datetime) -> str:
    """A zoned time with milliseconds and its offset (`Z` for UTC), as the slots output."""
    text = moment.isoformat(timespec="milliseconds")
    tz_name = moment.tzname()
    return text.replace("+00:00", "Z") if tz_name == "UTC" else text
