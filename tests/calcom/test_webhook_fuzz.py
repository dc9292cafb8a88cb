"""Signed Cal.com webhooks with arbitrary bodies never produce a 5xx (property-based).

Only Cal.com can sign, but a bug or a changed payload on its side must not turn into
tracebacks and retries: every body is answered 2xx or a precise 4xx.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.store.db import session_factory
from slotguard.store.tables import WebhookEventRow
from slotguard.testing.asgi import lifespan_client
from tests.calcom.conftest import SECRETS, WEBHOOK_SECRET, apply_calcom_tenants

RETELL_KEY = "key_test_retell_0123456789"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
# Answers by status class; printed at the end (pytest -s) for SECURITY.md.
TALLY: Counter[str] = Counter()

_TEXT = st.text(max_size=300) | st.sampled_from(["", "Max Müller", "max@example.com", "x" * 600])
_INTS = st.integers(min_value=-(2**70), max_value=2**70) | st.integers(-5, 5)
_FIXED_TIMES = [
    "2027-01-15T09:00:00Z",
    "2027-01-15T09:30:00.000Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2027-02-30T10:00:00Z",
    "yesterday",
    "",
    "2027-01-15T09:00:00+14:00",
]
_TIMES = st.sampled_from(_FIXED_TIMES) | st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001 - hypothesis bounds are naive
    timezones=st.just(UTC),
).map(lambda d: d.isoformat())
_SCALARS = st.one_of(st.none(), st.booleans(), _INTS, st.floats(allow_nan=False), _TEXT)
_ATTENDEE = st.fixed_dictionaries(
    {},
    optional={"name": _SCALARS, "email": _SCALARS, "phoneNumber": _SCALARS, "timeZone": _SCALARS},
)
_PAYLOAD = st.fixed_dictionaries(
    {},
    optional={
        "uid": _SCALARS,
        "bookingId": _SCALARS,
        "eventTypeId": st.sampled_from([1001, 1002, 1003]) | _SCALARS,
        "title": _SCALARS,
        "length": _SCALARS,
        "startTime": _TIMES | _SCALARS,
        "endTime": _TIMES | _SCALARS,
        "status": st.sampled_from(["ACCEPTED", "CANCELLED", "PENDING"]) | _SCALARS,
        "attendees": st.lists(_ATTENDEE, max_size=3) | _SCALARS,
        "responses": st.dictionaries(_TEXT, _SCALARS, max_size=3) | _SCALARS,
        "metadata": st.dictionaries(
            st.sampled_from(["slotguard_reservation", "other"]), _SCALARS, max_size=2
        )
        | _SCALARS,
        "rescheduleUid": _SCALARS,
    },
)
_TRIGGERS = st.sampled_from(
    ["BOOKING_CREATED", "BOOKING_REQUESTED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED",
     "BOOKING_REJECTED", "PING", "MEETING_ENDED"]
) | _TEXT  # fmt: skip
_BODIES = st.fixed_dictionaries(
    {"triggerEvent": _TRIGGERS},
    optional={"createdAt": _TIMES | _SCALARS, "payload": _PAYLOAD | _SCALARS},
)


@pytest.fixture
async def webhook_client(db_url: str, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the Cal.com company whose webhook secret is set (no emulator needed)."""
    os.environ.update(SECRETS)
    await apply_calcom_tenants(engine)
    settings = Settings(
        database_url=db_url, retell_api_key=RETELL_KEY, reconcile_interval_seconds=0
    )
    async with lifespan_client(create_app(settings)) as client:
        yield client


class TestFuzzedWebhooks:
    """Whatever a signed webhook carries, the answer is a 2xx or a precise 4xx."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=_BODIES)
    async def test_never_500(self, webhook_client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        """A correctly signed body of any shape is answered below 500."""
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
        signature = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        response = await webhook_client.post(
            "/calcom/webhook/salon-cal", content=raw, headers={"x-cal-signature-256": signature}
        )
        TALLY[f"{response.status_code // 100}xx"] += 1
        assert response.status_code < 500, (response.status_code, response.text[:300], body)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\nwebhook fuzz: {sum(TALLY.values())} requests, {dict(TALLY)}", file=sys.stderr)


class TestUnstorablePayloads:
    """Values no column can hold are refused at the edge, not stored to fail on every apply."""

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"bookingId": 2**64}, "bookingId"),
            ({"eventTypeId": -1}, "eventTypeId"),
            ({"uid": "u" * 129}, "uid"),
            ({"attendees": [{"name": "x" * 201, "email": "a@b.de"}]}, "attendees.0.name"),
        ],
    )
    async def test_is_400_and_not_stored(
        self,
        webhook_client: httpx.AsyncClient,
        engine: AsyncEngine,
        payload: dict[str, Any],
        field: str,
    ) -> None:
        """A signed BOOKING_CREATED with such a value is a 400 naming it; no event is stored."""
        body = {"triggerEvent": "BOOKING_CREATED", "createdAt": "2027-01-01T00:00:00Z"}
        raw = json.dumps({**body, "payload": {"uid": "b1", **payload}}).encode()
        signature = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        response = await webhook_client.post(
            "/calcom/webhook/salon-cal", content=raw, headers={"x-cal-signature-256": signature}
        )
        assert response.status_code == 400 and field in response.json()["detail"], response.text
        async with session_factory(engine)() as session:
            stored = await session.scalar(select(func.count()).select_from(WebhookEventRow))
        assert stored == 0
