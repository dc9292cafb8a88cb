"""The owner's page over HTTP: one salon only, even for actions aimed at another's rows."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.store.db import session_factory
from slotguard.store.owners import new_token, set_owner_token
from slotguard.store.tables import AppointmentRow, CompanyRow, DuplicateDecisionRow
from tests.admin.conftest import Seeded


async def _owner(engine: AsyncEngine, slug: str) -> str:
    token = new_token()
    async with session_factory(engine)() as session, session.begin():
        assert await set_owner_token(session, slug, token)
    return token


async def _other_rows(engine: AsyncEngine) -> tuple[int, int]:
    """An appointment and a decision of practice-admin."""
    async with session_factory(engine)() as session:
        other = select(CompanyRow.id).where(CompanyRow.slug == "practice-admin").scalar_subquery()
        appointment = await session.scalar(
            select(AppointmentRow.id).where(AppointmentRow.company_id == other)
        )
        decision = await session.scalar(
            select(DuplicateDecisionRow.id).where(DuplicateDecisionRow.company_id == other)
        )
    assert appointment is not None and decision is not None
    return appointment, decision


async def test_owner_sees_and_touches_only_their_salon(
    client: httpx.AsyncClient, engine: AsyncEngine, seeded: Seeded
) -> None:
    """Other salons are unknown to the owner: pages and actions alike answer 404."""
    token = await _owner(engine, seeded.company)
    signed_in = await client.post("/dashboard/login", data={"token": token})
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == f"/dashboard/companies/{seeded.company}"
    page = await client.get(f"/dashboard/companies/{seeded.company}")
    assert page.status_code == 200
    assert "Doppelte Buchungen verhindert" in page.text
    assert "Erika Mustermann" in page.text
    assert "Ebene" not in page.text and "API-Zeit" not in page.text
    assert (await client.get(f"/dashboard/companies/{seeded.other}")).status_code == 404

    appointment, decision = await _other_rows(engine)
    for path in (
        f"/dashboard/companies/{seeded.other}/appointments/{appointment}/cancel",
        f"/dashboard/companies/{seeded.company}/appointments/{appointment}/cancel",
        f"/dashboard/companies/{seeded.other}/decisions/{decision}/false-positive",
        f"/dashboard/companies/{seeded.company}/decisions/{decision}/false-positive",
    ):
        assert (await client.post(path)).status_code == 404, path
    async with session_factory(engine)() as session:
        status = await session.scalar(
            select(AppointmentRow.status).where(AppointmentRow.id == appointment)
        )
        marked = await session.scalar(
            select(DuplicateDecisionRow.false_positive).where(DuplicateDecisionRow.id == decision)
        )
    assert (status, marked) == ("booked", False)


async def test_a_new_owner_token_signs_the_owner_out(
    client: httpx.AsyncClient, engine: AsyncEngine, seeded: Seeded
) -> None:
    """Replacing the token (a lost phone) ends the session opened with the old one."""
    token = await _owner(engine, seeded.company)
    await client.post("/dashboard/login", data={"token": token})
    assert (await client.get(f"/dashboard/companies/{seeded.company}")).status_code == 200
    await _owner(engine, seeded.company)
    again = await client.get(f"/dashboard/companies/{seeded.company}")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/dashboard/login")
    refused = await client.post("/dashboard/login", data={"token": token})
    assert refused.status_code == 401
