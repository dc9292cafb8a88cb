"""A salon's rules and people as values: closures, holidays, notice, buffer, horizon, grid, staff.

Standard library only; ``schedule.py`` applies them. A company carries one ``BookingRules``;
a service may override notice, buffer and grid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from slotguard.domain.model import Company, OpeningHours, TimeRange

# A public-holiday calendar: the holiday's name on that local day, or None.
HolidayLookup = Callable[[date], str | None]


@dataclass(frozen=True, slots=True)
class Closure:
    """Closed local days, ``first`` to ``last`` inclusive, with an optional spoken label."""

    first: date
    last: date
    label: str | None = None

    def covers(self, day: date) -> bool:
        """True when ``day`` lies inside the closure."""
        return self.first <= day <= self.last


@dataclass(frozen=True, slots=True)
class ClosedDay:
    """Why a local day is closed: a closure's label or a holiday's name."""

    day: date
    holiday: str | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class BookingRules:
    """The rules of one company, or of one service where it overrides its company's."""

    notice: timedelta = timedelta(0)
    buffer: timedelta = timedelta(0)
    horizon_days: int | None = None
    grid_minutes: int | None = None
    closures: tuple[Closure, ...] = ()
    holidays: HolidayLookup | None = field(default=None, compare=False)

    def closed(self, day: date) -> ClosedDay | None:
        """The reason ``day`` is closed, or None when it is an ordinary day."""
        for closure in self.closures:
            if closure.covers(day):
                return ClosedDay(day, label=closure.label)
        name = self.holidays(day) if self.holidays is not None else None
        return ClosedDay(day, holiday=name) if name else None

    def on_grid(self, start: datetime, tz: ZoneInfo) -> bool:
        """True when the local start lies on the grid (minutes after local midnight)."""
        if not self.grid_minutes:
            return True
        local = start.astimezone(tz)
        return local.second == 0 and (local.hour * 60 + local.minute) % self.grid_minutes == 0

    def overridden(self, notice: int | None, buffer: int | None, grid: int | None) -> BookingRules:
        """These rules with a service's own notice, buffer and grid (minutes) where it has them."""
        return replace(
            self,
            notice=self.notice if notice is None else timedelta(minutes=notice),
            buffer=self.buffer if buffer is None else timedelta(minutes=buffer),
            grid_minutes=self.grid_minutes if grid is None else grid,
        )


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A person who serves customers: the services they offer and their working hours."""

    key: str  # the folded name: stable, stored with each appointment they serve
    name: str
    aliases: tuple[str, ...] = ()
    services: frozenset[str] | None = None  # folded service names; None: all
    hours: OpeningHours | None = None  # None: the company's opening hours
    event_types: Mapping[str, int] = field(default_factory=dict)  # folded service → event type

    def works(self, span: TimeRange, company: Company) -> bool:
        """True when ``span`` lies inside this person's working hours (the company's by default)."""
        hours = self.hours if self.hours is not None else company.opening_hours
        return hours.covers(span, company.tz)

    def offers(self, service_name: str) -> bool:
        """True when this person offers the service."""
        return self.services is None or service_name.casefold() in self.services
