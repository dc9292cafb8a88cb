"""Entities and value types of the booking domain: frozen dataclasses, standard library only."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slotguard.domain.salon import BookingRules, StaffMember


class AppointmentStatus(enum.StrEnum):
    """Lifecycle of an appointment; see ACTIVE_STATUSES for the ones that hold a slot."""

    PENDING = "pending"  # reserved here, calendar answer not known yet
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    BOOKED = "booked"  # the calendar confirmed it
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"  # replaced by a newer appointment
    NO_SHOW = "no_show"
    COMPLETED = "completed"
    FAILED = "failed"  # the calendar refused it; the slot is free again


ACTIVE_STATUSES: frozenset[AppointmentStatus] = frozenset(
    {
        AppointmentStatus.PENDING,
        AppointmentStatus.SCHEDULED,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.BOOKED,
    }
)


class AppointmentSource(enum.StrEnum):
    """Who created the local appointment row."""

    AGENT = "agent"
    WEBHOOK = "webhook"
    IMPORT = "import"
    ADMIN = "admin"


class Language(enum.StrEnum):
    """Languages the agent may speak to callers."""

    DE = "de"
    EN = "en"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open interval ``[start, end)`` of aware datetimes; back-to-back does not overlap."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("TimeRange needs aware datetimes")
        # Held in UTC: Python compares and subtracts datetimes of one zone by wall clock, which
        # is wrong across a DST switch; instants in UTC compare as instants.
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))
        if self.end <= self.start:
            raise ValueError("TimeRange must end after it starts")

    def overlaps(self, other: TimeRange) -> bool:
        """True when the two ranges share any instant (half-open: touching ends do not)."""
        return self.start < other.end and other.start < self.end

    @property
    def duration(self) -> timedelta:
        """Length of the range."""
        return self.end - self.start

    def inside_one(self, spans: Iterable[TimeRange]) -> bool:
        """True when this range lies wholly inside one of ``spans``."""
        return any(o.start <= self.start and self.end <= o.end for o in spans)


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    """The calendar day of ``instant`` on the wall clock of ``tz`` (not the UTC date)."""
    return instant.astimezone(tz).date()


def local_day_bounds(day: date, tz: ZoneInfo) -> TimeRange:
    """The instants that belong to ``day`` in ``tz``: 23, 24 or 25 hours around DST switches."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return TimeRange(start, end)


@dataclass(frozen=True, slots=True)
class Service:
    """Something a company offers, with a fixed duration and an optional Cal.com event type."""

    id: int
    company_id: int
    name: str
    duration_minutes: int
    aliases: tuple[str, ...] = ()
    calcom_event_type_id: int | None = None
    # The company's rules apply where these are None (minutes).
    notice_minutes: int | None = None
    buffer_minutes: int | None = None
    grid_minutes: int | None = None

    @property
    def duration(self) -> timedelta:
        """Duration as a timedelta."""
        return timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Weekly opening hours: weekday (0 = Monday) → list of (opens, closes) wall-clock pairs."""

    weekly: dict[int, tuple[tuple[time, time], ...]]

    def intervals(self, day: date, tz: ZoneInfo) -> list[TimeRange]:
        """The open intervals of ``day`` as aware ranges; empty when closed."""
        result = []
        for opens, closes in self.weekly.get(day.weekday(), ()):
            start = datetime.combine(day, opens, tzinfo=tz)
            # time.max stands for "24:00": the end of the day is the next midnight.
            end = (
                datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
                if closes == time.max
                else datetime.combine(day, closes, tzinfo=tz)
            )
            if end > start:
                result.append(TimeRange(start, end))
        return result

    def open_spans(self, window: TimeRange, tz: ZoneInfo) -> list[TimeRange]:
        """The open intervals touching ``window``; a day open until 24:00 and the next one
        open from 00:00 form one span, so an appointment may run across midnight."""
        day = window.start.astimezone(tz).date() - timedelta(days=1)
        last = window.end.astimezone(tz).date()
        spans: list[TimeRange] = []
        while day <= last:
            for span in self.intervals(day, tz):
                if spans and spans[-1].end == span.start:
                    spans[-1] = TimeRange(spans[-1].start, span.end)
                else:
                    spans.append(span)
            day += timedelta(days=1)
        return spans

    def covers(self, span: TimeRange, tz: ZoneInfo) -> bool:
        """True when ``span`` lies wholly inside one open interval."""
        return span.inside_one(self.open_spans(span, tz))


@dataclass(frozen=True, slots=True)
class Company:
    """A tenant: one business with its own zone, language, limits and calendar."""

    id: int
    slug: str
    name: str
    timezone: str
    language: Language
    max_appointments_per_day: int
    same_service_window_days: int
    calendar: str  # "local" or "calcom"
    opening_hours: OpeningHours
    calcom_api_key_env: str | None = None
    calcom_webhook_secret_env: str | None = None
    rules: BookingRules = field(default_factory=BookingRules)
    staff: tuple[StaffMember, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        """The company's IANA zone."""
        return ZoneInfo(self.timezone)

    def rules_for(self, service: Service) -> BookingRules:
        """The company's rules with the service's own notice, buffer and grid applied."""
        return self.rules.overridden(
            service.notice_minutes, service.buffer_minutes, service.grid_minutes
        )

    def person(self, staff_key: str | None) -> StaffMember | None:
        """The person with this key (None when the key is None or names nobody now)."""
        return next((p for p in self.staff if p.key == staff_key), None)

    def staff_for(self, service: Service) -> tuple[StaffMember, ...]:
        """The people who offer ``service`` (empty when the company names no staff)."""
        return tuple(p for p in self.staff if p.offers(service.name))


@dataclass(frozen=True, slots=True)
class Customer:
    """A caller of one company, identified by phone (E.164) or, when withheld, name + email."""

    id: int
    company_id: int
    name: str | None
    phone_e164: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Appointment:
    """The local mirror of one booking."""

    id: int
    company_id: int
    customer_id: int
    service_id: int
    span: TimeRange
    status: AppointmentStatus
    reservation_key: str
    calcom_booking_uid: str | None = None
    calcom_booking_id: int | None = None
    service_name: str | None = None
    deleted: bool = False
    rescheduled_from_id: int | None = None  # the appointment this one replaces
    staff_key: str | None = None  # the person who serves it, when the company names staff

    @property
    def is_active(self) -> bool:
        """True when the appointment holds its slot (active status and not soft-deleted)."""
        return self.status in ACTIVE_STATUSES and not self.deleted
