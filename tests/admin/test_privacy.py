"""GDPR erasure (`slotguard customers forget`) on both databases, and once through the CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.booking.privacy import ForgetError, forget_customer
from slotguard.domain import Customer
from slotguard.store.customers import CustomerRepository
from slotguard.store.db import create_engine, session_factory
from slotguard.store.tables import (
    AppointmentRow,
    CallRow,
    CompanyRow,
    CustomerRow,
    DuplicateDecisionRow,
    WebhookEventRow,
)
from tests import databases, factories
from tests.admin.conftest import MAX_PHONE, NOW, Seeded, seed

LATER = NOW + timedelta(hours=1)
LENA_PHONE = "+4917612345678"


async def _forget(
    engine: AsyncEngine, phone: str = MAX_PHONE, company: str | None = None
) -> list[str]:
    erasure = await forget_customer(session_factory(engine), phone, company, LATER)
    return erasure.lines()


async def _customer(engine: AsyncEngine, customer_id: int) -> CustomerRow:
    async with session_factory(engine)() as session:
        row = await session.get(CustomerRow, customer_id)
    assert row is not None
    return row


async def _ids(engine: AsyncEngine, table: type, customer_id: int) -> list[int]:
    async with session_factory(engine)() as session:
        query = select(table.id).where(table.customer_id == customer_id)  # type: ignore[attr-defined]
        return sorted(await session.scalars(query))


def _event(company_id: int, body: str, processed: bool) -> WebhookEventRow:
    return WebhookEventRow(
        provider="retell",
        company_id=company_id,
        dedupe_key=f"call:{body[-12:]}:{processed}",
        trigger="call_ended",
        raw_body=body,
        received_at=NOW,
        processed_at=NOW if processed else None,
        attempts=1,
    )


class TestForgetCustomer:
    """forget_customer removes contact data and keeps the history."""

    async def test_erases_contact_data(self, engine: AsyncEngine, seeded: Seeded) -> None:
        """Name, phone and email are gone, forgotten_at is set, the call number is masked."""
        lines = await _forget(engine)
        row = await _customer(engine, seeded.max_id)
        assert (row.name, row.phone_e164, row.email) == (None, None, None)
        assert row.forgotten_at == LATER
        async with session_factory(engine)() as session:
            number = await session.scalar(select(CallRow.from_number))
        assert number == "+49***********"
        assert lines[0] == (
            f"customer {seeded.max_id} (salon-admin): name, phone and email erased; "
            "kept 3 appointments and 4 decisions"
        )
        assert lines[-1] == "erased +49151*****678 in practice-admin, salon-admin"

    async def test_keeps_history(self, engine: AsyncEngine, seeded: Seeded) -> None:
        """Appointments and decisions keep their ids and their link to the customer id."""
        before = [
            await _ids(engine, t, seeded.max_id) for t in (AppointmentRow, DuplicateDecisionRow)
        ]
        await _forget(engine)
        after = [
            await _ids(engine, t, seeded.max_id) for t in (AppointmentRow, DuplicateDecisionRow)
        ]
        assert after == before and all(after)

    async def test_idempotent(self, engine: AsyncEngine, seeded: Seeded) -> None:
        """A second run changes nothing and says there was nothing left to erase."""
        await _forget(engine)
        again = await forget_customer(
            session_factory(engine), MAX_PHONE, None, LATER + timedelta(days=1)
        )
        assert again.lines() == [
            "nothing to erase for +49151*****678 in practice-admin, salon-admin "
            "(already forgotten or never known)"
        ]
        assert (await _customer(engine, seeded.max_id)).forgotten_at == LATER

    async def test_company_scope(self, engine: AsyncEngine, seeded: Seeded) -> None:
        """--company limits the erasure to that company; without it every company is searched."""
        other = await factories.add(
            engine,
            factories.customer(await _company_id(engine, seeded.other), phone_e164=MAX_PHONE),
        )
        await _forget(engine, company=seeded.other)
        assert (await _customer(engine, seeded.max_id)).phone_e164 == MAX_PHONE
        assert (await _customer(engine, other.id)).phone_e164 is None

    async def test_returning_caller_is_a_new_customer(
        self, engine: AsyncEngine, seeded: Seeded
    ) -> None:
        """After erasure the same number gets a fresh customer, not the forgotten history."""
        await _forget(engine)
        company_id = await _company_id(engine, seeded.company)
        async with session_factory(engine)() as session, session.begin():
            again, created = await CustomerRepository(session).by_phone(
                company_id, MAX_PHONE, LATER
            )
        assert again.id != seeded.max_id
        assert created

    async def test_redacts_applied_webhook_bodies(
        self, engine: AsyncEngine, seeded: Seeded
    ) -> None:
        """The number and email leave applied webhook bodies; unapplied bodies stay as they came."""
        company_id = await _company_id(engine, seeded.company)
        body = f'{{"from_number":"{MAX_PHONE}","email":"max@example.com","x":1}}'
        applied = await factories.add(engine, _event(company_id, body, processed=True))
        waiting = await factories.add(engine, _event(company_id, body, processed=False))
        await _forget(engine, company=seeded.company)
        async with session_factory(engine)() as session:
            bodies = {r.id: r.raw_body for r in await session.scalars(select(WebhookEventRow))}
        assert bodies[applied.id] == '{"from_number":"[erased]","email":"[erased]","x":1}'
        assert bodies[waiting.id] == body

    async def test_redacts_names_and_spoken_numbers(
        self, engine: AsyncEngine, seeded: Seeded
    ) -> None:
        """The name and the number as spoken or formatted leave applied bodies too."""
        company_id = await _company_id(engine, seeded.company)
        spoken = "Ich bin Max Müller, 0151 12345678, also 015112345678 oder +49 151 12345678"
        body = f'{{"transcript":"{spoken}","to":"4915112345678","other":"Erika, 030 1234"}}'
        applied = await factories.add(engine, _event(company_id, body, processed=True))
        await _forget(engine, "+4915112345678", company=seeded.company)
        async with session_factory(engine)() as session:
            redacted = await session.scalar(
                select(WebhookEventRow.raw_body).where(WebhookEventRow.id == applied.id)
            )
        assert redacted == (
            '{"transcript":"Ich bin [erased], [erased], also [erased] oder [erased]",'
            '"to":"[erased]","other":"Erika, 030 1234"}'
        )

    async def test_redacts_earlier_emails(self, engine: AsyncEngine, seeded: Seeded) -> None:
        """An email Max gave before his current one leaves the bodies of his bookings and
        calls; the salon's own (organizer) address stays."""
        company_id = await _company_id(engine, seeded.company)
        async with session_factory(engine)() as session, session.begin():
            row = await session.get(AppointmentRow, seeded.tomorrow_id)
            assert row is not None
            row.calcom_booking_uid = "uid-max-earlier"
        booking = (
            '{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"uid-max-earlier",'
            '"organizer":{"email":"salon@example.com"},'
            '"attendees":[{"name":"Max","email":"max.old@example.org"}]}}'
        )
        call = f'{{"from_number":"{MAX_PHONE}","args":{{"customer_email":"m@old.example"}}}}'
        other = '{"attendees":[{"email":"erika@example.com"}],"uid":"not-max"}'
        ids = [
            (await factories.add(engine, _event(company_id, body, processed=True))).id
            for body in (booking, call, other)
        ]
        await _forget(engine, company=seeded.company)
        async with session_factory(engine)() as session:
            bodies = {r.id: r.raw_body for r in await session.scalars(select(WebhookEventRow))}
        assert "max.old@example.org" not in bodies[ids[0]]
        assert "salon@example.com" in bodies[ids[0]]
        assert "m@old.example" not in bodies[ids[1]]
        assert bodies[ids[2]] == other

    @pytest.mark.parametrize(
        ("phone", "company", "message"),
        [("not a number", None, "not a phone number"), (MAX_PHONE, "nope", "unknown company")],
    )
    async def test_refusals(
        self, engine: AsyncEngine, seeded: Seeded, phone: str, company: str | None, message: str
    ) -> None:
        """An unusable number or an unknown company stops before anything is changed."""
        with pytest.raises(ForgetError, match=message):
            await _forget(engine, phone, company)
        assert (await _customer(engine, seeded.max_id)).phone_e164 == MAX_PHONE


async def _company_id(engine: AsyncEngine, slug: str) -> int:
    async with session_factory(engine)() as session:
        found = await session.scalar(select(CompanyRow.id).where(CompanyRow.slug == slug))
    assert found is not None
    return found


class TestForgetCommand:
    """`slotguard customers forget` as an operator runs it (SQLite)."""

    def test_cli(self, tmp_path: Path) -> None:
        """The command prints what it erased, then nothing to erase; a bad number exits 2."""
        url = databases.sqlite_url(tmp_path)
        databases.migrate(url)
        asyncio.run(_seed_file(url))
        env = {**os.environ, "SLOTGUARD_DATABASE_URL": url, "SLOTGUARD_LOG_LEVEL": "warning"}
        first = _slotguard(env, "customers", "forget", "--phone", "+49 151 12345678")
        second = _slotguard(env, "customers", "forget", "--phone", MAX_PHONE)
        bad = _slotguard(env, "customers", "forget", "--phone", "x")
        assert first.returncode == 0, first.stderr
        assert "name, phone and email erased" in first.stdout
        assert "erased +49151*****678 in practice-admin, salon-admin" in first.stdout
        assert "nothing to erase" in second.stdout
        assert (bad.returncode, "not a phone number" in bad.stderr) == (2, True)


def _slotguard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from slotguard.cli.main import main; main()", *args]
    return subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        command, env=env, capture_output=True, text=True, check=False, timeout=60
    )


async def _seed_file(url: str) -> None:
    engine = create_engine(url)
    try:
        await seed(engine)
    finally:
        await engine.dispose()


class TestAfterErasure:
    """The erased person may call again; the others of the household are still themselves."""

    async def _household(self, engine: AsyncEngine, seeded: Seeded) -> tuple[int, int, int]:
        company_id = await _company_id(engine, seeded.company)
        async with session_factory(engine)() as session, session.begin():
            people = CustomerRepository(session)
            lena, _ = await people.person(company_id, LENA_PHONE, "Lena Berg", None, NOW)
            hans, _ = await people.person(company_id, LENA_PHONE, "Hans Berg", None, NOW)
        return company_id, lena.id, hans.id

    async def _calls_again(
        self, engine: AsyncEngine, company_id: int, name: str
    ) -> tuple[Customer, list[Customer]]:
        """The person ``name`` picks when the household's number calls after the erasure."""
        async with session_factory(engine)() as session, session.begin():
            return await CustomerRepository(session).person(
                company_id, LENA_PHONE, name, None, LATER
            )

    async def test_nothing_of_the_number_or_the_name_stays(
        self, engine: AsyncEngine, seeded: Seeded
    ) -> None:
        """Not even in the household's number or the folded name the lookup uses."""
        _company, lena, hans = await self._household(engine, seeded)
        await _forget(engine, phone=LENA_PHONE)
        row = await _customer(engine, lena)
        assert (row.name, row.name_key, row.phone_e164, row.household_phone) == (None,) * 4
        assert (await _customer(engine, hans)).household_phone == LENA_PHONE  # his own number

    async def test_the_erased_person_calls_again_under_the_same_name(
        self, engine: AsyncEngine, seeded: Seeded
    ) -> None:
        company_id, lena, _hans = await self._household(engine, seeded)
        await _forget(engine, phone=LENA_PHONE)
        again, _ = await self._calls_again(engine, company_id, "Lena Berg")
        assert again.id != lena and again.name == "Lena Berg"

    async def test_the_household_still_finds_hans(
        self, engine: AsyncEngine, seeded: Seeded
    ) -> None:
        company_id, _lena, hans = await self._household(engine, seeded)
        await _forget(engine, phone=LENA_PHONE)
        found, household = await self._calls_again(engine, company_id, "Hans Berg")
        assert found.id == hans
        assert hans in [p.id for p in household]
