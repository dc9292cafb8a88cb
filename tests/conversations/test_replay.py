"""A repeat is replayed only while it is a retry: changes of mind and retries after failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.conversations.conftest import Talk, day_ahead, local

from slotguard.booking import idempotency
from slotguard.retell.tools import TOOL_TIMEOUT_MS
from slotguard.settings import Settings
from slotguard.store.db import session_factory
from slotguard.store.tables import CompanyRow, IdempotencyKeyRow

DAY = day_ahead(3)  # a Thursday at least a week ahead
ISO = DAY.isoformat()
TEN = {"customer_name": "Max Müller", "service": "Haarschnitt", "date": ISO, "time": "10:00"}
ELEVEN = {**TEN, "time": "11:00"}


class TestChangeOfMind:
    """Within one call the caller may book, cancel and book again: each step really happens."""

    async def test_book_cancel_book_the_same_slot(self, talk: Talk) -> None:
        """The second book of 10:00 is a new booking in Cal.com, not the first reply replayed."""
        assert (await talk.say("book_appointment", TEN))["status"] == "booked"
        cancelled = await talk.say("cancel_appointment", {"time": "10:00"})
        assert cancelled["status"] == "cancelled", cancelled
        again = await talk.say("book_appointment", TEN)
        assert again["status"] == "booked", again
        assert len(talk.creates()) == 2
        [booking] = talk.active()
        assert booking.start == local(DAY, "10:00")
        query = await talk.say("query_appointment", {})
        assert [a["start"] for a in query["appointments"]] == [local(DAY, "10:00").isoformat()]

    async def test_cancel_book_cancel(self, talk: Talk) -> None:
        """Cancel, book another, cancel again: the second cancel cancels the second booking."""
        assert (await talk.say("book_appointment", TEN, call_id="call_0"))["status"] == "booked"
        first = await talk.say("cancel_appointment", {})
        assert first["status"] == "cancelled", first
        assert (await talk.say("book_appointment", ELEVEN))["status"] == "booked"
        second = await talk.say("cancel_appointment", {})
        assert second["status"] == "cancelled", second
        assert second["appointment"]["start"] == local(DAY, "11:00").isoformat()
        assert talk.count("POST /v2/bookings/{uid}/cancel") == 2
        assert talk.active() == []
        assert await talk.rows("booked", "pending") == []


class TestFailuresAreNotReplayed:
    """Errors and busy answers are never stored: "try again" works within the call."""

    async def test_retry_after_429_books(self, talk: Talk) -> None:
        """A create refused by Cal.com's throttler, then the same request again: booked."""
        talk.emulator.faults.fail_next(status=429, route="POST /v2/bookings", retry_after=1)
        first = await talk.say("book_appointment", TEN)
        assert (first["status"], first["reason"]) == ("error", "calendar_unreachable"), first
        await asyncio.sleep(1.2)  # the caller says "ok, try again" after Retry-After
        again = await talk.say("book_appointment", TEN)
        assert again["status"] == "booked", again
        assert len(talk.active()) == 1
        assert [c["attendee"]["name"] for c in talk.creates()] == ["Max Müller", "Max Müller"]

    async def test_retry_after_failed_cancel_cancels(self, talk: Talk) -> None:
        """A cancel that met 500s answers an error; the same cancel again cancels."""
        assert (await talk.say("book_appointment", TEN))["status"] == "booked"
        talk.emulator.faults.fail_next(count=10, status=500, route="POST /v2/bookings/{uid}/cancel")
        first = await talk.say("cancel_appointment", {"time": "10:00"})
        assert first["status"] == "error", first
        talk.emulator.faults.clear()
        again = await talk.say("cancel_appointment", {"time": "10:00"})
        assert again["status"] == "cancelled", again
        assert talk.active() == []


class TestPendingRetries:
    """A retry of a book whose first answer was pending answers the booking's current state."""

    async def test_retry_after_the_window_is_not_exact_duplicate(self, talk: Talk) -> None:
        """Pending, the webhook settles it, the window passed: the retry says booked."""
        talk.emulator.faults.timeout_after_commit(seconds=5)
        talk.emulator.webhooks.knobs.hold = True
        first = await talk.say("book_appointment", TEN)
        assert first["status"] == "pending", first
        await _age_keys(talk, timedelta(minutes=10))
        retry = await talk.say("book_appointment", TEN)
        assert retry["status"] in ("pending", "booked"), retry
        talk.emulator.webhooks.knobs.hold = False
        talk.emulator.webhooks.release()
        await talk.deliveries(1)
        await _age_keys(talk, timedelta(minutes=10))
        settled = await talk.say("book_appointment", TEN)
        assert settled["status"] == "booked", settled
        assert len(talk.creates()) == 1


class TestCrashedClaims:
    """A claim left by a crashed request stops blocking before Retell's tool timeout."""

    def test_claim_expires_before_the_tool_timeout(self) -> None:
        """The default claim timeout and the wait of a retry both end within the tool timeout."""
        settings = Settings()
        tool_timeout = TOOL_TIMEOUT_MS / 1000
        assert settings.claim_timeout_seconds < tool_timeout
        assert tool_timeout > idempotency.WAIT_BUDGET_SECONDS
        assert settings.replay_window_seconds >= 3 * tool_timeout

    async def test_retry_takes_over_a_crashed_claim(self, talk: Talk) -> None:
        """A claim older than the claim timeout (its holder crashed) is taken over: booked."""
        async with session_factory(talk.engine)() as s, s.begin():
            company_id = await s.scalar(
                CompanyRow.__table__.select().with_only_columns(CompanyRow.id)
            )
            key, request_hash = idempotency.key_for(
                int(company_id), "call_1", "book_appointment", TEN
            )
            stale = datetime.now(UTC) - timedelta(seconds=talk.settings.claim_timeout_seconds + 1)
            s.add(
                IdempotencyKeyRow(
                    scope=f"company:{company_id}",
                    key=key,
                    request_hash=request_hash,
                    state="in_progress",
                    locked_at=stale,
                    created_at=stale,
                    expires_at=stale + timedelta(hours=1),
                )
            )
        reply = await talk.say("book_appointment", TEN)
        assert reply["status"] == "booked", reply
        assert len(talk.creates()) == 1


async def _age_keys(talk: Talk, by: timedelta) -> None:
    """Move every stored reply ``by`` into the past, as if that time had gone by."""
    async with session_factory(talk.engine)() as s, s.begin():
        for row in await s.scalars(
            IdempotencyKeyRow.__table__.select().with_only_columns(IdempotencyKeyRow.id)
        ):
            key = await s.get(IdempotencyKeyRow, row)
            assert key is not None
            key.created_at -= by
            key.expires_at -= by
            if key.locked_at is not None:
                key.locked_at -= by
            if getattr(key, "finished_at", None) is not None:
                key.finished_at -= by
