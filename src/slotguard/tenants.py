"""The tenants file (TOML, docs/http-contract.md), parsed and validated into typed specs: data, not
settings."""

from __future__ import annotations

import itertools
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from slotguard.domain import OpeningHours
from slotguard.public_holidays import check_region

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# A service longer than this could overlap a request from the previous local day; the
# duplicate rules fetch appointments starting up to this far before the requested day.
MAX_SERVICE_MINUTES = 720

DEMO_TENANTS = """
[[companies]]
slug = "salon-demo"
name = "Salon Demo"
timezone = "Europe/Berlin"
language = "de"
max_appointments_per_day = 3
retell_agent_ids = ["agent_demo"]
phone_numbers = ["+4930123456789"]
calendar = "local"

[companies.opening_hours]
mon = "09:00-18:00"
tue = "09:00-18:00"
wed = "09:00-18:00"
thu = "09:00-20:00"
fri = "09:00-18:00"
sat = "10:00-17:00"
sun = "10:00-17:00"  # open every day, so the README walkthrough works whenever it is tried

[[companies.services]]
name = "Herrenhaarschnitt"
aliases = ["Haarschnitt", "Männerhaarschnitt", "Herrenschnitt"]
duration_minutes = 30

[[companies.services]]
name = "Damenhaarschnitt"
aliases = ["Damenschnitt", "Frauenhaarschnitt"]
duration_minutes = 60

[[companies.services]]
name = "Färben"
aliases = ["Haare färben", "Farbe", "Coloration"]
duration_minutes = 90
buffer_minutes = 15  # the colour sets; the stylist cleans up

# Two stylists: two callers can be served at once, and a caller may ask for one by name.
[[companies.staff]]
name = "Anna"

[[companies.staff]]
name = "Jonas"
services = ["Herrenhaarschnitt", "Damenhaarschnitt"]
"""


class TenantsFileError(ValueError):
    """The tenants file is unreadable or invalid; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Minutes = Annotated[int, Field(ge=0, lt=24 * 60)]
NoticeMinutes = Annotated[int, Field(ge=0, le=30 * 24 * 60)]
GridMinutes = Annotated[int, Field(ge=5, le=240)]


class ServiceSpec(_Strict):
    """One service as written in the tenants file; its rules override the company's."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    aliases: tuple[str, ...] = ()
    duration_minutes: Annotated[int, Field(gt=0, le=MAX_SERVICE_MINUTES)]
    calcom_event_type_id: int | None = None
    notice_minutes: NoticeMinutes | None = None
    buffer_minutes: Minutes | None = None
    grid_minutes: GridMinutes | None = None


class ClosureSpec(_Strict):
    """Closed local days, ``from`` to ``to`` inclusive (one day when ``to`` is left out)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    first: date = Field(alias="from")
    last: date | None = Field(default=None, alias="to")
    label: Annotated[str, Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ClosureSpec:
        if self.last is not None and self.last < self.first:
            raise ValueError(f"closure ends ({self.last}) before it starts ({self.first})")
        return self

    @property
    def until(self) -> date:
        """The last closed day."""
        return self.last or self.first


class StaffSpec(_Strict):
    """One person of a company: the services they offer and their working hours."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    aliases: tuple[str, ...] = ()
    services: tuple[str, ...] | None = None  # None: every service of the company
    working_hours: dict[str, str] | None = None  # None: the company's opening hours
    calcom_event_type_ids: dict[str, int] = Field(default_factory=dict)  # service → event type

    @field_validator("working_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else _check_week(value)


class CompanySpec(_Strict):
    """One company as written in the tenants file."""

    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    timezone: str
    language: Literal["de", "en"] = "de"
    max_appointments_per_day: Annotated[int, Field(ge=1, le=100)] = 3
    same_service_window_days: Annotated[int, Field(ge=0, le=365)] = 30
    retell_agent_ids: tuple[str, ...] = ()
    phone_numbers: tuple[str, ...] = ()
    calendar: Literal["local", "calcom"] = "local"
    calcom_api_key_env: str | None = None
    calcom_webhook_secret_env: str | None = None
    opening_hours: dict[str, str] = Field(default_factory=dict)
    notice_minutes: NoticeMinutes = 0
    buffer_minutes: Minutes = 0
    horizon_days: Annotated[int, Field(ge=1, le=3660)] | None = None
    grid_minutes: GridMinutes | None = None
    public_holidays: str | None = None  # a region such as "DE-BY", see public_holidays.py
    closures: tuple[ClosureSpec, ...] = ()
    services: Annotated[tuple[ServiceSpec, ...], Field(min_length=1)]
    staff: tuple[StaffSpec, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("opening_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_week(value)

    @field_validator("public_holidays")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        return None if value is None else check_region(value)

    @field_validator("closures")
    @classmethod
    def _no_overlap(cls, value: tuple[ClosureSpec, ...]) -> tuple[ClosureSpec, ...]:
        ordered = sorted(value, key=lambda c: c.first)
        for before, after in itertools.pairwise(ordered):
            if after.first <= before.until:
                first, second = (f"{c.first}–{c.until}" for c in (before, after))
                raise ValueError(f"closures {first} and {second} overlap")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CompanySpec:
        names = [s.name.casefold() for s in self.services]
        if len(set(names)) != len(names):
            raise ValueError("two services share a name")
        if self.calendar == "calcom":
            if not self.calcom_api_key_env or not self.calcom_webhook_secret_env:
                raise ValueError(
                    "calendar 'calcom' needs calcom_api_key_env and calcom_webhook_secret_env"
                )
            missing = [s.name for s in self.services if s.calcom_event_type_id is None]
            if missing:
                raise ValueError(f"services without calcom_event_type_id: {', '.join(missing)}")
        self._check_staff()
        return self

    def _check_staff(self) -> None:
        offered = {s.name.casefold() for s in self.services}
        _no_repeats("staff name", [p.name.casefold() for p in self.staff])
        for index, person in enumerate(self.staff):
            where = f"staff[{index}] ({person.name})"
            named = list(person.services or ()) + list(person.calcom_event_type_ids)
            unknown = [name for name in named if name.casefold() not in offered]
            if unknown:
                raise ValueError(f"{where}: unknown service {unknown[0]!r}")
        for service in self.services:
            length = service.duration_minutes + (service.buffer_minutes or self.buffer_minutes)
            if length > 24 * 60:
                raise ValueError(
                    f"service {service.name!r}: its length plus buffer is longer than a day"
                )

    def hours(self) -> OpeningHours:
        """Opening hours as the domain value."""
        weekly = {
            WEEKDAYS.index(day): parse_ranges(spec) for day, spec in self.opening_hours.items()
        }
        return OpeningHours(weekly)


class TenantsSpec(_Strict):
    """The whole tenants file."""

    companies: Annotated[tuple[CompanySpec, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> TenantsSpec:
        _no_repeats("company slug", [c.slug for c in self.companies])
        _no_repeats("retell agent id", [a for c in self.companies for a in c.retell_agent_ids])
        _no_repeats("phone number", [p for c in self.companies for p in c.phone_numbers])
        return self


def _check_week(value: dict[str, str]) -> dict[str, str]:
    for day, spec in value.items():
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
        parse_ranges(spec)
    return value


def parse_ranges(spec: str) -> tuple[tuple[time, time], ...]:
    """``"09:00-12:00, 13:00-18:00"`` → two (opens, closes) pairs; "24:00" ends at midnight."""
    ranges = []
    for part in spec.split(","):
        match = _HOURS.match(part)
        if match is None:
            raise ValueError(f"opening hours {spec!r} are not like '09:00-18:00'")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"opening hours {spec!r} hold an impossible time")
        opens, closes = time(h1, m1), time.max if h2 == 24 else time(h2, m2)
        if closes <= opens:
            raise ValueError(f"opening hours {spec!r} close before they open")
        ranges.append((opens, closes))
    return tuple(ranges)


def load(path: Path | None, environ: Mapping[str, str] | None = None) -> TenantsSpec:
    """Read and validate the tenants file (the built-in demo tenant when ``path`` is None)."""
    source = "built-in demo tenant" if path is None else str(path)
    try:
        text = DEMO_TENANTS if path is None else path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as error:
        raise TenantsFileError(f"{source}: cannot read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise TenantsFileError(f"{source}: not valid TOML: {error}") from None
    try:
        spec = TenantsSpec.model_validate(data)
    except ValidationError as error:
        raise TenantsFileError(f"{source}: {_describe(error, data)}") from None
    _check_secrets(spec, source, os.environ if environ is None else environ)
    return spec


def _check_secrets(spec: TenantsSpec, source: str, environ: Mapping[str, str]) -> None:
    for company in spec.companies:
        for field in ("calcom_api_key_env", "calcom_webhook_secret_env"):
            name = getattr(company, field)
            if company.calendar == "calcom" and not environ.get(name):
                raise TenantsFileError(
                    f"{source}: company {company.slug!r}: {field} names the environment "
                    f"variable {name}, which is not set"
                )


def _no_repeats(what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)


def _describe(error: ValidationError, data: Any) -> str:
    first = error.errors()[0]
    path = ""
    node: Any = data
    for part in first["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
        node = _child(node, part)
        if isinstance(node, dict) and "slug" in node:
            path += f" ({node['slug']})"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{path}: {message}" if path else message


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    if isinstance(node, dict):
        return node.get(str(part))
    return None


def length_mismatches(company: CompanySpec, lengths: Mapping[int, int | None]) -> list[str]:
    """Services whose duration differs from their Cal.com event type's length (``lengths``).

    Cal.com books an event type's own length, so a 45-minute service on a 60-minute event type
    would hold the wrong span there; each mismatch is one readable line.
    """
    durations = {s.name: s.duration_minutes for s in company.services}
    uses = [(s.name, s.calcom_event_type_id) for s in company.services]
    uses += [(name, t) for p in company.staff for name, t in p.calcom_event_type_ids.items()]
    problems: list[str] = []
    for name, event_type in uses:
        if event_type is None or name not in durations:
            continue
        length = lengths.get(event_type)
        if length is None and event_type not in lengths:
            problems.append(f"{company.slug}: {name}: Cal.com has no event type {event_type}")
        elif length is not None and length != durations[name]:
            problems.append(
                f"{company.slug}: {name} lasts {durations[name]} min, "
                f"its Cal.com event type {event_type} {length} min"
            )
    return problems
