"""The admin API /api/v1 through the real app on both databases: auth, listings, stats."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from slotguard.api import create_app
from slotguard.observability import Metrics
from slotguard.retell.signature import sign
from slotguard.settings import Settings
from slotguard.testing.asgi import lifespan_client
from tests.admin.conftest import ERIKA_PHONE, MAX_PHONE, NOW, RETELL_KEY, Seeded

ADMIN_GETS = [
    "/api/v1/companies",
    "/api/v1/companies/salon-admin/services",
    "/api/v1/customers",
    "/api/v1/appointments",
    "/api/v1/decisions",
    "/api/v1/calls",
    "/api/v1/stats",
]


async def _get(client: httpx.AsyncClient, auth: dict[str, str], path: str, **params: Any) -> Any:
    response = await client.get(path, params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


class TestAuth:
    """Bearer-token authentication, and its separation from Retell's signature."""

    @pytest.mark.parametrize("path", ADMIN_GETS)
    async def test_missing_token_is_challenged(self, client: httpx.AsyncClient, path: str) -> None:
        """Without a token every admin route answers 401 with WWW-Authenticate: Bearer."""
        response = await client.get(path)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_wrong_token_is_refused(self, client: httpx.AsyncClient) -> None:
        """A wrong bearer token answers 401 naming the token invalid."""
        response = await client.get("/api/v1/companies", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]

    async def test_every_admin_route_needs_the_token(self, client: httpx.AsyncClient) -> None:
        """Every route the app serves under /api/v1, POST included, refuses an anonymous call."""
        schema = (await client.get("/openapi.json")).json()
        for path, methods in schema["paths"].items():
            if not path.startswith("/api/v1"):
                continue
            concrete = path.replace("{slug}", "salon-admin").replace("{decision_id}", "1")
            for method in methods:
                response = await client.request(method, concrete, json={})
                assert response.status_code == 401, (method, path)

    async def test_admin_off_without_token(self, make_settings: Callable[..., Settings]) -> None:
        """With no admin token configured every admin route answers 404 saying the API is off."""
        app = create_app(make_settings(admin_token=None), clock=lambda: NOW)
        async with lifespan_client(app) as http:
            for path in ADMIN_GETS:
                response = await http.get(path, headers={"Authorization": "Bearer anything"})
                assert response.status_code == 404
                assert "admin API is off" in response.json()["detail"]

    async def test_retell_signature_is_not_admin_auth(self, client: httpx.AsyncClient) -> None:
        """A valid Retell signature does not open the admin API."""
        header = sign(b"", RETELL_KEY, int(time.time() * 1000))
        response = await client.get("/api/v1/companies", headers={"x-retell-signature": header})
        assert response.status_code == 401

    async def test_admin_token_does_not_open_retell(
        self, client: httpx.AsyncClient, auth: dict[str, str]
    ) -> None:
        """The admin token does not replace X-Retell-Signature on Retell endpoints."""
        body = {"name": "check_customer", "call": {"call_id": "c1"}, "args": {}}
        response = await client.post("/retell/functions/check_customer", json=body, headers=auth)
        assert response.status_code == 401


class TestCompanies:
    """GET /companies and /companies/{slug}/services."""

    async def test_lists_companies(
        self, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
    ) -> None:
        """Both companies are listed by slug with their language and zone."""
        found = await _get(client, auth, "/api/v1/companies")
        assert [(c["slug"], c["language"]) for c in found] == [
            ("practice-admin", "en"),
            ("salon-admin", "de"),
        ]

    async def test_lists_services(
        self, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
    ) -> None:
        """A company's services are listed by name with duration and active flag."""
        found = await _get(client, auth, "/api/v1/companies/salon-admin/services")
        assert [(s["name"], s["duration_minutes"], s["active"]) for s in found] == [
            ("Färben", 90, True),
            ("Herrenhaarschnitt", 30, True),
        ]

    async def test_unknown_company(self, client: httpx.AsyncClient, auth: dict[str, str]) -> None:
        """An unknown slug answers 404 naming it."""
        response = await client.get("/api/v1/companies/nope/services", headers=auth)
        assert response.status_code == 404
        assert "nope" in response.json()["detail"]


class TestCustomers:
    """GET /customers: search, masking, reveal."""

    async def test_masked_by_default(
        self, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
    ) -> None:
        """Phone numbers and emails are masked unless reveal=true."""
        page = await _get(client, auth, "/api/v1/customers", company="salon-admin")
        phones = {c["phone"] for c in page["items"]}
        assert MAX_PHONE not in phones and "+49151*****678" in phones
        assert {c["email"] for c in page["items"]} == {"m***@example.com", None}

    async def test_reveal(self, client: httpx.AsyncClient, auth: dict[str, str]) -> None:
        """reveal=true shows the stored values."""
        page = await _get(client, auth, "/api/v1/customers", company="salon-admin", reveal="true")
        assert {c["phone"] for c in page["items"]} == {MAX_PHONE, ERIKA_PHONE}

    async def test_reveal_log_names_no_search_value(
        self, client: httpx.AsyncClient, auth: dict[str, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The admin_reveal log line says which filters were used, never the searched number."""
        params = {"company": "salon-admin", "q": "0176 98765", "reveal": "true"}
        page = await _get(client, auth, "/api/v1/customers", **params)
        assert [c["phone"] for c in page["items"]] == [ERIKA_PHONE]
        [line] = [x for x in capsys.readouterr().out.splitlines() if "admin_reveal" in x]
        assert "98765" not in line and "0176" not in line and "Erika" not in line, line
        assert "salon-admin" in line and "'q'" in line, line

    @pytest.mark.parametrize(
        ("q", "expected"), [("erika", ["Erika Mustermann"]), ("0176 987", ["Erika Mustermann"])]
    )
    async def test_search(
        self, client: httpx.AsyncClient, auth: dict[str, str], q: str, expected: list[str]
    ) -> None:
        """q matches part of the name (any case) or the phone digits, national form included."""
        page = await _get(client, auth, "/api/v1/customers", q=q)
        assert [c["name"] for c in page["items"]] == expected

    async def test_pages(self, client: httpx.AsyncClient, auth: dict[str, str]) -> None:
        """limit=1 walks every customer once through opaque cursors."""
        names = await _walk(client, auth, "/api/v1/customers", "name")
        assert sorted(names) == ["Erika Mustermann", "John Doe", "Max Müller"]


async def _walk(
    client: httpx.AsyncClient, auth: dict[str, str], path: str, field: str, **params: Any
) -> list[Any]:
    seen: list[Any] = []
    cursor: str | None = None
    for _ in range(20):
        query = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = await _get(client, auth, path, **query)
        seen += [item[field] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("pagination did not end")


class TestAppointments:
    """GET /appointments: filters, keyset pages, invalid parameters."""

    async def test_filters(
        self, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
    ) -> None:
        """company, status, customer_id, from and to narrow the list; it is ordered by start."""
        page = await _get(
            client,
            auth,
            "/api/v1/appointments",
            company="salon-admin",
            status="booked",
            **{"from": "2026-11-25T00:00:00+01:00", "to": "2026-11-26T00:00:00+01:00"},
        )
        assert [a["id"] for a in page["items"]] == seeded.today_ids
        mine = await _get(client, auth, "/api/v1/appointments", customer_id=seeded.erika_id)
        assert [a["customer_name"] for a in mine["items"]] == ["Erika Mustermann"]

    async def test_pages_in_start_order(
        self, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
    ) -> None:
        """limit=1 walks all five appointments in start order without repeats."""
        starts = await _walk(client, auth, "/api/v1/appointments", "starts_at")
        assert len(starts) == 5 and starts == sorted(starts)

    @pytest.mark.parametrize(
        ("params", "status", "needle"),
        [
            ({"cursor": "garbage"}, 400, "invalid cursor"),
            ({"limit": 201}, 422, "less than or equal to 200"),
            ({"from": "2026-11-25T00:00:00"}, 400, "UTC offset"),
            ({"from": "2026-11-26T00:00Z", "to": "2026-11-25T00:00Z"}, 400, "later than"),
            ({"status": "sleeping"}, 422, "booked"),
            ({"company": "nope"}, 404, "unknown company"),
        ],
    )
    async def test_invalid_parameters(
        self,
        client: httpx.AsyncClient,
        auth: dict[str, str],
        params: dict[str, Any],
        status: int,
        needle: str,
    ) -> None:
        """Bad parameters answer 400/404/422 with a message that says what is wrong."""
        response = await client.get("/api/v1/appointments", params=params, headers=auth)
        assert response.status_code == status
        assert needle in response.text

    async def test_cursor_of_another_listing(
        self, client: httpx.AsyncClient, auth: dict[str, str]
    ) -> None:
        """A decisions cursor is refused by the appointments listing."""
        page = await _get(client, auth, "/api/v1/decisions", limit=1)
        response = await client.get(
            "/api/v1/appointments", params={"cursor": page["next_cursor"]}, headers=auth
        )
        assert response.status_code == 400


class TestDecisions:
    """GET /decisions and POST /decisions/{id}/false-positive."""

    async def test_filters_newest_first(
        self, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
    ) -> None:
        """layer, result and company filter; the newest decision comes first."""
        page = await _get(
            client, auth, "/api/v1/decisions", company="salon-admin", layer=2, result="blocked"
        )
        assert [d["reason"] for d in page["items"]] == ["overlapping", "exact_duplicate"]

    async def test_pages(self, client: httpx.AsyncClient, auth: dict[str, str]) -> None:
        """limit=1 walks all ten decisions once."""
        ids = await _walk(client, auth, "/api/v1/decisions", "id")
        assert len(ids) == len(set(ids)) == 10

    async def test_mark_false_positive(
        self, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded, metrics: Metrics
    ) -> None:
        """Marking sets false_positive and the note, and counts the metric exactly once."""
        path = f"/api/v1/decisions/{seeded.blocked_id}/false-positive"
        for _ in range(2):
            response = await client.post(path, json={"note": "different child"}, headers=auth)
            assert response.status_code == 200, response.text
        assert response.json()["false_positive"] is True
        assert response.json()["note"] == "different child"
        labels = {"layer": "2", "reason": "exact_duplicate"}
        assert metrics.registry.get_sample_value("slotguard_false_positives_total", labels) == 1

    @pytest.mark.parametrize(("which", "status"), [("clear", 409), ("missing", 404)])
    async def test_mark_refused(
        self,
        client: httpx.AsyncClient,
        auth: dict[str, str],
        seeded: Seeded,
        which: str,
        status: int,
    ) -> None:
        """A clear decision cannot be a false positive (409); an unknown id is 404."""
        decision_id = seeded.clear_id if which == "clear" else 999_999
        path = f"/api/v1/decisions/{decision_id}/false-positive"
        response = await client.post(path, json={}, headers=auth)
        assert response.status_code == status


class TestCalls:
    """GET /calls."""

    async def test_masked_caller(
        self, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
    ) -> None:
        """The caller's number is masked unless reveal=true."""
        masked = await _get(client, auth, "/api/v1/calls", company="salon-admin")
        shown = await _get(client, auth, "/api/v1/calls", reveal="true")
        assert [c["from_number"] for c in masked["items"]] == ["+49151*****678"]
        assert [(c["call_id"], c["from_number"]) for c in shown["items"]] == [
            (seeded.call_id, MAX_PHONE)
        ]


class TestStats:
    """GET /stats: the documented formulas over the seeded decisions."""

    async def test_counters(
        self, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
    ) -> None:
        """Layers, avoided calls (2 blocks + 1 unpursued warning) and the fallback latency."""
        stats = await _get(client, auth, "/api/v1/stats", company="salon-admin")
        assert stats == {
            "layer1_detections": 3,
            "layer2_preventions": 2,
            "layer3_catches": 1,
            "calendar_calls_avoided": 3,
            "false_positives": 0,
            "false_positive_rate": 0.0,
            "mean_create_seconds": 0.8,
            "mean_create_source": "fallback",
            "api_time_saved_seconds": 2.4,
        }

    async def test_window_and_false_positive_rate(
        self, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
    ) -> None:
        """A false positive enters the rate; from/to count only decisions inside the window."""
        path = f"/api/v1/decisions/{seeded.blocked_id}/false-positive"
        await client.post(path, json={"note": "twins"}, headers=auth)
        stats = await _get(client, auth, "/api/v1/stats", company="salon-admin")
        assert stats["false_positive_rate"] == pytest.approx(1 / 5)
        today = await _get(client, auth, "/api/v1/stats", **{"from": "2026-11-25T00:00:00Z"})
        assert (today["layer1_detections"], today["layer2_preventions"]) == (0, 2)

    async def test_latency_from_histogram(
        self, client: httpx.AsyncClient, auth: dict[str, str], metrics: Metrics
    ) -> None:
        """With Cal.com creates observed, their mean latency prices the avoided calls."""
        observe = metrics.calendar_requests.labels("calcom", "bookings.create", "ok").observe
        observe(0.2)
        observe(0.4)
        metrics.calendar_requests.labels("calcom", "bookings.create", "server_error").observe(9)
        stats = await _get(client, auth, "/api/v1/stats", company="salon-admin")
        assert stats["mean_create_source"] == "histogram"
        assert stats["api_time_saved_seconds"] == pytest.approx(3 * 0.3)


class TestOpenApi:
    """/openapi.json documents the admin API."""

    async def test_lists_routes_and_scheme(self, client: httpx.AsyncClient) -> None:
        """Every admin route is listed and secured by the AdminToken bearer scheme."""
        schema = json.loads((await client.get("/openapi.json")).text)
        expected = {*ADMIN_GETS, "/api/v1/decisions/{decision_id}/false-positive"}
        expected = {p.replace("salon-admin", "{slug}") for p in expected}
        assert expected <= set(schema["paths"])
        scheme = schema["components"]["securitySchemes"]["AdminToken"]
        assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
        get = schema["paths"]["/api/v1/appointments"]["get"]
        assert get["security"] == [{"AdminToken": []}]
        assert not any(p.startswith("/dashboard") for p in schema["paths"])
