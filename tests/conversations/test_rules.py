"""Opening hours, service length and the same-service window hold on every calendar."""

from __future__ import annotations

from datetime import UTC, timedelta

from tests.conversations.conftest import BERLIN, Talk, day_ahead, local

WEDNESDAY = day_ahead(2)
SUNDAY = day_ahead(6)


def _args(day: object, hhmm: str, service: str = "Haarschnitt") -> dict[str, str]:
    return {"customer_name": "Max Müller", "service": service, "date": str(day), "time": hhmm}


class TestOpeningHours:
    """A time the salon is closed is refused by slotguard; Cal.com never gets the create."""

    async def test_sunday_is_closed(self, talk: Talk) -> None:
        """Sunday 10:00 (closed): out_of_bounds with alternatives, no create sent."""
        collect = await talk.say("collect_appointment_data", _args(SUNDAY, "10:00"))
        book = await talk.say("book_appointment", _args(SUNDAY, "10:00"))
        for reply in (collect, book):
            assert (reply["status"], reply["reason"]) == ("unavailable", "out_of_bounds"), reply
            assert reply["alternative_slots"], reply
        assert talk.creates() == []
        assert await talk.rows() == []

    async def test_evening_after_closing(self, talk: Talk) -> None:
        """21:00 on a weekday (open until 18:00): out_of_bounds, no create sent."""
        reply = await talk.say("book_appointment", _args(WEDNESDAY, "21:00"))
        assert (reply["status"], reply["reason"]) == ("unavailable", "out_of_bounds"), reply
        assert talk.creates() == []

    async def test_service_must_end_before_closing(self, talk: Talk) -> None:
        """A 60-minute cut at 17:30 would end after 18:00: out_of_bounds, no create sent."""
        reply = await talk.say("book_appointment", _args(WEDNESDAY, "17:30", "Damenhaarschnitt"))
        assert (reply["status"], reply["reason"]) == ("unavailable", "out_of_bounds"), reply
        assert talk.creates() == []


class TestSameServiceWindow:
    """The same service within 30 days, inclusive, is mentioned before booking."""

    async def test_exactly_thirty_days_later(self, talk: Talk) -> None:
        """A cut exactly 30 × 24 h after a booked one: the same_service_upcoming warning."""
        assert (await talk.say("book_appointment", _args(WEDNESDAY, "10:00")))["status"] == "booked"
        later = (local(WEDNESDAY, "10:00") + timedelta(days=30)).astimezone(BERLIN)  # a Friday
        reply = await talk.say(
            "collect_appointment_data",
            _args(later.date(), later.strftime("%H:%M")),
            call_id="call_2",
        )
        assert (reply["status"], reply["reason"]) == ("warning", "same_service_upcoming"), reply
        assert "um 10 Uhr" in reply["message"]
        assert len(talk.creates()) == 1


class TestServiceLength:
    """collect and book decide the same request the same way, whatever Cal.com's slot grid."""

    async def test_off_grid_start_of_a_45_minute_service(self, talk: Talk) -> None:
        """Färben (45 min) at 10:30, off Cal.com's 45-minute grid: collect says ok, book books."""
        args = _args(WEDNESDAY, "10:30", "Färben")
        collect = await talk.say("collect_appointment_data", args)
        assert collect["status"] == "ok", collect
        book = await talk.say("book_appointment", args)
        assert book["status"] == "booked", book
        [create] = talk.creates()
        assert create["start"] == local(WEDNESDAY, "10:30").astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        [booking] = talk.active()
        assert booking.end - booking.start == timedelta(minutes=45)

    async def test_taken_span_is_refused_by_both(self, talk: Talk) -> None:
        """A span that overlaps a booking: collect and book both answer unavailable."""
        talk.emulator.book_directly(local(WEDNESDAY, "10:45"), event_type_id=1001, name="Web")
        await talk.deliveries(1)
        args = _args(WEDNESDAY, "10:30", "Färben")
        collect = await talk.say("collect_appointment_data", args)
        book = await talk.say("book_appointment", args)
        assert (collect["status"], book["status"]) == ("unavailable", "unavailable"), (
            collect,
            book,
        )
        assert collect["reason"] == book["reason"] == "slot_taken"
