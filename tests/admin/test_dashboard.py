"""The server-rendered dashboard: login and session cookie, per-company page, languages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.api import create_app
from slotguard.api.auth import LOGIN_WINDOW, MAX_LOGIN_FAILURES, SESSION_COOKIE, SESSION_SECONDS
from slotguard.settings import Settings
from slotguard.testing.asgi import lifespan_client
from tests import factories
from tests.admin.conftest import ADMIN_TOKEN, NOW, Seeded


async def _login(client: httpx.AsyncClient, token: str = ADMIN_TOKEN) -> httpx.Response:
    return await client.post("/dashboard/login", data={"token": token})


@pytest.fixture
async def https_client(
    make_settings: Callable[..., Settings], seeded: Seeded
) -> AsyncIterator[httpx.AsyncClient]:
    """A client speaking to the app as https://."""
    app = create_app(make_settings(), clock=lambda: NOW)
    async with lifespan_client(app, base_url="https://slotguard.test") as http:
        yield http


class TestLogin:
    """The login form, the session cookie and logout."""

    async def test_form(self, client: httpx.AsyncClient) -> None:
        """The login page is a form posting a password field named token."""
        page = await client.get("/dashboard/login")
        assert page.status_code == 200
        assert 'type="password"' in page.text and 'name="token"' in page.text

    async def test_wrong_token(self, client: httpx.AsyncClient) -> None:
        """A wrong token re-renders the form with 401 and sets no cookie."""
        response = await _login(client, "wrong")
        assert response.status_code == 401
        assert "set-cookie" not in response.headers

    async def test_cookie_attributes(self, client: httpx.AsyncClient) -> None:
        """Success sets an HttpOnly, SameSite=Strict cookie that does not contain the token."""
        response = await _login(client)
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie
        assert "Secure" not in cookie
        assert ADMIN_TOKEN not in cookie
        assert re.search(rf"{SESSION_COOKIE}=[A-Za-z0-9_-]{{43}};", cookie)

    async def test_secure_over_https(self, https_client: httpx.AsyncClient) -> None:
        """Over https the cookie is also Secure."""
        response = await _login(https_client)
        assert "Secure" in response.headers["set-cookie"]

    async def test_pages_need_a_session(self, client: httpx.AsyncClient) -> None:
        """Without a cookie the dashboard redirects to the login page."""
        response = await client.get("/dashboard/companies/salon-admin")
        assert (response.status_code, response.headers["location"]) == (303, "/dashboard/login")

    @pytest.mark.parametrize(
        "cookie",
        [
            "123.abc",
            "A" * 43,
            "9" * 5000 + "." + "0" * 64,
            f"{int(NOW.timestamp()) + 60}.{'0' * 64}",
        ],
        ids=["garbage", "unknown", "huge", "old-format"],
    )
    async def test_invalid_cookies(self, client: httpx.AsyncClient, cookie: str) -> None:
        """Forged, expired or foreign session cookies lead back to the login page."""
        client.cookies.set(SESSION_COOKIE, cookie, path="/dashboard")
        response = await client.get("/dashboard/companies/salon-admin")
        assert response.status_code == 303

    async def test_logout(self, client: httpx.AsyncClient) -> None:
        """Logout removes the cookie, so the next page view asks to log in again."""
        await _login(client)
        assert (await client.get("/dashboard/companies/salon-admin")).status_code == 200
        response = await client.post("/dashboard/logout")
        assert response.status_code == 303
        assert (await client.get("/dashboard/companies/salon-admin")).status_code == 303

    async def test_logout_ends_copies_of_the_cookie(
        self, client: httpx.AsyncClient, make_settings: Callable[..., Settings]
    ) -> None:
        """After logout a copied cookie no longer opens a page, on any worker."""
        cookie = (await _login(client)).cookies[SESSION_COOKIE]
        other = create_app(make_settings(), clock=lambda: NOW)  # a second worker, same database
        async with lifespan_client(other) as copy:
            copy.cookies.set(SESSION_COOKIE, cookie, path="/dashboard")
            assert (await copy.get("/dashboard/companies/salon-admin")).status_code == 200
            await client.post("/dashboard/logout")
            assert (await copy.get("/dashboard/companies/salon-admin")).status_code == 303

    @pytest.mark.parametrize(
        ("changes", "opens"),
        [
            ({}, True),
            ({"clock_seconds": SESSION_SECONDS + 1}, False),
            ({"admin_token": "a-new-admin-token-0123456789"}, False),
        ],
        ids=["same", "expired", "token-changed"],
    )
    async def test_session_ends_with_expiry_or_token(
        self,
        client: httpx.AsyncClient,
        make_settings: Callable[..., Settings],
        changes: dict[str, object],
        opens: bool,
    ) -> None:
        """A session lasts SESSION_SECONDS and only as long as the token it was opened with."""
        cookie = (await _login(client)).cookies[SESSION_COOKIE]
        settings = {k: v for k, v in changes.items() if k != "clock_seconds"}
        later = NOW + timedelta(seconds=float(changes.get("clock_seconds", 0)))  # type: ignore[arg-type]
        app = create_app(make_settings(**settings), clock=lambda: later)
        async with lifespan_client(app) as http:
            http.cookies.set(SESSION_COOKIE, cookie, path="/dashboard")
            page = await http.get("/dashboard/companies/salon-admin")
        assert page.status_code == (200 if opens else 303)

    async def test_off_without_admin_token(self, make_settings: Callable[..., Settings]) -> None:
        """With no admin token the dashboard pages answer 404 saying the admin API is off."""
        app = create_app(make_settings(admin_token=None), clock=lambda: NOW)
        async with lifespan_client(app) as http:
            for response in (await http.get("/dashboard"), await _login(http, "x")):
                assert response.status_code == 404
                assert "admin API is off" in response.text


class TestLoginThrottle:
    """Wrong tokens from one address are limited; other addresses are not affected."""

    async def test_throttled_after_failures(
        self, client: httpx.AsyncClient, make_settings: Callable[..., Settings], seeded: Seeded
    ) -> None:
        """After MAX_LOGIN_FAILURES wrong tokens even the right one waits; the window ends it."""
        for _ in range(MAX_LOGIN_FAILURES):
            assert (await _login(client, "wrong-token")).status_code == 401
        blocked = await _login(client)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) == LOGIN_WINDOW.total_seconds()
        assert "set-cookie" not in blocked.headers
        elsewhere = create_app(make_settings(), clock=lambda: NOW)
        async with lifespan_client(elsewhere, client=("192.0.2.7", 4000)) as other:
            assert (await _login(other)).status_code == 303
        later = NOW + LOGIN_WINDOW + timedelta(seconds=1)
        async with lifespan_client(create_app(make_settings(), clock=lambda: later)) as same:
            assert (await _login(same)).status_code == 303


class TestCompanyPage:
    """The per-company page."""

    @pytest.fixture(autouse=True)
    async def _signed_in(self, client: httpx.AsyncClient) -> None:
        """Every test here starts signed in."""
        await _login(client)

    async def test_index_lists_companies(self, client: httpx.AsyncClient) -> None:
        """With two companies the index links both."""
        page = await client.get("/dashboard")
        assert 'href="/dashboard/companies/salon-admin?lang=' in page.text
        assert 'href="/dashboard/companies/practice-admin?lang=' in page.text

    async def test_appointments(self, client: httpx.AsyncClient) -> None:
        """Today's appointments appear at local time; tomorrow's under upcoming."""
        page = (await client.get("/dashboard/companies/salon-admin")).text
        today = page.split('id="today"')[1].split("</table>")[0]
        upcoming = page.split('id="upcoming"')[1].split("</table>")[0]
        assert "12:00" in today and "Max Müller" in today
        assert "15:00" in today and "Erika Mustermann" in today and "Färben" in today
        assert "Do. 26. Nov., 10:00" in upcoming

    async def test_counters_and_chart(self, client: httpx.AsyncClient) -> None:
        """The tiles show the stats of the last 30 days; the chart has one bar per finding day."""
        page = (await client.get("/dashboard/companies/salon-admin")).text
        values = dict(re.findall(r'data-stat="(\w+)">([^<]*)<', page))
        assert values == {
            "layer1": "3",
            "layer2": "2",
            "layer3": "1",
            "avoided": "3",
            "saved": "2,4 s",
            "fp_rate": "0,0 %",
        }
        assert page.count("<rect") == 5  # 3 days ago, 2 days ago (L1 x2), yesterday, today x2
        assert "exaktes Duplikat" in page

    async def test_languages(self, client: httpx.AsyncClient) -> None:
        """German by the company's language, English with ?lang=en, and en for the US practice."""
        german = (await client.get("/dashboard/companies/salon-admin")).text
        english = (await client.get("/dashboard/companies/salon-admin?lang=en")).text
        practice = (await client.get("/dashboard/companies/practice-admin")).text
        assert "Termine heute" in german and '<html lang="de">' in german
        assert "Today&#39;s appointments" in english and "2.4 s" in english
        assert '<html lang="en">' in practice

    async def test_headers(self, client: httpx.AsyncClient) -> None:
        """Pages carry a strict Content-Security-Policy and are not cached."""
        response = await client.get("/dashboard/companies/salon-admin")
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"
        css = await client.get("/dashboard/assets/dashboard.css")
        assert css.headers["content-type"].startswith("text/css")

    async def test_unknown_company(self, client: httpx.AsyncClient) -> None:
        """An unknown slug shows a 404 page naming it."""
        response = await client.get("/dashboard/companies/nope")
        assert response.status_code == 404 and "nope" in response.text


class TestEscaping:
    """Everything shown is escaped."""

    async def test_customer_name_is_escaped(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        """A customer named like a script tag is shown as text, never as markup."""
        company = await factories.add(engine, factories.company(slug="solo"))
        service = await factories.add(engine, factories.service(company.id))
        evil = await factories.add(
            engine, factories.customer(company.id, name="<script>alert(1)</script>")
        )
        appointment = factories.appointment(company.id, evil.id, service.id, NOW)
        await factories.add(engine, appointment)
        await _login(client)
        page = (await client.get("/dashboard/companies/solo")).text
        assert "<script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
