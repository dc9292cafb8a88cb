"""The dashboard in a real browser: Debian's Chromium driven by Playwright against uvicorn.

Needs the ``playwright`` Python package and ``/usr/bin/chromium`` (``apt-get install -y
chromium``); Playwright's own browser download is not used. Skipped, saying which is
missing, when either is absent. Leaves a screenshot in ``artifacts/dashboard.png``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.store.db import session_factory
from slotguard.store.owners import new_token, set_owner_token
from slotguard.store.tables import CompanyRow, DuplicateDecisionRow, ServiceRow
from slotguard.testing import CalcomEmulator
from slotguard.testing.server import serve_in_thread
from tests import factories
from tests.admin.conftest import ADMIN_TOKEN, NOW, seed
from tests.calcom.conftest import (
    CALLER,
    SECRETS,
    WEBHOOK_SECRET,
    apply_calcom_tenants,
    emulator,
    emulator_server,
)
from tests.calcom.conftest import RETELL_KEY as CAL_RETELL_KEY
from tests.signing import function_request

playwright = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is not installed (pip install)"
)
CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
__all__ = ["emulator", "emulator_server"]
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed (apt-get install -y chromium)"
)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
class TestDashboardInBrowser:
    """Log in and read the company page the way an operator does."""

    async def test_login_and_read_the_page(
        self, engine: AsyncEngine, make_settings: Callable[..., Settings]
    ) -> None:
        """After logging in, the page shows today's appointments and the layers' counters."""
        await seed(engine)
        app = create_app(make_settings(), clock=lambda: NOW)
        with serve_in_thread(app) as base:
            async with playwright.async_playwright() as driver:
                browser = await driver.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                try:
                    page = await browser.new_page(viewport={"width": 1280, "height": 900})
                    await page.goto(f"{base}/dashboard/companies/salon-admin")
                    assert page.url.endswith("/dashboard/login")
                    await page.fill("#token", ADMIN_TOKEN)
                    await page.click("button[type=submit]")
                    await page.goto(f"{base}/dashboard/companies/salon-admin")
                    today = page.locator("#today tbody tr")
                    assert await today.count() == 2
                    assert "Max Müller" in await today.first.inner_text()
                    stat = page.locator("[data-stat]")
                    assert await stat.all_inner_texts() == ["3", "2", "1", "3", "2,4 s", "0,0 %"]
                    assert await page.locator("svg.chart rect").count() == 5
                    ARTIFACTS.mkdir(exist_ok=True)
                    await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
                finally:
                    await browser.close()


@dataclass(frozen=True)
class Salon:
    """The served app with a Cal.com salon (its owner's token) and the two seeded companies."""

    base: str
    owner_token: str
    emulator: CalcomEmulator
    engine: AsyncEngine


@pytest.fixture
async def salon(
    engine: AsyncEngine,
    make_settings: Callable[..., Settings],
    emulator: CalcomEmulator,
    emulator_server: tuple[CalcomEmulator, str],
) -> AsyncIterator[Salon]:
    """salon-cal on the Cal.com emulator with one booking by Max (through Retell and Cal.com),
    a refused repeat of it, and Erika's booking that failed after "pending"; plus the seeded
    salon-admin and practice-admin, which the owner must not see."""
    os.environ.update(SECRETS)
    await seed(engine)
    await apply_calcom_tenants(engine)
    token = new_token()
    async with session_factory(engine)() as session, session.begin():
        assert await set_owner_token(session, "salon-cal", token)
    settings = make_settings(
        retell_api_key=CAL_RETELL_KEY, calcom_base_url=emulator_server[1], calcom_timeout_seconds=5
    )
    with serve_in_thread(create_app(settings)) as base:
        emulator.subscribe_webhook(f"{base}/calcom/webhook/salon-cal", WEBHOOK_SECRET)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            tomorrow = (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=1)).date()
            args = {"customer_name": "Max Müller", "service": "Haarschnitt",
                    "date": tomorrow.isoformat(), "time": "10:00"}  # fmt: skip
            for call_id, status in (("call_b1", "booked"), ("call_b2", "refused")):
                call = {"call_id": call_id, "agent_id": "agent_cal", "from_number": CALLER}
                body, headers = function_request("book_appointment", call, args, CAL_RETELL_KEY)
                reply = (await client.post("/retell/functions/book_appointment",
                                           content=body, headers=headers)).json()  # fmt: skip
                assert reply["status"] == status, reply
        await _erika_failed_after_pending(engine)
        yield Salon(base, token, emulator, engine)
        emulator.webhooks.knobs.hold = True


async def _erika_failed_after_pending(engine: AsyncEngine) -> None:
    """Erika was told "pending"; the reconciler then found no booking in Cal.com."""
    async with session_factory(engine)() as session:
        salon_id = await session.scalar(select(CompanyRow.id).where(CompanyRow.slug == "salon-cal"))
        service_id = await session.scalar(
            select(ServiceRow.id).where(ServiceRow.company_id == salon_id)
        )
    assert salon_id is not None and service_id is not None
    erika = await factories.add(
        engine, factories.customer(salon_id, name="Erika Rückruf", phone_e164="+4917600000001")
    )
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    row = factories.appointment(
        salon_id, erika.id, service_id, start, status="failed",
        reconcile_attempts=2, failure_reason="absent in the calendar",
    )  # fmt: skip
    await factories.add(engine, row)


@asynccontextmanager
async def phone_browser() -> AsyncIterator[Any]:
    """A page of headless Chromium, 390 x 844 like a phone."""
    async with playwright.async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield await browser.new_page(viewport={"width": 390, "height": 844})
        finally:
            await browser.close()


async def _login(page: Any, base: str, token: str) -> None:
    await page.goto(f"{base}/dashboard/login")
    await page.fill("#token", token)
    await page.click("button[type=submit]")


async def _no_horizontal_scroll(page: Any) -> None:
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"page is {widths[0]} px wide in a {widths[1]} px viewport"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
class TestOwnerInBrowser:
    """A salon owner on a phone, and the operator, in Chromium."""

    async def test_owner_sees_acts_and_fits_a_phone(self, salon: Salon) -> None:
        """Owner words, only their salon, call-back list, false positive, cancel via Cal.com."""
        async with phone_browser() as page:
            await _login(page, salon.base, salon.owner_token)
            assert page.url.startswith(f"{salon.base}/dashboard/companies/salon-cal")
            text = await page.inner_text("main")
            for words in ("Doppelte Buchungen verhindert", "Warnungen", "Anrufe"):
                assert words in text
            for operator_words in ("Ebene", "API-Zeit gespart", "Layer"):
                assert operator_words not in text
            stats = dict(zip(
                await page.locator("[data-owner-stat]").evaluate_all(
                    "els => els.map(e => e.dataset.ownerStat)"),
                await page.locator("[data-owner-stat]").all_inner_texts(),
                strict=True,
            ))  # fmt: skip
            assert stats == {"prevented": "1", "warnings": "0", "calls": "2"}
            callbacks = await page.inner_text("#call-backs")
            assert "Erika Rückruf" in callbacks
            assert "+4917600000001" in callbacks
            assert "fehlgeschlagen" in callbacks
            assert "Max" not in callbacks
            assert await page.inner_text("[data-calcom=budget]") != "–"
            await _no_horizontal_scroll(page)
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "owner-390.png"), full_page=True)

            # The finding names the customer; the owner calls it a false alarm.
            finding = page.locator("#decisions li").filter(has_text="Max Müller")
            assert await finding.count() == 1
            assert "exaktes Duplikat" in await finding.inner_text()
            await finding.get_by_role("button", name="Fehlalarm").click()
            assert "Als Fehlalarm markiert." in await page.inner_text("#notice")
            assert await page.locator("#decisions li .tag").count() == 1
            async with session_factory(salon.engine)() as session:
                marked = await session.scalar(
                    select(func.count()).where(
                        DuplicateDecisionRow.false_positive.is_(True),
                        DuplicateDecisionRow.reason == "exact_duplicate",
                        DuplicateDecisionRow.company_id == CompanyRow.id,
                        CompanyRow.slug == "salon-cal",
                    )
                )
            assert marked == 1

            # Cancel Max's appointment: Cal.com is told, the week no longer lists it.
            booked = page.locator("#week li").filter(has_text="Max Müller")
            assert await booked.count() == 1
            await booked.get_by_role("button", name="Absagen").click()
            assert "Termin abgesagt" in await page.inner_text("#notice")
            assert await page.locator("#week li").filter(has_text="Max Müller").count() == 0
            [uid] = [b.uid for b in salon.emulator.bookings]
            assert salon.emulator.count("POST", f"/v2/bookings/{uid}/cancel") == 1
            assert salon.emulator.bookings[0].status == "cancelled"
            await _no_horizontal_scroll(page)
            await page.screenshot(path=str(ARTIFACTS / "owner-390-after.png"), full_page=True)

            # Other salons do not exist for this owner.
            other = await page.goto(f"{salon.base}/dashboard/companies/salon-admin")
            assert other is not None and other.status == 404
            await page.goto(f"{salon.base}/dashboard")
            assert page.url.startswith(f"{salon.base}/dashboard/companies/salon-cal")

    async def test_operator_sees_every_salon(self, salon: Salon) -> None:
        """The admin token lists all companies and keeps the layer view; it fits 390 px too."""
        async with phone_browser() as page:
            await _login(page, salon.base, ADMIN_TOKEN)
            names = await page.locator(".companies li strong").all_inner_texts()
            assert sorted(names) == ["Practice", "Salon Cal", "Salon Mitte"]
            await page.goto(f"{salon.base}/dashboard/companies/salon-admin?lang=de")
            assert "Ebene 1" in await page.inner_text("main")
            await _no_horizontal_scroll(page)
            await page.goto(f"{salon.base}/dashboard/companies/salon-cal?view=owner&lang=de")
            assert "Erika Rückruf" in await page.inner_text("#call-backs")
            await page.screenshot(path=str(ARTIFACTS / "operator-390.png"), full_page=True)

    async def test_a_wrong_token_is_refused(self, salon: Salon) -> None:
        """Neither an owner nor the operator: the login form says so, nothing is visible."""
        async with httpx.AsyncClient(base_url=salon.base) as client:
            refused = await client.post("/dashboard/login", data={"token": "not-a-token"})
            page = await client.get("/dashboard/companies/salon-cal")
        assert refused.status_code == 401
        assert page.status_code == 303
