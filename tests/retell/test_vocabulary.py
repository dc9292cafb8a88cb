"""One vocabulary: every reason a sentence is keyed by is a domain Reason (or a named variant)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from slotguard.booking.replies import Reply, Status
from slotguard.domain import Reason
from slotguard.retell.messages import MESSAGES, render, when

# Keys that pick a variant of a sentence without being a reply reason: listing replies, the
# time-parse problems of an invalid_argument error, a match through someone else's email.
VARIANTS = {
    "appointments", "none", "none_that_day", "slots", "availability_unknown", "missing",
    "in_past", "nonexistent_time", "invalid_email", "too_far_ahead", "existing_hidden",
}  # fmt: skip


@pytest.mark.parametrize("language", sorted(MESSAGES))
def test_every_key_is_a_status_and_a_reason(language: str) -> None:
    """No sentence is keyed by a string outside Status and Reason."""
    for status, reason in MESSAGES[language]:
        assert status in set(Status)
        assert reason is None or reason in set(Reason) | VARIANTS


@pytest.mark.parametrize("language", sorted(MESSAGES))
def test_languages_say_the_same_things(language: str) -> None:
    """Every language has a sentence for every key."""
    assert set(MESSAGES[language]) == set(MESSAGES["de"])


def test_reply_reason_round_trips_as_its_wire_value() -> None:
    """A reply's reason is the enum in memory and its plain value on the wire and in replays."""
    reply = Reply(Status.UNAVAILABLE, reason=Reason.DAY_FULL)
    assert reply.to_json() == {"status": "unavailable", "reason": "day_full"}
    assert Reply.from_json(reply.to_json()).reason is Reason.DAY_FULL
    assert render(reply, "en").startswith("Sorry, that day is fully booked.")


def test_one_instant_is_said_in_the_zone_it_is_given() -> None:
    """The same instant in two zones is two different sentences, however often asked."""
    utc = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    berlin = utc.astimezone(ZoneInfo("Europe/Berlin"))
    for _ in range(2):
        assert when(utc, "de") == "Dienstag, 1. Dezember um 13:30 Uhr"
        assert when(berlin, "de") == "Dienstag, 1. Dezember um 14:30 Uhr"
        assert when(berlin, "en") == "Tuesday, December 1 at 2:30 pm"
