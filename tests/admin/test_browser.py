"""The dashboard in a real browser: Debian's Chromium driven by Playwright against uvicorn.

Needs the ``playwright`` Python package and ``/usr/bin/chromium`` (``apt-get install -y
chromium``); Playwright's own browser download is not used. Skipped, saying which is
missing, when either is absent. Leaves a screenshot in ``artifacts/dashboard.png``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.testing.server import serve_in_thread
from tests.admin.conftest import ADMIN_TOKEN, NOW, seed

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
