"""Several ``slotguard serve`` worker processes on one PostgreSQL keep every guarantee."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.store.db import session_factory
from slotguard.store.tables import DuplicateDecisionRow
from tests.concurrency import processes
from tests.factories import count_active
from tests.retell.conftest import RETELL_KEY, TEST_TENANTS
from tests.signing import function_request

WORKERS = 4
SLOT = {
    "customer_name": "Max",
    "service": "Herrenhaarschnitt",
    "date": "2027-01-15",
    "time": "10:00",
}
pytestmark = pytest.mark.slow


async def _post(
    client: httpx.AsyncClient, name: str, args: dict[str, Any], call_id: str, caller: str
) -> dict[str, Any]:
    call = {"call_id": call_id, "agent_id": "agent_test", "from_number": caller}
    body, headers = function_request(name, call, args, RETELL_KEY)
    response = await client.post(f"/retell/functions/{name}", content=body, headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


@pytest.fixture
def server(pg_url: str, pg_engine: AsyncEngine, tmp_path: Path) -> Any:
    """Four worker processes serving the test tenants on the session's PostgreSQL database."""
    tenants = tmp_path / "tenants.toml"
    tenants.write_text(TEST_TENANTS, encoding="utf-8")
    env = {"SLOTGUARD_RETELL_API_KEY": RETELL_KEY, "SLOTGUARD_RECONCILE_INTERVAL_SECONDS": "0"}
    with processes.serve(
        pg_url, tenants, workers=WORKERS, env=env, log_file=tmp_path / "serve.log"
    ) as (
        base,
        _process,
    ):
        yield base


class TestFourWorkers:
    """Parallel requests spread over four processes."""

    async def test_fifty_callers_same_slot_one_booking(
        self, server: str, pg_engine: AsyncEngine
    ) -> None:
        """50 parallel bookings of one caller's slot from 50 calls: exactly one booked."""
        async with httpx.AsyncClient(base_url=server, timeout=60) as client:
            replies = await asyncio.gather(
                *(
                    _post(client, "book_appointment", SLOT, f"w-{i}", "+4915112345678")
                    for i in range(50)
                )
            )
        statuses = Counter((r["status"], r.get("reason")) for r in replies)
        assert statuses[("booked", None)] == 1, statuses
        assert statuses[("refused", "exact_duplicate")] == 49, statuses
        assert await count_active(pg_engine) == 1

    async def test_twenty_repeats_identical_across_workers(
        self, server: str, pg_engine: AsyncEngine
    ) -> None:
        """20 parallel repeats of one call land on different workers and all get the first reply."""
        limits = httpx.Limits(max_connections=20, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=server, timeout=60, limits=limits) as client:
            replies = await asyncio.gather(
                *(
                    _post(client, "book_appointment", SLOT, "same-call", "+4915112345678")
                    for _ in range(20)
                )
            )
        assert all(r == replies[0] for r in replies)
        assert replies[0]["status"] == "booked"
        assert await count_active(pg_engine) == 1

    async def test_repeated_question_decided_once_across_workers(
        self, server: str, pg_engine: AsyncEngine
    ) -> None:
        """20 parallel repeats of one collect_appointment_data on four workers: one warning
        recorded, one stored reply, 20 identical answers."""
        caller = "+4915112345678"
        limits = httpx.Limits(max_connections=20, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=server, timeout=60, limits=limits) as client:
            booked = await _post(client, "book_appointment", SLOT, "earlier-call", caller)
            assert booked["status"] == "booked"
            later = {**SLOT, "time": "12:00"}
            replies = await asyncio.gather(
                *(
                    _post(client, "collect_appointment_data", later, "repeat-call", caller)
                    for _ in range(20)
                )
            )
        assert all(r == replies[0] for r in replies), Counter(r["status"] for r in replies)
        assert (replies[0]["status"], replies[0]["reason"]) == ("warning", "same_day")
        async with session_factory(pg_engine)() as session:
            decisions = await session.scalar(
                select(func.count())
                .select_from(DuplicateDecisionRow)
                .where(DuplicateDecisionRow.function == "collect_appointment_data")
            )
        assert decisions == 1
