"""Sentences made for the phone, checked as the caller hears them (both databases).

No argument names are spoken, at most three options with the day said once, proper sentences
for returning callers, the next appointment when a day is empty, English dates English style.
"""

from __future__ import annotations

import re

import pytest

from tests.retell.conftest import Phone

# Wednesday 25 November 2026, 10:00 in Berlin (see conftest.NOW).
CUT = {"customer_name": "Max Müller", "service": "Herrenhaarschnitt"}
ARGUMENT_NAMES = re.compile(
    r"\b(date|time|new_date|new_time|customer_name|customer_email|service|confirm_duplicate)\b"
)


def _words(message: str) -> int:
    return len(message.split())


class TestNoArgumentNames:
    """An argument the agent must ask again is named in the caller's words."""

    @pytest.mark.parametrize(
        ("function", "args", "field", "words"),
        [
            ("book_appointment", {**CUT, "date": "morgen"}, "time", "die Uhrzeit"),
            (
                "book_appointment",
                {"service": "Bartpflege", "date": "morgen", "time": "10:00"},
                "customer_name",
                "Ihren Namen",
            ),
            ("book_appointment", {**CUT, "date": "blabla", "time": "10:00"}, "date", "Datum"),
            ("book_appointment", {**CUT, "date": "morgen", "time": "abc"}, "time", "die Uhrzeit"),
            (
                "reschedule_appointment",
                {"new_time": "10:00"},
                "new_date",
                "das neue Datum",
            ),
            ("check_availability", {"service": "Bartpflege"}, "date", "das Datum"),
        ],
    )
    async def test_field_in_words(
        self, phone: Phone, function: str, args: dict[str, str], field: str, words: str
    ) -> None:
        """invalid_argument names the field in data and in words in the sentence."""
        reply = await phone.call(function, args)
        assert (reply["status"], reply["reason"], reply["field"]) == (
            "error",
            "invalid_argument",
            field,
        ), reply
        assert words in reply["message"]
        assert not ARGUMENT_NAMES.search(reply["message"]), reply["message"]
        assert "(" not in reply["message"]

    async def test_english_field_in_words(self, phone: Phone) -> None:
        """English: 'the time', never 'time' in brackets."""
        args = {"customer_name": "Ann", "service": "Checkup", "date": "tomorrow", "time": "abc"}
        reply = await phone.call("book_appointment", args, agent_id="agent_en")
        assert reply["field"] == "time"
        assert reply["message"] == "Sorry, I did not quite catch the time. Could you say it again?"


class TestAvailabilityOptions:
    """check_availability without a time: at most three options, the day said once."""

    async def test_three_options_grouped(self, phone: Phone) -> None:
        """A free day is offered as three times with its date once."""
        reply = await phone.call("check_availability", {"service": "Bartpflege", "date": "morgen"})
        assert reply["status"] == "available"
        assert len(reply["alternative_slots"]) >= 3  # the data may hold more than is said
        assert reply["message"].count("26. November") == 1
        assert reply["message"] == (
            "Frei wäre am Donnerstag, 26. November um 8 Uhr, 8:15 Uhr oder 8:30 Uhr."
        )

    async def test_three_options_english(self, phone: Phone) -> None:
        """English: 'Thursday, November 26 at 8 am, 8:30 am or 9 am'."""
        reply = await phone.call(
            "check_availability", {"service": "Checkup", "date": "tomorrow"}, agent_id="agent_en"
        )
        assert reply["status"] == "available"
        assert reply["message"] == "I could offer Thursday, November 26 at 8 am, 8:30 am or 9 am."

    async def test_time_inside_date(self, phone: Phone) -> None:
        """'morgen um 14 Uhr' asks about that time."""
        reply = await phone.call(
            "check_availability", {"service": "Bartpflege", "date": "morgen um 14 Uhr"}
        )
        assert reply["status"] == "available", reply
        assert reply["requested_start"] == "2026-11-26T14:00:00+01:00"
        assert reply["message"] == "Der Termin am Donnerstag, 26. November um 14 Uhr ist frei."


class TestReturningCaller:
    """check_customer lists at most three upcoming appointments in a proper sentence."""

    async def test_four_appointments_three_spoken(self, phone: Phone) -> None:
        """Four bookings: the next three are named, the fourth counted."""
        for n, date in enumerate(["morgen", "übermorgen", "Freitag in einer Woche", "am 9."]):
            args = {**CUT, "date": date, "time": "10:00", "confirm_duplicate": True}
            booked = await phone.call("book_appointment", args, call_id=f"b{n}")
            assert booked["status"] == "booked", booked
        known = await phone.call("check_customer", call_id="c9")
        assert known["status"] == "known"
        assert len(known["appointments"]) == 4
        message = known["message"]
        assert message.startswith("Willkommen zurück, Max Müller. Ihre nächsten Termine sind am ")
        assert message.count(" am ") == 3
        assert message.endswith("Dazu kommt noch ein weiterer.")
        assert "Dezember" in message and "9. Dezember" not in message

    async def test_one_appointment(self, phone: Phone) -> None:
        """One booking: 'Ihr nächster Termin ist am …'."""
        await phone.call("book_appointment", {**CUT, "date": "morgen", "time": "10:00"})
        known = await phone.call("check_customer", call_id="c2")
        assert known["message"] == (
            "Willkommen zurück, Max Müller. Ihr nächster Termin ist am Donnerstag, "
            "26. November um 10 Uhr für Herrenhaarschnitt."
        )


class TestQueryByDay:
    """query_appointment(date) on an empty day names the next appointment."""

    async def test_empty_day_names_next(self, phone: Phone) -> None:
        """Nothing on Friday, but one on Thursday: the sentence says so."""
        await phone.call("book_appointment", {**CUT, "date": "morgen", "time": "10:00"})
        reply = await phone.call("query_appointment", {"date": "übermorgen"}, call_id="q1")
        assert (reply["status"], reply["appointments"]) == ("ok", [])
        assert reply["next_appointment"]["start"] == "2026-11-26T10:00:00+01:00"
        assert reply["message"] == (
            "An diesem Tag haben Sie keinen Termin. Ihr nächster ist am Donnerstag, "
            "26. November um 10 Uhr für Herrenhaarschnitt."
        )

    async def test_nothing_at_all(self, phone: Phone) -> None:
        """No appointment at all: no 'next' is invented."""
        reply = await phone.call("query_appointment", {"date": "morgen"})
        assert reply["message"] == "Sie haben keine anstehenden Termine."
        assert "next_appointment" not in reply


class TestEnglishDates:
    """English companies hear 'Thursday, November 26 at 2:30 pm'."""

    async def test_booked_english_style(self, phone: Phone) -> None:
        """Booked sentence with an English date and a 12-hour time."""
        args = {"customer_name": "Ann", "service": "Checkup", "date": "tomorrow", "time": "2:30pm"}
        booked = await phone.call("book_appointment", args, agent_id="agent_en")
        assert booked["message"] == (
            "Your appointment is booked: on Thursday, November 26 at 2:30 pm for Checkup."
        )


class TestPast:
    """A moment in the past is named back: requested_start is on the reply."""

    @pytest.mark.parametrize("function", ["book_appointment", "check_availability"])
    async def test_in_past_carries_requested_start(self, phone: Phone, function: str) -> None:
        """'heute um 9' at 10:00 is in the past; the reply still says what was understood."""
        reply = await phone.call(function, {**CUT, "date": "heute", "time": "9 Uhr"})
        assert (reply["status"], reply["problem"]) == ("error", "in_past"), reply
        assert reply["requested_start"] == "2026-11-25T09:00:00+01:00"
        assert _words(reply["message"]) <= 30
