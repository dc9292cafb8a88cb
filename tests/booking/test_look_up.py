"""resolve.look_up (read only) names the person identify (which may write) would pick, or says
it cannot: the first look of collect_appointment_data relies on that."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from slotguard.booking.context import Context
from slotguard.booking.resolve import CallRef, identify, look_up
from slotguard.domain import Company, name_key
from slotguard.runtime import open_context
from slotguard.settings import Settings
from slotguard.store.companies import company_from_row
from slotguard.store.tables import CustomerRow
from tests import factories

PHONE = "+4915112345678"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _person(company_id: int, name: str | None, *, first: bool, forgotten: bool = False) -> object:
    return CustomerRow(
        company_id=company_id,
        name=None if forgotten else name,
        name_key=None if forgotten else name_key(name),
        phone_e164=PHONE if first and not forgotten else None,
        household_phone=None if forgotten else PHONE,  # what erasure leaves
        forgotten_at=NOW if forgotten else None,
        created_at=NOW,
        updated_at=NOW,
    )


async def _both(ctx: Context, company: Company, phone: str | None, name: str) -> tuple[object, ...]:
    """(look_up's answer, identify's person id, whether identify wrote a person), identify's
    writes rolled back."""
    async with ctx.driver.lane() as lane:  # the driver's own connection on PostgreSQL
        found = await look_up(lane, company, phone, name)
    async with ctx.sessions() as session, session.begin():
        before = await _people(session)
        caller = await identify(ctx, session, company, CallRef("call_x", None, phone), name=name)
        wrote = await _people(session) != before
        assert caller.customer is not None
        chosen = caller.customer.id
        await session.rollback()
    return found, chosen, wrote


async def _people(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(CustomerRow)) or 0)


@pytest.fixture
async def setting(db_url: str, engine: AsyncEngine) -> AsyncIterator[tuple[Context, Company]]:
    """A running context and a company without anyone yet."""
    row = await factories.add(engine, factories.company())
    settings = Settings(database_url=db_url, reconcile_interval_seconds=0)
    async with open_context(settings) as ctx:
        yield ctx, company_from_row(row)


class TestLookUpAgreesWithIdentify:
    """Certain answers are identify's person (or nobody yet, where identify adds one)."""

    async def test_a_new_number_is_nobody_yet(
        self, engine: AsyncEngine, setting: tuple[Context, Company]
    ) -> None:
        ctx, company = setting
        found, _chosen, wrote = await _both(ctx, company, PHONE, "Lena Berg")
        assert (found.person, found.certain, wrote) == (None, True, True)

    async def test_the_same_name_and_a_first_name_pick_the_known_person(
        self, engine: AsyncEngine, setting: tuple[Context, Company]
    ) -> None:
        ctx, company = setting
        lena = await factories.add(engine, _person(company.id, "Lena Berg", first=True))
        for said in ("Lena Berg", "lena berg", "Lena"):
            found, chosen, wrote = await _both(ctx, company, PHONE, said)
            assert found.certain and found.person is not None, said
            assert found.person.id == chosen == lena.id and not wrote, said

    async def test_a_new_name_on_a_known_phone_is_nobody_yet(
        self, engine: AsyncEngine, setting: tuple[Context, Company]
    ) -> None:
        ctx, company = setting
        await factories.add(engine, _person(company.id, "Lena Berg", first=True))
        found, _chosen, wrote = await _both(ctx, company, PHONE, "Hans Berg")
        assert (found.person, found.certain, wrote) == (None, True, True)

    async def test_a_nameless_first_person_is_left_to_identify(
        self, engine: AsyncEngine, setting: tuple[Context, Company]
    ) -> None:
        """identify gives the first person this name (and their appointments count)."""
        ctx, company = setting
        nameless = await factories.add(engine, _person(company.id, None, first=True))
        found, chosen, _wrote = await _both(ctx, company, PHONE, "Lena Berg")
        assert found.certain is False
        assert chosen == nameless.id

    async def test_an_erased_first_person_with_others_left_is_left_to_identify(
        self, engine: AsyncEngine, setting: tuple[Context, Company]
    ) -> None:
        ctx, company = setting
        await factories.add(engine, _person(company.id, "Lena Berg", first=True, forgotten=True))
        await factories.add(engine, _person(company.id, "Hans Berg", first=False))
        found, _chosen, _wrote = await _both(ctx, company, PHONE, "Hans Berg")
        assert found.certain is False

    async def test_a_withheld_number_is_nobody_here(
        self, engine: AsyncEngine, setting: tuple[Context, Company]
    ) -> None:
        """The call's own link decides (collect checks the call row it records)."""
        ctx, company = setting
        found, _chosen, wrote = await _both(ctx, company, None, "Lena Berg")
        assert (found.person, found.certain, wrote) == (None, True, True)
