"""Every (status, reason) the service can answer has a German and an English sentence that a
caller can follow: no argument names, no English in German, at most about 30 words."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slotguard.booking.replies import AppointmentView, Reply, Status
from slotguard.domain import Reason
from slotguard.domain.reasons import CALENDAR_REFUSALS
from slotguard.retell.dispatch import FUNCTIONS
from slotguard.retell.messages import CATALOGUE, key_of, render

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 12, 1, 14, 30, tzinfo=BERLIN)
SRC = Path(__file__).resolve().parents[2] / "src" / "slotguard"
MAX_WORDS = 30
# A sentence that lists appointments (at most three) may take this many words more for each
# listed after the first: "am Mittwoch, 2. Dezember um 14 Uhr für Herrenhaarschnitt".
WORDS_PER_LISTED = 10

# The pairs a reply can carry, from the enums that produce them.
_WARNINGS = {Reason.SAME_DAY, Reason.SAME_SERVICE_UPCOMING}
_REFUSALS = {Reason.EXACT_DUPLICATE, Reason.OVERLAPPING, Reason.DAILY_LIMIT}
_ERRORS = {
    Reason.INVALID_ARGUMENT, Reason.UNKNOWN_SERVICE, Reason.AMBIGUOUS_SERVICE,
    Reason.UNKNOWN_TENANT, Reason.CALENDAR_UNREACHABLE, Reason.CALENDAR_REFUSED,
    Reason.NEEDS_CONTACT, Reason.UNKNOWN_STAFF, Reason.AVAILABILITY_UNKNOWN,
}  # fmt: skip
_RULES = {Reason.CLOSED, Reason.TOO_SOON, Reason.TOO_FAR, Reason.OFF_GRID, Reason.STAFF_OFF}
RETURNED: set[tuple[str, str | None]] = {
    *((s.value, None) for s in Status if s not in (Status.WARNING, Status.REFUSED)),
    *(("warning", r.value) for r in _WARNINGS),
    *(("refused", r.value) for r in _REFUSALS),
    *(("error", r.value) for r in _ERRORS),
    ("pending", Reason.BUSY.value),
    *(("unavailable", k.value) for k in CALENDAR_REFUSALS - {Reason.INVALID, Reason.NEEDS_CONTACT}),
    ("unavailable", Reason.DAY_FULL.value),
    *(("unavailable", r.value) for r in _RULES),
}
PROBLEMS = [
    "missing", "unparseable_date", "unparseable_time", "in_past", "nonexistent_time",
    "too_far_ahead",
    "invalid_email", "must be text", "too long", "must be true or false",
]  # fmt: skip
FIELDS = [
    "date", "time", "new_date", "new_time", "customer_name", "service", "customer_email",
    "confirm_duplicate",
]  # fmt: skip
# An argument's name as written (snake case); in German also the one-word ones ("time").
ARGUMENT_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")
# English words that must not appear in a German sentence.
ENGLISH = re.compile(
    r"\b(the|and|or|is|your|you|please|sorry|appointment|booked|slot|error|calendar|status|"
    r"pending|free|time|date|service|nothing|again|pm|on|at)\b"
)


def _view(day: int, service: str = "Herrenhaarschnitt") -> AppointmentView:
    start = START.replace(day=day)
    return AppointmentView(day, service, start, start.replace(hour=15), "booked")


def _reply(status: str, key: str | None, **extra: object) -> Reply:
    """A reply that is spoken by the sentence of (status, key), every placeholder filled."""
    facts: dict[str, object] = {
        "customer_name": "Max",
        "offered_services": ["Färben", "Herrenhaarschnitt"],
        "candidates": ["Färben", "Herrenhaarschnitt"],
        "field": "time",
        "problem": "unparseable_time",
        "staff": "Anna",
        "requested_staff": "Bert",
        "offered_staff": ["Anna", "Carla"],
        "alternative_staff": ["Anna", "Carla", "Anna"],
        "closed_date": "2026-12-24",
        "holiday": "Heiligabend",
        **extra,
    }
    reason = Reason(key) if key in {r.value for r in Reason} else None
    many = (_view(1), _view(2), _view(3), _view(4))
    listed: tuple[AppointmentView, ...] | None = many if status in ("known", "ok") else None
    start: datetime | None = START
    if key in ("none", "none_that_day"):
        listed = ()
    if key == "none_that_day":
        facts["next_appointment"] = _view(3).to_json()
    if key == "availability_unknown":
        listed, facts["availability"] = None, "unknown"
    if status == "ok" and key is None:
        listed = None
    if key == "slots":
        start = None
    if status == "ambiguous" or (status == "not_found" and key == "appointments"):
        listed = many  # the candidates, or the caller's upcoming appointments
    if key == "existing_hidden":  # someone else's appointment under the same email
        reason, facts["existing_hidden"] = Reason.EXACT_DUPLICATE, True
    if status == "error" and reason is None and key is not None:  # a problem's own sentence
        reason, facts["problem"] = Reason.INVALID_ARGUMENT, key
    return Reply(
        Status(status),
        reason=reason,
        requested_start=start,
        appointment=_view(1),
        existing=(_view(1),),
        appointments=listed,
        alternatives=(START.replace(hour=10), START.replace(hour=11), START.replace(hour=12)),
        facts=facts,
    )


def _check(message: str, language: str, listed: int = 1) -> None:
    assert message, "empty sentence"
    assert "{" not in message and "(" not in message, message
    assert not ARGUMENT_NAME.search(message), message
    budget = MAX_WORDS + WORDS_PER_LISTED * (min(max(listed, 1), 3) - 1)
    assert len(message.split()) <= budget, (len(message.split()), message)
    assert message[-1] in ".?", message
    if language == "de":
        assert not ENGLISH.search(message), message
        assert not re.search(r"\b(" + "|".join(FIELDS) + r")\b", message), message


def test_every_returned_pair_has_its_own_sentence() -> None:
    """No pair falls back to a generic sentence, in either language."""
    for language in ("de", "en"):
        missing = {p for p in RETURNED if p not in CATALOGUE[language]}
        assert not missing, (language, sorted(missing, key=str))


def test_every_reason_literal_in_the_code_is_known() -> None:
    """A reason written as a literal in the booking code is one the catalogue speaks."""
    spoken = {reason for _, reason in CATALOGUE["de"]}
    literals = set()
    for path in (SRC / "booking").glob("*.py"):
        literals |= set(re.findall(r'reason="([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert literals <= spoken, literals - spoken


def test_both_languages_have_the_same_pairs() -> None:
    """German and English speak the same pairs."""
    assert set(CATALOGUE["de"]) == set(CATALOGUE["en"])


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize(
    ("status", "reason"), sorted(CATALOGUE["de"], key=str), ids=lambda v: str(v)
)
@pytest.mark.parametrize("function", [*sorted(FUNCTIONS), None])
def test_sentence_is_for_the_phone(
    language: str, status: str, reason: str | None, function: str | None
) -> None:
    """Each sentence, after each function, is short and names no argument."""
    reply = _reply(status, reason)
    assert key_of(reply) == (status, reason)
    _check(render(reply, language, function), language, len(reply.appointments or ()))


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("field", FIELDS)
def test_invalid_argument_names_the_field_in_words(language: str, problem: str, field: str) -> None:
    """Every problem with every argument is asked again in the caller's words."""
    reply = _reply("error", "invalid_argument", field=field, problem=problem)
    _check(render(reply, language), language)


def test_failures_say_what_did_not_happen_per_function() -> None:
    """calendar_unreachable names what did not happen for the function that failed."""
    reply = Reply(Status.ERROR, reason=Reason.CALENDAR_UNREACHABLE)
    said = {name: render(reply, "de", name) for name in FUNCTIONS}
    assert "nichts gebucht" in said["book_appointment"]
    assert "nicht verschoben" in said["reschedule_appointment"]
    assert "nicht storniert" in said["cancel_appointment"]
    assert "freien Termine" in said["check_availability"]
    assert all("gebucht" not in said[n] for n in ("reschedule_appointment", "cancel_appointment"))


DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", ["agent-prompt.de.md", "agent-prompt.en.md"])
def test_agent_prompt_names_every_status_and_reason(name: str) -> None:
    """The example Retell prompt tells the agent what to do with every status and reason."""
    text = (DOCS / name).read_text(encoding="utf-8")
    for status in Status:
        assert f"`{status.value}`" in text, status
    for _, reason in RETURNED:
        if reason is not None:
            assert f"`{reason}`" in text, reason
