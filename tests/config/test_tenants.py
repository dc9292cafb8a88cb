"""The tenants file: validation with precise messages, and idempotent application."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard import tenants
from slotguard.store.companies import CompanyRepository
from slotguard.store.db import session_factory
from slotguard.store.tables import AgentRouteRow, CompanyRow, ServiceRow

CALCOM_TENANT = """
[[companies]]
slug = "salon-mitte"
name = "Salon Mitte"
timezone = "Europe/Berlin"
language = "de"
retell_agent_ids = ["agent_salon_mitte"]
phone_numbers = ["+493012345678"]
calendar = "calcom"
calcom_api_key_env = "CALCOM_KEY_SALON_MITTE"
calcom_webhook_secret_env = "CALCOM_WEBHOOK_SECRET_SALON_MITTE"
opening_hours = { mon = "09:00-18:00", sat = "10:00-14:00" }

[[companies.services]]
name = "Herrenhaarschnitt"
aliases = ["Haarschnitt"]
duration_minutes = 30
calcom_event_type_id = 1001
"""
SECRETS = {"CALCOM_KEY_SALON_MITTE": "cal_x", "CALCOM_WEBHOOK_SECRET_SALON_MITTE": "s"}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tenants.toml"
    path.write_text(text, encoding="utf-8")
    return path


class TestLoad:
    """Parsing and validating the file."""

    def test_demo_tenant_is_valid(self) -> None:
        """The built-in demo tenant parses into one German salon on the local calendar."""
        spec = tenants.load(None)
        [company] = spec.companies
        assert (company.slug, company.language, company.calendar) == ("salon-demo", "de", "local")
        assert len(company.services) == 3

    def test_calcom_tenant_with_secrets(self, tmp_path: Path) -> None:
        """A Cal.com tenant loads when the named secret variables are set."""
        spec = tenants.load(_write(tmp_path, CALCOM_TENANT), SECRETS)
        assert spec.companies[0].services[0].calcom_event_type_id == 1001

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (
                ("Europe/Berlin", "Europe/Berln"),
                "companies[0] (salon-mitte).timezone: unknown time zone 'Europe/Berln'",
            ),
            (
                ("duration_minutes = 30\n", ""),
                "companies[0] (salon-mitte).services[0].duration_minutes: Field required",
            ),
            (
                ("duration_minutes = 30", "duration_minutes = 0"),
                "services[0].duration_minutes: Input should be greater than 0",
            ),
            (('mon = "09:00-18:00"', 'mon = "18:00-09:00"'), "close before they open"),
            (('mon = "09:00-18:00"', 'montag = "09:00-18:00"'), "unknown weekday 'montag'"),
            (
                ('language = "de"', 'language = "fr"'),
                "companies[0] (salon-mitte).language: Input should be 'de' or 'en'",
            ),
            (
                ("calcom_event_type_id = 1001", ""),
                "services without calcom_event_type_id: Herrenhaarschnitt",
            ),
            (
                ('slug = "salon-mitte"', 'slug = "Salon Mitte"'),
                "(Salon Mitte).slug: String should match pattern",
            ),
            (
                ('name = "Salon Mitte"', 'name = "Salon Mitte"\ncolour = "red"'),
                "colour: Extra inputs are not permitted",
            ),
            (("[[companies]]", "[[companies]"), "not valid TOML"),
        ],
    )
    def test_invalid_file_names_the_field(
        self, tmp_path: Path, change: tuple[str, str], message: str
    ) -> None:
        """Each kind of mistake yields one error naming the file and the field."""
        path = _write(tmp_path, CALCOM_TENANT.replace(*change, 1))
        with pytest.raises(tenants.TenantsFileError) as caught:
            tenants.load(path, SECRETS)
        assert str(caught.value).startswith(str(path))
        assert message in str(caught.value)
        assert "\n" not in str(caught.value)

    def test_duplicate_slug(self, tmp_path: Path) -> None:
        """Two companies with one slug are refused."""
        twice = CALCOM_TENANT + CALCOM_TENANT.replace("agent_salon_mitte", "a2").replace(
            "+493012345678", "+493099999999"
        )
        with pytest.raises(tenants.TenantsFileError, match="duplicate company slug 'salon-mitte'"):
            tenants.load(_write(tmp_path, twice), SECRETS)

    def test_missing_secret_variable(self, tmp_path: Path) -> None:
        """A Cal.com tenant whose secret variable is unset is refused, naming the variable."""
        with pytest.raises(tenants.TenantsFileError, match="CALCOM_WEBHOOK_SECRET_SALON_MITTE"):
            tenants.load(_write(tmp_path, CALCOM_TENANT), {"CALCOM_KEY_SALON_MITTE": "k"})

    def test_missing_file(self, tmp_path: Path) -> None:
        """A path that does not exist gives a readable error."""
        with pytest.raises(tenants.TenantsFileError, match="cannot read"):
            tenants.load(tmp_path / "nope.toml")


async def _counts(engine: AsyncEngine) -> tuple[int, int, int]:
    async with session_factory(engine)() as s:
        return (
            int(await s.scalar(select(func.count()).select_from(CompanyRow)) or 0),
            int(await s.scalar(select(func.count()).select_from(ServiceRow)) or 0),
            int(await s.scalar(select(func.count()).select_from(AgentRouteRow)) or 0),
        )


class TestApply:
    """Upserting companies, services and routes into the database."""

    async def test_apply_twice_same_state(self, engine: AsyncEngine) -> None:
        """Applying the same file twice creates once and then changes nothing."""
        spec = tenants.load(None)
        async with session_factory(engine)() as s, s.begin():
            first = await CompanyRepository(s).apply_tenants(spec)
        before = await _counts(engine)
        async with session_factory(engine)() as s, s.begin():
            second = await CompanyRepository(s).apply_tenants(spec)
        assert (first.created, second.created, second.updated, second.unchanged) == (1, 0, 0, 1)
        assert await _counts(engine) == before == (1, 3, 2)

    async def test_apply_changes_and_routes(self, engine: AsyncEngine, tmp_path: Path) -> None:
        """A changed limit updates the company, and its routes resolve calls to it."""
        spec = tenants.load(None)
        async with session_factory(engine)() as s, s.begin():
            await CompanyRepository(s).apply_tenants(spec)
        changed = tenants.DEMO_TENANTS.replace(
            "max_appointments_per_day = 3", "max_appointments_per_day = 5"
        )
        async with session_factory(engine)() as s, s.begin():
            result = await CompanyRepository(s).apply_tenants(
                tenants.load(_write(tmp_path, changed))
            )
        async with session_factory(engine)() as s:
            repo = CompanyRepository(s)
            by_agent = await repo.resolve_route("agent_demo", None)
            by_number = await repo.resolve_route("unknown", "+4930123456789")
            nobody = await repo.resolve_route("unknown", "+49000")
        assert result.updated == 1
        assert by_agent is not None and by_agent.max_appointments_per_day == 5
        assert by_number is not None and by_number.slug == "salon-demo"
        assert nobody is None
