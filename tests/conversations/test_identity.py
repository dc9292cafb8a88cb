"""The person, not the phone: who reaches Cal.com, who may see and change which appointments."""

from __future__ import annotations

from datetime import UTC

from tests.conversations.conftest import ERIKA_PHONE, OTHER_PHONE, Talk, day_ahead, local

DAY = day_ahead(2)  # a Wednesday at least a week ahead
ISO = DAY.isoformat()


def _book(name: str, hhmm: str, email: str | None = None, **extra: object) -> dict[str, object]:
    args: dict[str, object] = {
        "customer_name": name,
        "service": "Haarschnitt",
        "date": ISO,
        "time": hhmm,
        **extra,
    }
    if email is not None:
        args["customer_email"] = email
    return args


class TestThePersonBooked:
    """Every create carries the name and email of the person booked, from the same request."""

    async def test_first_booking_carries_the_given_name_and_email(self, talk: Talk) -> None:
        """A first-time caller's booking reaches Cal.com under their own name and email."""
        reply = await talk.say("book_appointment", _book("Max Müller", "10:00", "max@example.com"))
        assert reply["status"] == "booked", reply
        assert "um 10 Uhr" in reply["message"]
        [create] = talk.creates()
        assert create["attendee"]["name"] == "Max Müller"
        assert create["attendee"]["email"] == "max@example.com"
        assert create["attendee"]["phoneNumber"] == ERIKA_PHONE
        assert create["start"] == local(DAY, "10:00").astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        [booking] = talk.active()
        assert booking.start == local(DAY, "10:00")

    async def test_two_people_on_one_phone_are_two_people(self, talk: Talk) -> None:
        """Erika, then Hans book from one phone: each create carries its own name; none renamed."""
        erika = await talk.say(
            "book_appointment", _book("Erika Muster", "10:00", "erika@example.com")
        )
        assert erika["status"] == "booked", erika
        # Hans (her husband) books that day too: Erika's appointment is no same-day warning.
        hans = await talk.say("book_appointment", _book("Hans Muster", "11:00"), call_id="call_2")
        assert hans["status"] == "booked", hans
        first, second = talk.creates()
        assert (first["attendee"]["name"], first["attendee"]["email"]) == (
            "Erika Muster",
            "erika@example.com",
        )
        assert second["attendee"]["name"] == "Hans Muster"
        assert second["attendee"].get("email") != "erika@example.com"
        names = sorted(c.name or "" for c in await talk.customers())
        assert names == ["Erika Muster", "Hans Muster"]
        assert len(talk.active()) == 2
        rows = await talk.rows("booked")
        assert len({r.customer_id for r in rows}) == 2

    async def test_check_customer_names_the_household(self, talk: Talk) -> None:
        """On a shared phone check_customer names both people, not the last one who booked."""
        await talk.say("book_appointment", _book("Erika Muster", "10:00"))
        await talk.say("book_appointment", _book("Hans Muster", "11:00"), call_id="call_2")
        reply = await talk.say("check_customer", call_id="call_3")
        assert reply["status"] == "known", reply
        assert "Erika" in reply["message"] and "Hans" in reply["message"]
        assert sorted(reply["household"]) == ["Erika Muster", "Hans Muster"]
        assert len(reply["appointments"]) == 2

    async def test_a_first_name_picks_the_only_matching_person(self, talk: Talk) -> None:
        """'Erika' alone on a phone where Erika Muster is known books for Erika Muster."""
        await talk.say("book_appointment", _book("Erika Muster", "10:00", "erika@example.com"))
        reply = await talk.say("book_appointment", _book("erika", "12:00"), call_id="call_2")
        assert reply["status"] in ("booked", "warning"), reply
        assert reply.get("reason") in (None, "same_day")
        assert len(await talk.customers()) == 1

    async def test_collect_for_another_person_renames_nobody(self, talk: Talk) -> None:
        """Asking for Hans on Erika's phone does not turn Erika into Hans."""
        await talk.say("book_appointment", _book("Erika Muster", "10:00"))
        reply = await talk.say(
            "collect_appointment_data", _book("Hans Muster", "12:00"), call_id="call_2"
        )
        assert reply["status"] == "ok", reply
        names = sorted(c.name or "" for c in await talk.customers())
        assert "Erika Muster" in names
        follow = await talk.say("check_customer", call_id="call_3")
        assert "Erika" in follow["message"]


class TestAccessNeedsThePhone:
    """Listing, cancelling and rescheduling need the caller's number to belong to the person."""

    async def test_withheld_number_with_someone_elses_email(self, talk: Talk) -> None:
        """Erika's email, said by an anonymous caller, opens nothing and cancels nothing."""
        await talk.say("book_appointment", _book("Erika Muster", "10:00", "erika@example.com"))
        anon = {"call_id": "call_anon", "caller": None}
        listed = await talk.say(
            "collect_appointment_data",
            _book("Mallory", "14:00", "erika@example.com", service="Färben"),
            **anon,  # type: ignore[arg-type]
        )
        assert "Erika" not in listed["message"]
        assert not listed.get("existing_appointments"), listed
        query = await talk.say("query_appointment", {}, **anon)  # type: ignore[arg-type]
        assert query["appointments"] == [], query
        cancel = await talk.say("cancel_appointment", {}, **anon)  # type: ignore[arg-type]
        assert cancel["status"] == "not_found", cancel
        assert talk.count("POST /v2/bookings/{uid}/cancel") == 0
        assert len(talk.active()) == 1
        names = sorted(c.name or "" for c in await talk.customers())
        assert "Erika Muster" in names and names.count("Erika Muster") == 1

    async def test_another_phone_with_erikas_email_sees_nothing(self, talk: Talk) -> None:
        """A known email from an unknown number is no key: query is empty, cancel finds nothing."""
        await talk.say("book_appointment", _book("Erika Muster", "10:00", "erika@example.com"))
        await talk.say(
            "collect_appointment_data",
            _book("Erika Muster", "15:00", "erika@example.com", service="Färben"),
            call_id="call_2",
            caller=OTHER_PHONE,
        )
        query = await talk.say("query_appointment", {}, call_id="call_2", caller=OTHER_PHONE)
        assert query["appointments"] == [], query
        cancel = await talk.say(
            "cancel_appointment", {"time": "10:00"}, call_id="call_2", caller=OTHER_PHONE
        )
        assert cancel["status"] == "not_found", cancel
        assert talk.count("POST /v2/bookings/{uid}/cancel") == 0

    async def test_someone_elses_email_at_their_time_is_refused_without_details(
        self, talk: Talk
    ) -> None:
        """Booking Erika's exact appointment under her email is refused, revealing nothing more."""
        await talk.say("book_appointment", _book("Erika Muster", "10:00", "erika@example.com"))
        reply = await talk.say(
            "book_appointment",
            _book("Mallory", "10:00", "ERIKA@example.com"),
            call_id="call_anon",
            caller=None,
        )
        assert (reply["status"], reply["reason"]) == ("refused", "exact_duplicate"), reply
        assert not reply.get("existing_appointments")
        assert "Erika" not in reply["message"]
        assert len(talk.creates()) == 1

    async def test_withheld_caller_books_and_changes_their_mind(self, talk: Talk) -> None:
        """Anonymous with an email: book, cancel what this call booked, book again."""
        anon = {"call_id": "call_anon", "caller": None}
        first = await talk.say(
            "book_appointment", _book("Lena Neu", "10:00", "lena@example.com"), **anon
        )  # type: ignore[arg-type]
        assert first["status"] == "booked", first
        cancel = await talk.say("cancel_appointment", {"time": "10:00"}, **anon)  # type: ignore[arg-type]
        assert cancel["status"] == "cancelled", cancel
        again = await talk.say(
            "book_appointment", _book("Lena Neu", "11:00", "lena@example.com"), **anon
        )  # type: ignore[arg-type]
        assert again["status"] == "booked", again
        assert [c["attendee"]["name"] for c in talk.creates()] == ["Lena Neu", "Lena Neu"]
        assert [c["attendee"]["email"] for c in talk.creates()] == ["lena@example.com"] * 2
        [booking] = talk.active()
        assert booking.start == local(DAY, "11:00")
        # A later anonymous call sees none of it.
        later = await talk.say("query_appointment", {}, call_id="call_anon_2", caller=None)
        assert later["appointments"] == []


class TestWebsiteBookingUnderAnEmail:
    """A booking made on the website under an email counts for that email's duplicates."""

    async def test_same_day_warning_and_exact_refusal(self, talk: Talk) -> None:
        """Same email from an unknown number: same-day warning, exact refusal, no create sent."""
        talk.emulator.book_directly(
            local(DAY, "10:00"), name="Petra Web", email="petra@example.com"
        )
        await talk.deliveries(1)
        warn = await talk.say(
            "book_appointment",
            _book("Petra Web", "15:00", "petra@example.com"),
            caller=OTHER_PHONE,
        )
        assert (warn["status"], warn["reason"]) == ("warning", "same_day"), warn
        exact = await talk.say(
            "book_appointment", _book("Petra Web", "10:00", "petra@example.com"), caller=OTHER_PHONE
        )
        assert (exact["status"], exact["reason"]) == ("refused", "exact_duplicate"), exact
        assert talk.creates() == []
