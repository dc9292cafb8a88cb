"""Auth, rate limiting, the request log and the `/_emulator/*` admin routes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from slotguard.testing import EmulatorConfig

if TYPE_CHECKING:
    from .conftest import CalClient, MakeCal

KEY = "cal_test_emulator"
VERSION = {"cal-api-version": "2024-08-13"}
AUTHED = {**VERSION, "Authorization": f"Bearer {KEY}"}
TOO_MANY = "CustomThrottlerGuard - Too many requests. Please try again later."


class TestAuth:
    """ApiAuthGuard on the list, OptionalApiAuthGuard on create/get/reschedule/cancel."""

    async def test_list_requires_a_key(self, cal: CalClient) -> None:
        """GET /v2/bookings without credentials is a 401."""
        response = await cal.http.get("/v2/bookings", headers=VERSION)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UnauthorizedException"

    async def test_unknown_api_key_is_refused_by_the_throttler(self, cal: CalClient) -> None:
        """An unknown cal_ key is a 401 from the throttler, even on create, and books nothing."""
        headers = {**VERSION, "Authorization": "Bearer cal_wrong"}
        for response in (
            await cal.http.get("/v2/bookings", headers=headers),
            await cal.create(cal.at(), headers=headers),
        ):
            assert response.status_code == 401
            assert response.json()["error"]["message"] == "CustomThrottlerGuard - Invalid API Key"
        assert cal.emulator.bookings == []

    async def test_create_works_without_a_key(self, cal: CalClient) -> None:
        """Create is OptionalApiAuthGuard: no credentials is fine."""
        assert (await cal.create(cal.at(), headers=VERSION)).status_code == 201

    async def test_invalid_bearer_is_refused_on_optional_routes(self, cal: CalClient) -> None:
        """A bearer that is not a known key is a 401 on create and cancel."""
        headers = {**VERSION, "Authorization": "Bearer some-token"}
        assert (await cal.create(cal.at(), headers=headers)).status_code == 401
        data = await cal.booked(cal.at())
        cancel = await cal.http.post(f"/v2/bookings/{data['uid']}/cancel", json={}, headers=headers)
        assert cancel.status_code == 401
        assert cal.emulator.state.get(data["uid"]).status == "accepted"


class TestRateLimit:
    """120 requests per 60 s per API key, with X-RateLimit-*-Default headers."""

    async def test_121st_request_is_a_429_without_retry_after(self, cal: CalClient) -> None:
        """Requests 1-120 pass with a falling Remaining; the 121st is Cal.com's 429 envelope."""
        for expected_remaining in range(119, -1, -1):
            response = await cal.http.get("/v2/bookings", headers=AUTHED)
            assert response.status_code == 200
            assert response.headers["X-RateLimit-Remaining-Default"] == str(expected_remaining)
        assert response.headers["X-RateLimit-Limit-Default"] == "120"
        assert 0 < int(response.headers["X-RateLimit-Reset-Default"]) <= 60
        refused = await cal.create(cal.at())
        assert refused.status_code == 429
        assert refused.json()["error"]["message"] == TOO_MANY
        assert "retry-after" not in refused.headers
        assert refused.headers["X-RateLimit-Remaining-Default"] == "0"
        assert cal.emulator.bookings == []

    async def test_each_key_has_its_own_bucket(self, make_cal: MakeCal) -> None:
        """Another key, and unauthenticated callers, are counted separately."""
        cal = await make_cal(EmulatorConfig(api_keys=("cal_a", "cal_b"), rate_limit=2))
        a, b = ({**VERSION, "Authorization": f"Bearer {key}"} for key in ("cal_a", "cal_b"))
        statuses = [(await cal.http.get("/v2/bookings", headers=a)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert (await cal.http.get("/v2/bookings", headers=b)).status_code == 200
        assert (
            await cal.slots(eventTypeId=1001, start="2031-01-01", end="2031-01-01")
        ).status_code == 200


class TestRequestLog:
    """Every /v2 request is recorded in order."""

    async def test_requests_are_recorded_and_counted(self, cal: CalClient) -> None:
        """Method, path, query, body and the status returned are kept; count() counts creates."""
        await cal.booked(cal.at(hour=9))
        await cal.create(cal.at(hour=9))
        await cal.list(take=5)
        log = cal.emulator.request_log
        assert [(r.method, r.path, r.status) for r in log] == [
            ("POST", "/v2/bookings", 201),
            ("POST", "/v2/bookings", 400),
            ("GET", "/v2/bookings", 200),
        ]
        assert log[0].body["eventTypeId"] == 1001
        assert log[2].query == {"take": "5"}
        assert cal.emulator.count("POST", "/v2/bookings") == 2
        assert cal.emulator.count("GET") == 1

    async def test_count_matches_route_templates(self, cal: CalClient) -> None:
        """A route template counts every uid, a concrete path only its own."""
        first, second = await cal.booked(cal.at(hour=9)), await cal.booked(cal.at(hour=10))
        for uid in (first["uid"], second["uid"]):
            await cal.post(f"/v2/bookings/{uid}/cancel", {})
        assert cal.emulator.count("POST", "/v2/bookings/{uid}/cancel") == 2
        assert cal.emulator.count("POST", f"/v2/bookings/{first['uid']}/cancel") == 1


class TestAdminRoutes:
    """`/_emulator/*` steers and inspects a running emulator over HTTP."""

    async def test_faults_over_http(self, cal: CalClient) -> None:
        """POST /_emulator/faults sets fail_next; GET shows the pending fault."""
        spec = {"fail_next": {"count": 1, "status": 500, "route": "POST /v2/bookings"}}
        response = await cal.http.post("/_emulator/faults", json=spec)
        assert response.status_code == 200
        assert response.json()["pending"][0]["status"] == 500
        assert (await cal.create(cal.at())).status_code == 500
        assert (await cal.create(cal.at())).status_code == 201

    async def test_bad_fault_spec_is_a_400(self, cal: CalClient) -> None:
        """An unknown knob parameter answers 400 with the reason."""
        response = await cal.http.post("/_emulator/faults", json={"fail_next": {"bogus": 1}})
        assert response.status_code == 400

    async def test_requests_bookings_and_reset(self, cal: CalClient) -> None:
        """The admin routes list requests and bookings, book directly, and reset everything."""
        await cal.booked(cal.at(hour=9))
        direct = await cal.http.post(
            "/_emulator/bookings",
            json={
                "start": cal.z(cal.at(hour=11)),
                "eventTypeId": 1002,
                "attendee": {"name": "Web", "email": "web@example.com", "timeZone": "UTC"},
            },
        )
        assert direct.status_code == 201
        requests = (await cal.http.get("/_emulator/requests")).json()["requests"]
        assert [item["path"] for item in requests] == ["/v2/bookings"]
        bookings = (await cal.http.get("/_emulator/bookings")).json()["bookings"]
        assert [item["eventTypeId"] for item in bookings] == [1001, 1002]
        assert all(item["idempotencyKey"] for item in bookings)
        assert (await cal.http.post("/_emulator/reset")).json() == {"status": "ok"}
        assert (await cal.http.get("/_emulator/bookings")).json() == {"bookings": []}

    async def test_unknown_route_is_an_enveloped_404(self, cal: CalClient) -> None:
        """Routes the emulator lacks answer 404 in Cal.com's envelope."""
        response = await cal.http.get("/v2/me", headers=AUTHED)
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "Cannot GET /v2/me"

    async def test_parallel_clients_see_consistent_state(self, cal: CalClient) -> None:
        """Fifty parallel creates at distinct times all succeed and are all logged."""
        starts = [cal.at(days=2 + n // 20, hour=n % 20) for n in range(50)]
        responses = await asyncio.gather(*(cal.create(start) for start in starts))
        assert {response.status_code for response in responses} == {201}
        assert len({response.json()["data"]["id"] for response in responses}) == 50
        assert cal.emulator.count("POST", "/v2/bookings") == 50
