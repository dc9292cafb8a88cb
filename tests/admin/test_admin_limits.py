"""The admin API at the edges of its inputs: precise 4xx, never a 5xx, on both databases."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.admin.conftest import Seeded

MAX_ID = 2**63 - 1
NOON = "2026-11-25T09:00:00+00:00"


def _cursor(*parts: object) -> str:
    raw = json.dumps(list(parts)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class TestQueryEdges:
    """Query parameters beyond what the columns hold are refused, not sent to the database."""

    @pytest.mark.parametrize(
        ("path", "status"),
        [
            (f"/api/v1/appointments?customer_id={MAX_ID + 1}", 422),
            (f"/api/v1/appointments?customer_id={10**40}", 422),
            (f"/api/v1/appointments?customer_id={MAX_ID}", 200),
            ("/api/v1/customers?q=max%00", 400),
            ("/api/v1/customers?company=salon-admin%00", 400),
            ("/api/v1/customers?q=%ED%A0%80", 200),  # an encoded lone surrogate decodes to U+FFFD
            (f"/api/v1/customers?company={'s' * 65}", 422),
            ("/api/v1/companies/salon%00admin/services", 400),
            (f"/api/v1/companies/{'s' * 65}/services", 422),
            ("/api/v1/appointments?from=0001-01-01T00:00:00%2B01:00", 400),
            ("/api/v1/appointments?from=0001-01-01T00:00:00Z", 200),
            ("/api/v1/decisions?to=9999-12-31T23:59:59-01:00", 400),
            ("/api/v1/stats?from=0001-01-01T00:30:00%2B01:00", 400),
            ("/api/v1/stats?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z", 200),
            (f"/api/v1/decisions?cursor={_cursor('decisions', NOON, 2**64)}", 400),
            (f"/api/v1/decisions?cursor={_cursor('decisions', '2026-11-25T09:00:00', 1)}", 400),
            (f"/api/v1/customers?cursor={_cursor('customers', None, -1)}", 400),
            (f"/api/v1/calls?cursor={'A' * 513}", 422),
        ],
    )
    async def test_answer(
        self,
        client: httpx.AsyncClient,
        auth: dict[str, str],
        seeded: Seeded,
        path: str,
        status: int,
    ) -> None:
        """Each request gets the expected precise status (and never a 5xx)."""
        response = await client.get(path, headers=auth)
        assert response.status_code == status, response.text
        if status == 400:
            assert response.json()["detail"]


class TestFalsePositiveBody:
    """POST /decisions/{id}/false-positive reads its body with the same limits as Retell's."""

    @pytest.mark.parametrize(
        ("body", "status", "detail"),
        [
            (b'{"note": "ok\\u0000"}', 400, "NUL"),
            (b'{"note": "ok\\ud800"}', 400, "surrogate"),
            (b'{"note": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", 400, "not valid JSON"),
            (b'{"note": "x", "n": ' + b"[" * 40 + b"]" * 40 + b"}", 400, "nests deeper"),
            (b'{"n": ' + b"7" * 5000 + b"}", 400, "not valid JSON"),
            (b'{"note": ' + json.dumps("x" * 2001).encode() + b"}", 422, "note"),
            (b"[]", 400, "JSON object"),
        ],
    )
    async def test_refused(
        self,
        client: httpx.AsyncClient,
        auth: dict[str, str],
        seeded: Seeded,
        body: bytes,
        status: int,
        detail: str,
    ) -> None:
        """The body is refused with a detail naming the problem; the decision is unchanged."""
        path = f"/api/v1/decisions/{seeded.blocked_id}/false-positive"
        response = await client.post(path, content=body, headers=auth)
        assert (response.status_code, detail in response.text) == (status, True), response.text
        listed = await client.get("/api/v1/decisions", headers=auth, params={"layer": 2})
        blocked = [d for d in listed.json()["items"] if d["id"] == seeded.blocked_id]
        assert [d["false_positive"] for d in blocked] == [False]

    @pytest.mark.parametrize(("decision", "status"), [(MAX_ID + 1, 422), (MAX_ID, 404), (0, 422)])
    async def test_id_edges(
        self, client: httpx.AsyncClient, auth: dict[str, str], decision: int, status: int
    ) -> None:
        """Ids beyond BIGINT are a 422; the largest BIGINT is simply not found."""
        path = f"/api/v1/decisions/{decision}/false-positive"
        response = await client.post(path, json={"note": "x"}, headers=auth)
        assert response.status_code == status, response.text

    async def test_empty_body_marks(
        self, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
    ) -> None:
        """No body at all is a mark without a note."""
        path = f"/api/v1/decisions/{seeded.blocked_id}/false-positive"
        response = await client.post(path, headers=auth)
        assert (response.status_code, response.json()["note"]) == (200, None)
