"""A seeded operator's world: two companies, appointments, decisions of all layers, calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.api import create_app
from slotguard.observability import Metrics
from slotguard.settings import Settings
from slotguard.store.tables import CallRow, DuplicateDecisionRow
from slotguard.testing.asgi import lifespan_client
from tests import factories

ADMIN_TOKEN = "admin-token-0123456789abcdef"
RETELL_KEY = "key_test_retell_0123456789"
# Wednesday 25 November 2026, 10:00 in Berlin.
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
MAX_PHONE = "+4915112345678"
ERIKA_PHONE = "+4917698765432"


@dataclass(frozen=True)
class Seeded:
    """Ids of what ``seed`` wrote."""

    company: str
    other: str
    max_id: int
    erika_id: int
    today_ids: list[int]
    tomorrow_id: int
    blocked_id: int
    clear_id: int
    call_id: str


def decision(company_id: int, layer: int, result: str, reason: str, action: str, **kw: Any) -> Any:
    """A duplicate_decisions row (created at NOW unless given)."""
    values: dict[str, Any] = {
        "company_id": company_id,
        "function": "book_appointment",
        "layer": layer,
        "result": result,
        "reason": reason,
        "action": action,
        "false_positive": False,
        "created_at": NOW,
    }
    return DuplicateDecisionRow(**{**values, **kw})


async def seed(engine: AsyncEngine) -> Seeded:
    """Write two companies with appointments, decisions of every layer and one call."""
    add = factories.add
    salon = await add(engine, factories.company(slug="salon-admin", name="Salon Mitte"))
    us = {"language": "en", "timezone": "America/New_York"}
    other = await add(engine, factories.company(slug="practice-admin", name="Practice", **us))
    cut = await add(engine, factories.service(salon.id, name="Herrenhaarschnitt"))
    color = await add(engine, factories.service(salon.id, name="Färben", duration_minutes=90))
    checkup = await add(engine, factories.service(other.id, name="Checkup"))
    person = factories.customer
    mx = await add(engine, person(salon.id, phone_e164=MAX_PHONE, email="max@example.com"))
    erika = await add(engine, person(salon.id, name="Erika Mustermann", phone_e164=ERIKA_PHONE))
    john = await add(engine, person(other.id, name="John Doe"))
    slot = factories.appointment
    noon = await add(engine, slot(salon.id, mx.id, cut.id, NOW + timedelta(hours=2)))
    late = await add(engine, slot(salon.id, erika.id, color.id, NOW + timedelta(hours=5)))
    await add(engine, slot(salon.id, mx.id, cut.id, NOW - timedelta(days=1), status="cancelled"))
    tomorrow = await add(engine, slot(salon.id, mx.id, color.id, NOW + timedelta(days=1)))
    await add(engine, slot(other.id, john.id, checkup.id, NOW + timedelta(hours=1)))
    call = await add(engine, _call(salon.id, mx.id))
    people = {"salon": salon.id, "other": other.id, "max": mx.id, "erika": erika.id}
    ids = await _decisions(engine, {**people, "call": call.id, None: None})
    return Seeded(
        company="salon-admin",
        other="practice-admin",
        max_id=mx.id,
        erika_id=erika.id,
        today_ids=[noon.id, late.id],
        tomorrow_id=tomorrow.id,
        blocked_id=ids[4],
        clear_id=ids[6],
        call_id="call_admin_1",
    )


def _call(company_id: int, customer_id: int) -> CallRow:
    """Max's Retell call."""
    return CallRow(
        call_id="call_admin_1",
        company_id=company_id,
        from_number=MAX_PHONE,
        to_number="+4930111111",
        customer_id=customer_id,
        appointment_link_status="none",
        created_at=NOW,
        updated_at=NOW,
    )


# (company, layer, result, reason, action, customer, via the call, asked for tomorrow, days ago)
DECISIONS = [
    # Warned and never booked: one calendar call avoided.
    ("salon", 1, "warning", "same_day", "warning", "max", True, True, 3),
    # Warned, then the agent confirmed and booking went on: not avoided.
    ("salon", 1, "warning", "same_day", "warning", "erika", False, True, 2),
    ("salon", 1, "warning", "same_day", "overridden", "erika", False, True, 2),
    ("salon", 2, "clear", "none", "allowed", "erika", False, True, 2),
    ("salon", 2, "blocked", "exact_duplicate", "blocked", "max", False, False, 1),
    ("salon", 2, "blocked", "overlapping", "blocked", "max", False, False, 0),
    ("salon", 2, "clear", "none", "allowed", "max", False, False, 0),
    # The webhook echo of a booking we linked: routine, counted nowhere.
    ("salon", 3, "merged", "known_booking_uid", "ignored", None, False, False, 0),
    ("salon", 3, "flagged", "external_duplicate", "flagged", "erika", False, False, 0),
    ("other", 2, "blocked", "daily_limit", "blocked", None, False, False, 0),
]


async def _decisions(engine: AsyncEngine, ids: dict[str | None, int | None]) -> list[int]:
    """Write DECISIONS; returns their ids in order."""
    written = []
    for company, layer, result, reason, action, who, via_call, asked, days in DECISIONS:
        row = decision(
            ids[company],  # type: ignore[arg-type]
            layer,
            result,
            reason,
            action,
            customer_id=ids[who],
            call_row_id=ids["call"] if via_call else None,
            requested_start=NOW + timedelta(days=1) if asked else None,
            created_at=NOW - timedelta(days=days),
            function="calcom_webhook" if layer == 3 else "book_appointment",
        )
        written.append((await factories.add(engine, row)).id)
    return written


@pytest.fixture
async def seeded(engine: AsyncEngine) -> Seeded:
    """The seeded world on the test's database."""
    return await seed(engine)


@pytest.fixture
def metrics() -> Metrics:
    """The app's metrics, so tests can read the counters it increments."""
    return Metrics()


@pytest.fixture
def make_settings(db_url: str) -> Callable[..., Settings]:
    """Settings on the test database with an admin token and a Retell key (overridable)."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": db_url,
            "retell_api_key": RETELL_KEY,
            "admin_token": ADMIN_TOKEN,
            "api_docs": True,  # the admin API's description is under test here
            "reconcile_interval_seconds": 0,
        }
        return Settings(**{**values, **overrides})

    return build


@pytest.fixture
async def client(
    make_settings: Callable[..., Settings], seeded: Seeded, metrics: Metrics
) -> AsyncIterator[httpx.AsyncClient]:
    """An unauthenticated client of the app on the seeded database."""
    app = create_app(make_settings(), metrics=metrics, clock=lambda: NOW)
    async with lifespan_client(app) as http:
        yield http


@pytest.fixture
def auth() -> dict[str, str]:
    """The admin bearer header."""
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
