"""An app on a real database with a fixed clock, signed Retell requests, and a test tenant."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard import tenants
from slotguard.api import create_app
from slotguard.retell.signature import sign
from slotguard.settings import Settings
from slotguard.store.companies import CompanyRepository
from slotguard.store.db import session_factory
from slotguard.testing.asgi import lifespan_client

RETELL_KEY = "key_test_retell_0123456789"
# Wednesday 25 November 2026, 10:00 in Berlin.
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
AGENT = "agent_test"
CALLER = "+4915112345678"

TEST_TENANTS = """
[[companies]]
slug = "salon-test"
name = "Salon Test"
timezone = "Europe/Berlin"
language = "de"
max_appointments_per_day = 3
retell_agent_ids = ["agent_test"]
phone_numbers = ["+4930111111"]
calendar = "local"

[companies.opening_hours]
mon = "08:00-20:00"
tue = "08:00-20:00"
wed = "08:00-20:00"
thu = "08:00-20:00"
fri = "08:00-20:00"
sat = "08:00-20:00"
sun = "08:00-20:00"

[[companies.services]]
name = "Herrenhaarschnitt"
aliases = ["Haarschnitt", "Männerhaarschnitt"]
duration_minutes = 30

[[companies.services]]
name = "Färben"
aliases = ["Haare färben"]
duration_minutes = 90

[[companies.services]]
name = "Bartpflege"
duration_minutes = 15

[[companies]]
slug = "night-owl"
name = "Night Owl Barbers"
timezone = "Europe/Berlin"
language = "de"
retell_agent_ids = ["agent_night"]
calendar = "local"

[companies.opening_hours]
mon = "00:00-24:00"
tue = "00:00-24:00"
wed = "00:00-24:00"
thu = "00:00-24:00"
fri = "00:00-24:00"
sat = "00:00-24:00"
sun = "00:00-24:00"

[[companies.services]]
name = "Herrenhaarschnitt"
duration_minutes = 30

[[companies.services]]
name = "Bartpflege"
duration_minutes = 15

[[companies]]
slug = "practice-en"
name = "Practice"
timezone = "America/New_York"
language = "en"
retell_agent_ids = ["agent_en"]
calendar = "local"

[companies.opening_hours]
mon = "08:00-20:00"
wed = "08:00-20:00"
thu = "08:00-20:00"

[[companies.services]]
name = "Checkup"
duration_minutes = 30
"""


@dataclass
class Phone:
    """Places signed Retell function calls against the app."""

    client: httpx.AsyncClient
    key: str | None = RETELL_KEY

    async def call(
        self,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        call_id: str = "call_1",
        from_number: str | None = CALLER,
        agent_id: str = AGENT,
        in_body: bool = False,
    ) -> dict[str, Any]:
        """Call function ``name``; return the JSON reply (asserting HTTP 200)."""
        response = await self.raw(
            name, args, call_id=call_id, from_number=from_number, agent_id=agent_id, in_body=in_body
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def raw(
        self,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        call_id: str = "call_1",
        from_number: str | None = CALLER,
        agent_id: str = AGENT,
        in_body: bool = False,
    ) -> httpx.Response:
        """The raw HTTP response of one signed call."""
        call = {
            "call_id": call_id,
            "agent_id": agent_id,
            "call_type": "phone_call",
            "call_status": "ongoing",
            "from_number": from_number,
            "to_number": "+4930111111",
            "start_timestamp": int(NOW.timestamp() * 1000),
        }
        payload = {"name": name, "call": call, "args": args or {}}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return await self.post(
            "/retell/functions" if in_body else f"/retell/functions/{name}", body
        )

    async def post(self, path: str, body: bytes, header: str | None = None) -> httpx.Response:
        """POST raw bytes with a valid signature (or the given header)."""
        headers = {"content-type": "application/json"}
        if header is not None:
            headers["x-retell-signature"] = header
        elif self.key is not None:
            headers["x-retell-signature"] = sign(body, self.key, int(time.time() * 1000))
        return await self.client.post(path, content=body, headers=headers)


async def apply_test_tenants(engine: AsyncEngine) -> None:
    """Load TEST_TENANTS into the database."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "tenants.toml"
        path.write_text(TEST_TENANTS, encoding="utf-8")
        spec = tenants.load(path)
    async with session_factory(engine)() as session, session.begin():
        await CompanyRepository(session).apply_tenants(spec)


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """The fixed 'now' of these tests."""
    return lambda: NOW


@pytest.fixture
async def phone(
    db_url: str, engine: AsyncEngine, clock: Callable[[], datetime]
) -> AsyncIterator[Phone]:
    """A signed Retell client against the app on a migrated, seeded database."""
    await apply_test_tenants(engine)
    settings = Settings(
        database_url=db_url, retell_api_key=RETELL_KEY, reconcile_interval_seconds=0
    )
    async with lifespan_client(create_app(settings, clock=clock)) as client:
        yield Phone(client)
