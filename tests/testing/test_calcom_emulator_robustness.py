"""Property tests: whatever a client sends, the emulator answers like Cal.com, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotguard.testing import CalcomEmulator, EmulatorConfig, serve_in_thread

BOOKINGS = {"cal-api-version": "2024-08-13", "Authorization": "Bearer cal_test_emulator"}
_LEAVES = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=30)
_JSON = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
_START = st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat()) | _JSON
_ATTENDEE = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=10) | _JSON,
        "email": st.emails() | _JSON,
        "phoneNumber": st.sampled_from(["+4915112345678", "+1", "0151"]) | _JSON,
        "timeZone": st.sampled_from(["UTC", "Europe/Berlin", "Nowhere/City"]) | _JSON,
        "language": st.sampled_from(["de", "en", "xx"]) | _JSON,
    },
)
_BODY = st.fixed_dictionaries(
    {},
    optional={
        "start": _START,
        "eventTypeId": st.sampled_from([1001, 1002, 9999]) | _JSON,
        "attendee": _ATTENDEE | _JSON,
        "metadata": st.dictionaries(st.text(max_size=45), st.text(max_size=3), max_size=3) | _JSON,
        "lengthInMinutes": _JSON,
        "guests": st.lists(st.emails(), max_size=2) | _JSON,
        "bookingFieldsResponses": _JSON,
        "location": _JSON,
    },
)


_QUERY_VALUE = st.text(max_size=25) | st.sampled_from(
    ["2031-01-01", "2031-01-01T10:00:00Z", "1001", "1001,1002", "asc", "desc", "0", "250", "-1"]
)
_LIST_QUERY = st.dictionaries(
    st.sampled_from(
        [
            "status",
            "attendeeEmail",
            "attendeeName",
            "bookingUid",
            "eventTypeId",
            "eventTypeIds",
            "afterStart",
            "beforeEnd",
            "afterCreatedAt",
            "sortStart",
            "sortCreated",
            "take",
            "skip",
        ]
    ),
    _QUERY_VALUE,
    max_size=4,
)
_SLOTS_QUERY = st.dictionaries(
    st.sampled_from(["eventTypeId", "start", "end", "timeZone", "duration", "format"]),
    _QUERY_VALUE | st.sampled_from(["Europe/Berlin", "UTC", "range", "30"]),
    max_size=6,
)


@pytest.fixture(scope="module")
def robust_client() -> Iterator[httpx.Client]:
    """A client on a dedicated emulator with no practical rate limit."""
    emulator = CalcomEmulator(EmulatorConfig(rate_limit=1_000_000))
    with serve_in_thread(emulator.app) as base_url, httpx.Client(base_url=base_url) as client:
        yield client


def _assert_cal_com_answer(response: httpx.Response, allowed: tuple[int, ...]) -> None:
    assert response.status_code in allowed, response.text
    if response.status_code >= 400:
        assert response.json()["error"]["code"] in ("BadRequestException", "NotFoundException")


class TestRobustness:
    """Arbitrary bodies and queries get 2xx/400/404 in Cal.com's envelope."""

    @given(body=_BODY | _JSON)
    @settings(max_examples=120, deadline=None)
    def test_any_create_body(self, robust_client: httpx.Client, body: Any) -> None:
        """Arbitrary JSON to POST /v2/bookings never causes a 500 or a malformed error."""
        response = robust_client.post("/v2/bookings", json=body, headers=BOOKINGS)
        _assert_cal_com_answer(response, (201, 400, 404))

    @given(query=_LIST_QUERY)
    @settings(max_examples=60, deadline=None)
    def test_any_list_query(self, robust_client: httpx.Client, query: dict[str, str]) -> None:
        """Arbitrary GET /v2/bookings filters answer 200 or 400."""
        response = robust_client.get("/v2/bookings", params=query, headers=BOOKINGS)
        _assert_cal_com_answer(response, (200, 400))

    @given(query=_SLOTS_QUERY)
    @settings(max_examples=60, deadline=None)
    def test_any_slots_query(self, robust_client: httpx.Client, query: dict[str, str]) -> None:
        """Arbitrary GET /v2/slots queries answer 200, 400 or 404."""
        headers = {"cal-api-version": "2024-09-04"}
        response = robust_client.get("/v2/slots", params=query, headers=headers)
        _assert_cal_com_answer(response, (200, 400, 404))
