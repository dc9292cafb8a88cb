"""Choosing the appointment a cancel or reschedule means: exact local start, never a guess."""

from __future__ import annotations

from tests.conversations.conftest import Talk, day_ahead, local

DAY = day_ahead(1)  # a Tuesday at least a week ahead
ISO = DAY.isoformat()


def _book(hhmm: str, service: str = "Haarschnitt") -> dict[str, object]:
    # A second appointment that day is wanted: the same-day warning is confirmed up front.
    return {
        "customer_name": "Max Müller",
        "service": service,
        "date": ISO,
        "time": hhmm,
        "confirm_duplicate": True,
    }


class TestTimeHints:
    """The time hint is read like every other time and must match the local start exactly."""

    async def test_a_time_matching_nothing_cancels_nothing(self, talk: Talk) -> None:
        """09:00 and 10:00 booked, "19:00" asked: not_found naming both, nothing cancelled."""
        await talk.say("book_appointment", _book("09:00"))
        await talk.say("book_appointment", _book("10:00", "Damenhaarschnitt"), call_id="call_2")
        reply = await talk.say("cancel_appointment", {"time": "19:00"}, call_id="call_3")
        assert reply["status"] == "not_found", reply
        assert "um 9 Uhr" in reply["message"] and "um 10 Uhr" in reply["message"]
        assert len(reply["appointments"]) == 2
        assert talk.count("POST /v2/bookings/{uid}/cancel") == 0
        assert len(talk.active()) == 2

    async def test_the_only_appointment_is_not_a_fallback(self, talk: Talk) -> None:
        """Only 14:00 booked, "10:00" asked: not_found naming 14:00; 14:00 stays booked."""
        await talk.say("book_appointment", _book("14:00"))
        reply = await talk.say("cancel_appointment", {"time": "10:00"}, call_id="call_2")
        assert reply["status"] == "not_found", reply
        assert "um 14 Uhr" in reply["message"]
        assert talk.count("POST /v2/bookings/{uid}/cancel") == 0
        assert len(talk.active()) == 1

    async def test_spoken_time_matches(self, talk: Talk) -> None:
        """ "15 Uhr" picks the 15:00 appointment of two."""
        await talk.say("book_appointment", _book("11:00"))
        await talk.say("book_appointment", _book("15:00", "Färben"), call_id="call_2")
        reply = await talk.say("cancel_appointment", {"time": "15 Uhr"}, call_id="call_3")
        assert reply["status"] == "cancelled", reply
        assert reply["appointment"]["start"] == local(DAY, "15:00").isoformat()
        [left] = talk.active()
        assert left.start == local(DAY, "11:00")

    async def test_reschedule_with_a_wrong_time_moves_nothing(self, talk: Talk) -> None:
        """A reschedule whose old time matches nothing answers not_found and moves nothing."""
        await talk.say("book_appointment", _book("14:00"))
        reply = await talk.say(
            "reschedule_appointment",
            {"time": "10:00", "new_date": ISO, "new_time": "16:00"},
            call_id="call_2",
        )
        assert reply["status"] == "not_found", reply
        assert talk.count("POST /v2/bookings/{uid}/reschedule") == 0
        [booking] = talk.active()
        assert booking.start == local(DAY, "14:00")


class TestSeveralMatch:
    """Several candidates: the new status ``ambiguous`` lists them and asks which one."""

    async def test_two_that_day(self, talk: Talk) -> None:
        """Two that day and only the date given: ambiguous, both named, none cancelled."""
        await talk.say("book_appointment", _book("09:00"))
        await talk.say("book_appointment", _book("16:00", "Färben"), call_id="call_2")
        reply = await talk.say("cancel_appointment", {"date": ISO}, call_id="call_3")
        assert reply["status"] == "ambiguous", reply
        assert [a["start"] for a in reply["appointments"]] == [
            local(DAY, "09:00").isoformat(),
            local(DAY, "16:00").isoformat(),
        ]
        assert "um 9 Uhr" in reply["message"] and "um 16 Uhr" in reply["message"]
        assert talk.count("POST /v2/bookings/{uid}/cancel") == 0
        picked = await talk.say(
            "cancel_appointment", {"date": ISO, "time": "16:00"}, call_id="call_3"
        )
        assert picked["status"] == "cancelled", picked
        [left] = talk.active()
        assert left.start == local(DAY, "09:00")
