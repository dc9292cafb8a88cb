"""Configuration of the Cal.com emulator: hosts, event types, API keys, webhooks and limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: Working hours per weekday (0 = Monday): one ("HH:MM", "HH:MM") pair or a list of pairs.
WorkingHours = Mapping[int, tuple[str, str] | Sequence[tuple[str, str]]]

ALL_DAY: Mapping[int, tuple[str, str]] = {day: ("00:00", "24:00") for day in range(7)}

#: Booking triggers Cal.com sends for the flows the emulator implements
#: (docs/calcom-and-retell-facts.md §3.1).
BOOKING_TRIGGERS: frozenset[str] = frozenset(
    {"BOOKING_CREATED", "BOOKING_REQUESTED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED"}
)

DEFAULT_API_KEY = "cal_test_emulator"


@dataclass(frozen=True)
class HostConfig:
    """The Cal.com user who hosts event types; bookings of one host never overlap."""

    id: int = 1
    name: str = "Salon Host"
    email: str = "host@example.com"
    username: str = "salon-host"
    time_zone: str = "UTC"
    working_hours: WorkingHours = field(default_factory=lambda: dict(ALL_DAY))


DEFAULT_HOST = HostConfig()


@dataclass(frozen=True)
class EventTypeConfig:
    """One bookable event type; `working_hours`/`time_zone` override the host's schedule."""

    id: int
    slug: str
    length: int
    title: str = ""
    host: HostConfig = DEFAULT_HOST
    lengths: tuple[int, ...] = ()  # non-empty = "multiple durations", lengthInMinutes allowed
    requires_confirmation: bool = False  # bookings come back "pending"
    max_active_bookings_per_booker: int | None = None
    offer_reschedule: bool = False
    minimum_notice_minutes: int | None = None  # None: EmulatorConfig.minimum_notice_minutes
    booking_window_days: int | None = None  # None: no upper bound
    working_hours: WorkingHours | None = None
    time_zone: str | None = None

    @property
    def display_title(self) -> str:
        """The event type's title, derived from the slug when not configured."""
        return self.title or self.slug.replace("-", " ").title()

    @property
    def schedule_zone(self) -> str:
        """The IANA zone the working hours are written in."""
        return self.time_zone or self.host.time_zone

    @property
    def schedule(self) -> WorkingHours:
        """The working hours that apply to this event type."""
        return self.working_hours if self.working_hours is not None else self.host.working_hours


@dataclass(frozen=True)
class WebhookSubscription:
    """A webhook subscriber: where to POST, the signing secret, and which triggers."""

    url: str
    secret: str | None = None
    triggers: frozenset[str] = BOOKING_TRIGGERS


def default_event_types(host: HostConfig = DEFAULT_HOST) -> tuple[EventTypeConfig, ...]:
    """The demo salon's services: 1001 (30 min), 1002 (60 min), 1003 (45 min), one host."""
    return (
        EventTypeConfig(1001, "herrenhaarschnitt", 30, "Herrenhaarschnitt", host),
        EventTypeConfig(1002, "damenhaarschnitt", 60, "Damenhaarschnitt", host),
        EventTypeConfig(1003, "faerben", 45, "Färben", host),
    )


@dataclass
class EmulatorConfig:
    """Everything an emulator starts with; `CalcomEmulator.reset()` returns to it."""

    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    event_types: tuple[EventTypeConfig, ...] = field(default_factory=default_event_types)
    webhooks: tuple[WebhookSubscription, ...] = ()
    rate_limit: int = 120  # Cal.com's default for an API key (docs/calcom-and-retell-facts.md §2.9)
    rate_limit_window_seconds: float = 60.0
    minimum_notice_minutes: int = 0  # Cal.com defaults to 120; tests want 0

    def event_type(self, event_type_id: int) -> EventTypeConfig | None:
        """The event type with this id, or None."""
        return next((et for et in self.event_types if et.id == event_type_id), None)
