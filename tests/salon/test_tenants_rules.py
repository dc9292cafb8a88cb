"""Staff, closures, holidays and rules in the tenants file: validation and storage."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard import tenants
from slotguard.store.companies import CompanyRepository
from slotguard.store.db import session_factory

SALON = """
[[companies]]
slug = "salon-nord"
name = "Salon Nord"
timezone = "Europe/Berlin"
calendar = "local"
notice_minutes = 120
buffer_minutes = 10
horizon_days = 90
grid_minutes = 15
public_holidays = "DE-BY"
closures = [
  { from = 2026-12-24, to = 2027-01-01, label = "Betriebsferien" },
  { from = 2027-02-16 },
]
opening_hours = { mon = "09:00-18:00", tue = "09:00-18:00" }

[[companies.services]]
name = "Herrenhaarschnitt"
duration_minutes = 30

[[companies.services]]
name = "Färben"
duration_minutes = 90
buffer_minutes = 30
notice_minutes = 1440

[[companies.staff]]
name = "Anna"
aliases = ["Anni"]
services = ["Färben", "Herrenhaarschnitt"]

[[companies.staff]]
name = "Jonas"
services = ["Herrenhaarschnitt"]
working_hours = { mon = "12:00-18:00" }
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tenants.toml"
    path.write_text(text, encoding="utf-8")
    return path


class TestInvalid:
    """A bad rule stops the file with one line naming the place."""

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (
                ('services = ["Herrenhaarschnitt"]', 'services = ["Dauerwelle"]'),
                "companies[0] (salon-nord): staff[1] (Jonas): unknown service 'Dauerwelle'",
            ),
            (
                ("{ from = 2027-02-16 }", "{ from = 2026-12-31 }"),
                "companies[0] (salon-nord).closures: closures 2026-12-24–2027-01-01 and "
                "2026-12-31–2026-12-31 overlap",
            ),
            (
                ("buffer_minutes = 30", "buffer_minutes = 1400"),
                "service 'Färben': its length plus buffer is longer than a day",
            ),
            (
                ("buffer_minutes = 10", "buffer_minutes = 1440"),
                "companies[0] (salon-nord).buffer_minutes: Input should be less than 1440",
            ),
            (
                ('public_holidays = "DE-BY"', 'public_holidays = "DE-XX"'),
                "companies[0] (salon-nord).public_holidays: unknown public-holiday region 'DE-XX'",
            ),
            (
                ('working_hours = { mon = "12:00-18:00" }', 'working_hours = { mon = "18-12" }'),
                "staff[1].working_hours: opening hours '18-12' are not like '09:00-18:00'",
            ),
            (
                ("to = 2027-01-01", "to = 2026-12-01"),
                "closure ends (2026-12-01) before it starts (2026-12-24)",
            ),
            (("grid_minutes = 15", "grid_minutes = 1"), "grid_minutes: Input should be greater"),
        ],
    )
    def test_names_the_place(self, tmp_path: Path, change: tuple[str, str], message: str) -> None:
        """Each mistake gives one line that starts with the file and names the field."""
        path = _write(tmp_path, SALON.replace(*change, 1))
        with pytest.raises(tenants.TenantsFileError) as caught:
            tenants.load(path)
        text = str(caught.value)
        assert text.startswith(str(path)) and "\n" not in text
        assert message in text


class TestStored:
    """Rules and staff survive the database and come back as domain values."""

    async def test_round_trip(self, engine: AsyncEngine, tmp_path: Path) -> None:
        """Company rules, service overrides and staff are read back as applied."""
        spec = tenants.load(_write(tmp_path, SALON))
        async with session_factory(engine)() as s, s.begin():
            result = await CompanyRepository(s).apply_tenants(spec)
        async with session_factory(engine)() as s, s.begin():
            again = await CompanyRepository(s).apply_tenants(spec)
        async with session_factory(engine)() as s:
            repo = CompanyRepository(s)
            company = await repo.by_slug("salon-nord")
            assert company is not None
            services = {x.name: x for x in await repo.services(company.id)}
        assert (result.created, again.unchanged) == (1, 1)
        rules = company.rules
        assert (rules.notice, rules.buffer, rules.horizon_days, rules.grid_minutes) == (
            timedelta(hours=2),
            timedelta(minutes=10),
            90,
            15,
        )
        closed = rules.closed(date(2026, 12, 27))
        assert closed is not None and closed.label == "Betriebsferien"
        assert rules.closed(date(2027, 2, 16)) is not None
        holiday = rules.closed(date(2027, 1, 6))
        assert holiday is not None and holiday.holiday == "Heilige Drei Könige"
        colour = company.rules_for(services["Färben"])
        assert (colour.notice, colour.buffer) == (timedelta(days=1), timedelta(minutes=30))
        cut = company.rules_for(services["Herrenhaarschnitt"])
        assert (cut.notice, cut.buffer) == (timedelta(hours=2), timedelta(minutes=10))
        assert [p.name for p in company.staff_for(services["Färben"])] == ["Anna"]
        assert [p.name for p in company.staff_for(services["Herrenhaarschnitt"])] == [
            "Anna",
            "Jonas",
        ]
        jonas = company.staff[1]
        assert jonas.hours is not None and 0 in jonas.hours.weekly and 1 not in jonas.hours.weekly

    async def test_changed_rules_update(self, engine: AsyncEngine, tmp_path: Path) -> None:
        """Changing only a rule counts as an update of the company."""
        async with session_factory(engine)() as s, s.begin():
            await CompanyRepository(s).apply_tenants(tenants.load(_write(tmp_path, SALON)))
        changed = SALON.replace("horizon_days = 90", "horizon_days = 60")
        async with session_factory(engine)() as s, s.begin():
            result = await CompanyRepository(s).apply_tenants(
                tenants.load(_write(tmp_path, changed))
            )
        async with session_factory(engine)() as s:
            company = await CompanyRepository(s).by_slug("salon-nord")
        assert result.updated == 1
        assert company is not None and company.rules.horizon_days == 60


class TestCommandLine:
    """A bad rule stops ``tenants apply`` and ``serve`` with one line and exit status 2."""

    @pytest.mark.parametrize("command", [("tenants", "apply", "{path}"), ("serve",)])
    def test_one_line(self, tmp_path: Path, command: tuple[str, ...]) -> None:
        """An unknown service in a person's list names the person, nothing more."""
        path = _write(
            tmp_path, SALON.replace('services = ["Herrenhaarschnitt"]', 'services = ["X"]')
        )
        env = {
            **os.environ,
            "SLOTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
            "SLOTGUARD_CONFIG": str(path),
            "SLOTGUARD_RETELL_API_KEY": "key_salon_rules_0123456789",
            "SLOTGUARD_PORT": "18765",  # never bound: the file is refused first
        }
        args = [a.format(path=path) for a in command]
        done = subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "slotguard.cli", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        [line] = done.stderr.strip().splitlines()
        assert "staff[1] (Jonas): unknown service 'X'" in line
