"""collect_appointment_data answers a clear ask by reading: only the call's row is written.

A caller who is new, or known with nothing near the asked time, hears "frei" after a read of
the person and both layers; no person, no stored reply, no decision row is written for it.
Whatever there is to record (a warning, a refusal, an email, a failed booking to tell) still
is, and what the caller hears and what reaches Cal.com stay the same.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from tests.conversations.conftest import ERIKA_PHONE, OTHER_PHONE, Talk, day_ahead, local

from slotguard.booking import reconcile
from slotguard.runtime import open_context
from slotguard.store.db import session_factory
from slotguard.store.tables import CallRow, DuplicateDecisionRow, IdempotencyKeyRow

DAY = day_ahead(4)  # a Friday at least a week ahead
ISO = DAY.isoformat()
FUNCTION = "collect_appointment_data"
ASK = {"customer_name": "Lena Berg", "service": "Haarschnitt", "date": ISO, "time": "10:00"}


async def _count(talk: Talk, table: type[object]) -> int:
    async with session_factory(talk.engine)() as s:
        return int(await s.scalar(select(func.count()).select_from(table)) or 0)


async def _asks_recorded(talk: Talk) -> int:
    """Decision rows that collect_appointment_data wrote (bookings and webhooks write theirs)."""
    async with session_factory(talk.engine)() as s:
        query = select(func.count()).where(DuplicateDecisionRow.function == FUNCTION)
        return int(await s.scalar(query) or 0)


async def _calls(talk: Talk) -> list[CallRow]:
    async with session_factory(talk.engine)() as s:
        return list(await s.scalars(select(CallRow).order_by(CallRow.id)))


class TestAClearAsk:
    """New callers and known ones with nothing near: one reply, the call recorded, nothing else."""

    async def test_a_new_caller_hears_free_and_books_under_the_name_said(self, talk: Talk) -> None:
        """The ask writes the call only; the booking that follows creates the person once."""
        asked = await talk.say("collect_appointment_data", ASK)
        assert asked["status"] == "ok", asked
        assert asked["availability"] == "free"
        assert "um 10 Uhr" in asked["message"] and "frei" in asked["message"]
        assert len(await talk.customers()) == 0
        assert await _count(talk, IdempotencyKeyRow) == 0
        [call] = await _calls(talk)
        assert (call.call_id, call.from_number, call.customer_id) == ("call_1", ERIKA_PHONE, None)
        assert talk.creates() == []  # asking books nothing

        booked = await talk.say("book_appointment", ASK)
        assert booked["status"] == "booked", booked
        [create] = talk.creates()
        assert create["attendee"]["name"] == "Lena Berg"
        assert create["attendee"]["phoneNumber"] == ERIKA_PHONE
        [person] = await talk.customers()
        assert person.name == "Lena Berg"
        [call] = await _calls(talk)
        assert call.customer_id == person.id

    async def test_a_withheld_number_is_asked_and_booked_as_one_person(self, talk: Talk) -> None:
        """Withheld: ask, ask again, book with an email; one person, the name and email said."""
        for _ in range(2):
            asked = await talk.say("collect_appointment_data", ASK, caller=None)
            assert (asked["status"], asked["availability"]) == ("ok", "free"), asked
        assert len(await talk.customers()) == 0
        with_email = {**ASK, "customer_email": "lena@example.com"}
        booked = await talk.say("book_appointment", with_email, caller=None)
        assert booked["status"] == "booked", booked
        [create] = talk.creates()
        assert (create["attendee"]["name"], create["attendee"]["email"]) == (
            "Lena Berg",
            "lena@example.com",
        )
        # Asked again in the same call after booking: the person this call named is warned.
        again = await talk.say("collect_appointment_data", {**ASK, "time": "15:00"}, caller=None)
        assert again["status"] == "warning" and again["reason"] == "same_day", again
        assert "um 10 Uhr" in again["message"]
        assert len(await talk.customers()) == 1

    async def test_a_known_caller_with_nothing_near_writes_no_decision(self, talk: Talk) -> None:
        """Booked weeks away: an ask for another service now is clear and records no decision."""
        far = {**ASK, "service": "Färben", "date": day_ahead(4, at_least=50).isoformat()}
        assert (await talk.say("book_appointment", far, call_id="call_0"))["status"] == "booked"
        asked = await talk.say("collect_appointment_data", ASK)
        assert (asked["status"], asked["availability"]) == ("ok", "free"), asked
        assert await _asks_recorded(talk) == 0
        calls = {c.call_id: c for c in await _calls(talk)}
        [person] = await talk.customers()
        assert calls["call_1"].customer_id == person.id  # the ask linked the known person

    async def test_parallel_asks_of_one_call_record_one_call(self, talk: Talk) -> None:
        """Eight identical asks at once (LLM repeats): eight "frei", one call row, no person."""
        replies = await asyncio.gather(
            *(talk.say("collect_appointment_data", ASK) for _ in range(8))
        )
        assert [(r["status"], r["availability"]) for r in replies] == [("ok", "free")] * 8
        assert len(await _calls(talk)) == 1
        assert len(await talk.customers()) == 0
        assert await _count(talk, IdempotencyKeyRow) == 0


class TestSomethingToRecord:
    """Warnings and refusals still take the recording path: recorded once, replayed to a retry."""

    async def test_a_same_day_warning_is_recorded_once_and_replayed(self, talk: Talk) -> None:
        """Booked at 10:00, asked for 14:00 in a later call (and again): one decision row."""
        assert (await talk.say("book_appointment", ASK, call_id="call_0"))["status"] == "booked"
        later = {**ASK, "time": "14:00"}
        first = await talk.say("collect_appointment_data", later)
        assert first["status"] == "warning" and first["reason"] == "same_day", first
        assert "um 10 Uhr" in first["message"]
        starts = [a["start"] for a in first["existing_appointments"]]
        assert starts == [local(DAY, "10:00").isoformat()]
        retry = await talk.say("collect_appointment_data", later)
        same = ("status", "reason", "existing_appointments", "message")
        assert {k: retry[k] for k in same} == {k: first[k] for k in same}
        assert await _asks_recorded(talk) == 1
        assert await _count(talk, IdempotencyKeyRow) == 2  # the booking's and the warning's

    async def test_parallel_warned_asks_record_one_decision(self, talk: Talk) -> None:
        """Eight identical warned asks at once: eight warnings naming 10 Uhr, one decision row."""
        assert (await talk.say("book_appointment", ASK, call_id="call_0"))["status"] == "booked"
        later = {**ASK, "time": "14:00"}
        replies = await asyncio.gather(
            *(talk.say("collect_appointment_data", later) for _ in range(8))
        )
        settled = [r for r in replies if r["status"] == "warning"]
        assert settled and all("um 10 Uhr" in r["message"] for r in settled), replies
        assert all(r["status"] in ("warning", "pending") for r in replies), replies
        assert await _asks_recorded(talk) == 1

    async def test_an_exact_repeat_is_refused_and_books_nothing(self, talk: Talk) -> None:
        """The same service at the same time again, from another call: refused, no create."""
        assert (await talk.say("book_appointment", ASK, call_id="call_0"))["status"] == "booked"
        asked = await talk.say("collect_appointment_data", ASK)
        assert asked["status"] == "refused", asked
        assert "um 10 Uhr" in asked["message"]
        assert len(talk.creates()) == 1
        assert await _asks_recorded(talk) == 2  # Layer 2's refusal and Layer 1's same-day warning

    async def test_another_persons_number_sees_nothing_of_lena(self, talk: Talk) -> None:
        """Lena booked from her phone; a caller from another number asking the same is clear."""
        assert (await talk.say("book_appointment", ASK, call_id="call_0"))["status"] == "booked"
        other = {**ASK, "time": "14:00"}
        asked = await talk.say("collect_appointment_data", other, caller=OTHER_PHONE)
        assert asked["status"] == "ok", asked
        assert "existing_appointments" not in asked
        assert await _asks_recorded(talk) == 0


class TestAFailedBookingIsStillTold:
    """The ask that reads the call's row tells a booking that failed since, exactly once."""

    async def test_the_next_ask_tells_it_once(self, talk: Talk) -> None:
        """500, the slot taken on the website, reconciled as failed: the next ask says so."""
        talk.emulator.faults.fail_next(status=500, route="POST /v2/bookings")
        assert (await talk.say("book_appointment", ASK))["status"] == "pending"
        talk.emulator.book_directly(local(DAY, "10:00"), name="Website Booker")
        await talk.deliveries(1)
        async with open_context(talk.settings) as ctx:
            assert (await reconcile.run_once(ctx, grace=timedelta(0))).failed == 1
        later = {**ASK, "time": "14:00"}
        told = await talk.say("collect_appointment_data", later)
        assert told["status"] == "ok", told
        assert told["failed_booking"]["start"] == local(DAY, "10:00").isoformat(), told
        assert "nicht bestätigt" in told["message"] and "um 10 Uhr" in told["message"]
        again = await talk.say("collect_appointment_data", later)
        assert again["status"] == "ok" and "failed_booking" not in again, again
