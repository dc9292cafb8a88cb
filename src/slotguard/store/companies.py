"""Companies, services and agent routes: tenants-file upserts and tenant resolution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard import public_holidays
from slotguard.domain import Company, Language, OpeningHours, Service
from slotguard.domain.salon import BookingRules, Closure, StaffMember
from slotguard.store.tables import AgentRouteRow, CompanyRow, ServiceRow
from slotguard.tenants import (
    WEEKDAYS,
    ClosureSpec,
    CompanySpec,
    ServiceSpec,
    StaffSpec,
    TenantsSpec,
    parse_ranges,
)

ROUTE_AGENT = "agent_id"
ROUTE_PHONE = "phone_number"


@dataclass(frozen=True)
class ApplyResult:
    """What ``apply_tenants`` changed."""

    created: int
    updated: int
    unchanged: int


# The company fields of the tenants file kept together in ``companies.rules``.
_COMPANY_RULES = (
    "notice_minutes",
    "buffer_minutes",
    "horizon_days",
    "grid_minutes",
    "public_holidays",
    "closures",
    "staff",
)
_SERVICE_RULES = ("notice_minutes", "buffer_minutes", "grid_minutes")


def staff_key(name: str) -> str:
    """The stable key of a person: the name with case and spacing folded."""
    return " ".join(name.split()).casefold()


def _week(hours: dict[str, str]) -> OpeningHours:
    return OpeningHours({WEEKDAYS.index(d): parse_ranges(s) for d, s in hours.items()})


def rules_from_row(data: dict[str, Any] | None, language: str) -> BookingRules:
    """The company's booking rules from ``companies.rules`` (defaults when empty)."""
    data = data or {}
    region = data.get("public_holidays")
    closures = tuple(
        Closure(c.first, c.until, c.label)
        for c in (ClosureSpec.model_validate(item) for item in data.get("closures", ()))
    )
    return BookingRules(
        notice=timedelta(minutes=data.get("notice_minutes") or 0),
        buffer=timedelta(minutes=data.get("buffer_minutes") or 0),
        horizon_days=data.get("horizon_days"),
        grid_minutes=data.get("grid_minutes"),
        closures=closures,
        holidays=public_holidays.lookup(region, language) if region else None,
    )


def staff_from_row(data: dict[str, Any] | None) -> tuple[StaffMember, ...]:
    """The company's people from ``companies.rules``."""
    people = (StaffSpec.model_validate(item) for item in (data or {}).get("staff", ()))
    return tuple(
        StaffMember(
            key=staff_key(p.name),
            name=p.name,
            aliases=p.aliases,
            services=None if p.services is None else frozenset(n.casefold() for n in p.services),
            hours=None if p.working_hours is None else _week(p.working_hours),
            event_types={n.casefold(): t for n, t in p.calcom_event_type_ids.items()},
        )
        for p in people
    )


def company_rules(spec: CompanySpec) -> dict[str, Any] | None:
    """What ``companies.rules`` holds for ``spec``; None when every rule is the default."""
    data = spec.model_dump(mode="json", by_alias=True, include=set(_COMPANY_RULES))
    defaults = CompanySpec.model_fields
    kept = {k: v for k, v in data.items() if v != _default(defaults[k].get_default())}
    return kept or None


def service_rules(spec: ServiceSpec) -> dict[str, Any] | None:
    """What ``services.rules`` holds for ``spec``; None when it overrides nothing."""
    kept = {k: getattr(spec, k) for k in _SERVICE_RULES if getattr(spec, k) is not None}
    return kept or None


def _default(value: Any) -> Any:
    return [] if value == () else value


def company_from_row(row: CompanyRow) -> Company:
    """Map a row to the domain value."""
    return Company(
        id=row.id,
        slug=row.slug,
        name=row.name,
        timezone=row.timezone,
        language=Language(row.language),
        max_appointments_per_day=row.max_appointments_per_day,
        same_service_window_days=row.same_service_window_days,
        calendar=row.calendar,
        opening_hours=_week(row.opening_hours or {}),
        calcom_api_key_env=row.calcom_api_key_env,
        calcom_webhook_secret_env=row.calcom_webhook_secret_env,
        rules=rules_from_row(row.rules, row.language),
        staff=staff_from_row(row.rules),
    )


def service_from_row(row: ServiceRow) -> Service:
    """Map a row to the domain value."""
    return Service(
        id=row.id,
        company_id=row.company_id,
        name=row.name,
        duration_minutes=row.duration_minutes,
        aliases=tuple(row.aliases or ()),
        calcom_event_type_id=row.calcom_event_type_id,
        notice_minutes=(row.rules or {}).get("notice_minutes"),
        buffer_minutes=(row.rules or {}).get("buffer_minutes"),
        grid_minutes=(row.rules or {}).get("grid_minutes"),
    )


class CompanyRepository:
    """Reads and upserts tenants. Flushes only; the caller owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def apply_tenants(self, spec: TenantsSpec) -> ApplyResult:
        """Upsert every company of ``spec`` by slug; running it twice changes nothing."""
        created = updated = unchanged = 0
        for company in spec.companies:
            outcome = await self._apply_company(company)
            created += outcome == "created"
            updated += outcome == "updated"
            unchanged += outcome == "unchanged"
        return ApplyResult(created, updated, unchanged)

    async def by_slug(self, slug: str) -> Company | None:
        """The company with this slug, if any."""
        row = await self.session.scalar(select(CompanyRow).where(CompanyRow.slug == slug))
        return None if row is None else company_from_row(row)

    async def by_id(self, company_id: int) -> Company | None:
        """The company with this id, if any."""
        row = await self.session.get(CompanyRow, company_id)
        return None if row is None else company_from_row(row)

    async def all(self) -> list[Company]:
        """Every company, by slug."""
        rows = await self.session.scalars(select(CompanyRow).order_by(CompanyRow.slug))
        return [company_from_row(r) for r in rows]

    async def resolve_route(self, agent_id: str | None, to_number: str | None) -> Company | None:
        """The company a Retell call belongs to: by agent id first, then by the called number."""
        for kind, value in ((ROUTE_AGENT, agent_id), (ROUTE_PHONE, to_number)):
            if not value:
                continue
            query = (
                select(CompanyRow)
                .join(AgentRouteRow, AgentRouteRow.company_id == CompanyRow.id)
                .where(AgentRouteRow.kind == kind, AgentRouteRow.value == value)
            )
            row = await self.session.scalar(query)
            if row is not None:
                return company_from_row(row)
        return None

    async def services(self, company_id: int) -> list[Service]:
        """The company's active services, by name."""
        query = (
            select(ServiceRow)
            .where(ServiceRow.company_id == company_id, ServiceRow.active.is_(True))
            .order_by(ServiceRow.name)
        )
        return [service_from_row(r) for r in await self.session.scalars(query)]

    async def service(self, service_id: int) -> Service | None:
        """One service by id (active or not: old appointments keep theirs)."""
        row = await self.session.get(ServiceRow, service_id)
        return None if row is None else service_from_row(row)

    async def companies_of_event_type(self, event_type_id: int) -> set[int]:
        """The companies whose tenants file books this Cal.com event type (an active service)."""
        rows = await self.session.scalars(
            select(ServiceRow.company_id).where(
                ServiceRow.calcom_event_type_id == event_type_id, ServiceRow.active.is_(True)
            )
        )
        return set(rows)

    async def service_for_event_type(
        self, company_id: int, event_type_id: int | None, length_minutes: int
    ) -> Service:
        """The service of a Cal.com event type; an unknown one gets an inactive service row.

        A booking made directly in Cal.com for an event type missing from the tenants file is
        still mirrored (never dropped); the inactive row names it for the operator.
        """
        if event_type_id is not None:
            row = await self.session.scalar(
                select(ServiceRow).where(
                    ServiceRow.company_id == company_id,
                    ServiceRow.calcom_event_type_id == event_type_id,
                )
            )
            if row is not None:
                return service_from_row(row)
        name = f"Cal.com event type {event_type_id}"
        row = await self.session.scalar(
            select(ServiceRow).where(ServiceRow.company_id == company_id, ServiceRow.name == name)
        )
        if row is None:
            row = ServiceRow(
                company_id=company_id,
                name=name,
                aliases=[],
                duration_minutes=max(1, length_minutes),
                calcom_event_type_id=event_type_id,
                active=False,
            )
            self.session.add(row)
            await self.session.flush()
        return service_from_row(row)

    async def _apply_company(self, spec: CompanySpec) -> str:
        row = await self.session.scalar(select(CompanyRow).where(CompanyRow.slug == spec.slug))
        values = {
            "name": spec.name,
            "timezone": spec.timezone,
            "language": spec.language,
            "max_appointments_per_day": spec.max_appointments_per_day,
            "same_service_window_days": spec.same_service_window_days,
            "calendar": spec.calendar,
            "calcom_api_key_env": spec.calcom_api_key_env,
            "calcom_webhook_secret_env": spec.calcom_webhook_secret_env,
            "opening_hours": dict(spec.opening_hours),
            "rules": company_rules(spec),
        }
        if row is None:
            row = CompanyRow(slug=spec.slug, **values)
            self.session.add(row)
            await self.session.flush()
            outcome = "created"
        else:
            changed = any(getattr(row, k) != v for k, v in values.items())
            for key, value in values.items():
                setattr(row, key, value)
            outcome = "updated" if changed else "unchanged"
        services_changed = await self._apply_services(row.id, spec)
        routes_changed = await self._apply_routes(row.id, spec)
        if outcome == "unchanged" and (services_changed or routes_changed):
            outcome = "updated"
        if outcome == "updated":
            row.updated_at = datetime.now(UTC)
        await self.session.flush()
        return outcome

    async def _apply_services(self, company_id: int, spec: CompanySpec) -> bool:
        rows = {
            r.name: r
            for r in await self.session.scalars(
                select(ServiceRow).where(ServiceRow.company_id == company_id)
            )
        }
        changed = False
        for service in spec.services:
            values = {
                "aliases": list(service.aliases),
                "duration_minutes": service.duration_minutes,
                "calcom_event_type_id": service.calcom_event_type_id,
                "rules": service_rules(service),
                "active": True,
            }
            row = rows.pop(service.name, None)
            if row is None:
                self.session.add(ServiceRow(company_id=company_id, name=service.name, **values))
                changed = True
                continue
            changed |= any(getattr(row, k) != v for k, v in values.items())
            for key, value in values.items():
                setattr(row, key, value)
        for stale in rows.values():
            # Kept, not deleted: past appointments still point at it.
            changed |= stale.active
            stale.active = False
        return changed

    async def _apply_routes(self, company_id: int, spec: CompanySpec) -> bool:
        wanted = {(ROUTE_AGENT, a) for a in spec.retell_agent_ids} | {
            (ROUTE_PHONE, p) for p in spec.phone_numbers
        }
        rows = await self.session.scalars(
            select(AgentRouteRow).where(AgentRouteRow.company_id == company_id)
        )
        present = {(r.kind, r.value) for r in rows}
        if present == wanted:
            return False
        await self.session.execute(
            delete(AgentRouteRow).where(AgentRouteRow.company_id == company_id)
        )
        # Routes may move between companies; free them before re-adding.
        for kind, value in wanted:
            await self.session.execute(
                delete(AgentRouteRow).where(
                    AgentRouteRow.kind == kind, AgentRouteRow.value == value
                )
            )
            self.session.add(AgentRouteRow(company_id=company_id, kind=kind, value=value))
        await self.session.flush()
        return True
