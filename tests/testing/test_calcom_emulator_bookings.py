"""The emulator's booking routes against the contract: create, list, get, reschedule, cancel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from slotguard.testing import EmulatorConfig, EventTypeConfig

if TYPE_CHECKING:
    from .conftest import CalClient, MakeCal

UNAVAILABLE = "User either already has booking at this time or is not available"
KEY = "cal_test_emulator"
BOOKINGS = {"cal-api-version": "2024-08-13", "Authorization": f"Bearer {KEY}"}


def _error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["status"] == "error"
    assert set(body) == {"status", "timestamp", "path", "error"}
    error: dict[str, Any] = body["error"]
    return error


class TestCreate:
    """`POST /v2/bookings` with `cal-api-version: 2024-08-13`."""

    async def test_created_booking_has_the_v2_output_shape(self, cal: CalClient) -> None:
        """A create answers 201 with BookingOutput_2024_08_13 fields and the metadata echoed."""
        start = cal.at(hour=13)
        response = await cal.create(start, metadata={"slotguard_reservation": "res-1"})
        assert response.status_code == 201
        assert response.headers["x-request-id"]
        body = response.json()
        assert body["status"] == "success"
        data = body["data"]
        assert isinstance(data["id"], int) and isinstance(data["uid"], str)
        assert data["status"] == "accepted"
        assert data["start"] == start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert data["end"] == (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert data["duration"] == 30 and data["eventTypeId"] == 1001
        assert data["eventType"] == {"id": 1001, "slug": "herrenhaarschnitt"}
        assert data["metadata"] == {"slotguard_reservation": "res-1"}
        assert data["attendees"] == [
            {
                "name": "Max Müller",
                "email": "max@example.de",
                "displayEmail": "max@example.de",
                "timeZone": "Europe/Berlin",
                "language": "de",
                "absent": False,
                "phoneNumber": None,
            }
        ]
        assert data["hosts"][0]["id"] == 1
        assert {"title", "createdAt", "updatedAt", "location", "bookingFieldsResponses"} <= set(
            data
        )

    async def test_phone_only_attendee_gets_the_sms_email(self, cal: CalClient) -> None:
        """A booker with only a phone number is stored as `<digits>@sms.cal.com`."""
        attendee = {"name": "Eva", "phoneNumber": "+4915112345678", "timeZone": "Europe/Berlin"}
        data = await cal.booked(cal.at(), attendee=attendee)
        assert data["attendees"][0]["email"] == "4915112345678@sms.cal.com"
        assert data["attendees"][0]["phoneNumber"] == "+4915112345678"

    async def test_second_booking_of_a_taken_slot_is_refused(self, cal: CalClient) -> None:
        """Booking the same host slot twice gives 400 with Cal.com's text and envelope."""
        start = cal.at()
        await cal.booked(start)
        response = await cal.create(
            start, attendee={"name": "B", "email": "b@example.com", "timeZone": "UTC"}
        )
        assert response.status_code == 400
        error = _error(response)
        assert error["code"] == "BadRequestException"
        assert error["message"] == UNAVAILABLE
        assert response.json()["path"] == "/v2/bookings"
        assert len(cal.emulator.bookings) == 1

    async def test_overlap_with_another_event_type_of_the_host_is_refused(
        self, cal: CalClient
    ) -> None:
        """A 60-minute booking overlapping a 30-minute one of the same host is unavailable."""
        await cal.booked(cal.at(hour=10, minute=30))
        response = await cal.create(cal.at(hour=10), eventTypeId=1002)
        assert response.status_code == 400
        assert _error(response)["message"] == UNAVAILABLE

    async def test_adjacent_bookings_are_allowed(self, cal: CalClient) -> None:
        """A booking that starts when the previous one ends is accepted."""
        await cal.booked(cal.at(hour=10))
        await cal.booked(cal.at(hour=10, minute=30))

    async def test_unknown_event_type_is_a_404(self, cal: CalClient) -> None:
        """An unknown eventTypeId answers 404 "Event type with id N not found."."""
        response = await cal.create(cal.at(), eventTypeId=4242)
        assert response.status_code == 404
        assert _error(response)["message"] == "Event type with id 4242 not found."

    async def test_past_start_is_refused(self, cal: CalClient) -> None:
        """A start in the past answers 400 and books nothing."""
        response = await cal.create(cal.at(days=-1))
        assert response.status_code == 400
        assert _error(response)["message"] == "Attempting to book a meeting in the past."
        assert cal.emulator.bookings == []

    async def test_minimum_notice_is_enforced(self, make_cal: MakeCal) -> None:
        """A start inside the minimum notice answers 400 with the out-of-bounds text."""
        cal = await make_cal(EmulatorConfig(minimum_notice_minutes=120))
        soon = datetime.now(UTC) + timedelta(minutes=30)
        response = await cal.create(soon)
        assert response.status_code == 400
        assert "too soon (violating the minimum booking notice)" in _error(response)["message"]

    async def test_outside_working_hours_is_refused(self, make_cal: MakeCal) -> None:
        """A start outside the event type's schedule is "not available"."""
        hours = {day: ("09:00", "18:00") for day in range(7)}
        event = EventTypeConfig(1001, "cut", 30, working_hours=hours, time_zone="UTC")
        cal = await make_cal(EmulatorConfig(event_types=(event,)))
        assert (await cal.create(cal.at(hour=7))).status_code == 400
        assert (await cal.create(cal.at(hour=17, minute=45))).status_code == 400
        assert (await cal.create(cal.at(hour=17, minute=30))).status_code == 201

    async def test_booker_limit_refuses_extra_active_bookings(self, make_cal: MakeCal) -> None:
        """With maxActiveBookingsPerBooker=1 a second booking by the same email is refused."""
        event = EventTypeConfig(
            1001, "cut", 30, max_active_bookings_per_booker=1, offer_reschedule=True
        )
        cal = await make_cal(EmulatorConfig(event_types=(event,)))
        first = await cal.booked(cal.at(hour=9))
        response = await cal.create(cal.at(hour=11))
        assert response.status_code == 400
        message = _error(response)["message"]
        assert message.startswith(
            "Attendee with this email can't book because the maximum number of active "
            "bookings has been reached."
        )
        assert f"({first['uid']})" in message

    async def test_length_in_minutes_needs_multiple_durations(self, make_cal: MakeCal) -> None:
        """lengthInMinutes is a 400 on single-length event types and picks the length otherwise."""
        flexible = EventTypeConfig(1005, "flex", 30, lengths=(30, 60))
        cal = await make_cal(EmulatorConfig(event_types=(flexible,)))
        assert (await cal.create(cal.at(), eventTypeId=1005, lengthInMinutes=45)).status_code == 400
        data = await cal.booked(cal.at(), eventTypeId=1005, lengthInMinutes=60)
        assert data["duration"] == 60
        plain = await make_cal(EmulatorConfig())
        assert (await plain.create(plain.at(), lengthInMinutes=30)).status_code == 400

    async def test_event_type_needing_confirmation_books_pending(self, make_cal: MakeCal) -> None:
        """An event type that requires confirmation returns status "pending"."""
        event = EventTypeConfig(1001, "cut", 30, requires_confirmation=True)
        cal = await make_cal(EmulatorConfig(event_types=(event,)))
        assert (await cal.booked(cal.at()))["status"] == "pending"


class TestValidation:
    """The ValidationPipe's 400s for bad bodies."""

    @pytest.mark.parametrize(
        "metadata",
        [
            {"n": 1},
            {"flag": True},
            {"k" * 41: "v"},
            {"k": "v" * 501},
            {f"k{i}": "v" for i in range(51)},
            ["not", "an", "object"],
        ],
    )
    async def test_invalid_metadata_is_refused(self, cal: CalClient, metadata: Any) -> None:
        """Metadata must be ≤50 string values, keys ≤40 and values ≤500 characters."""
        response = await cal.create(cal.at(), metadata=metadata)
        assert response.status_code == 400
        error = _error(response)
        assert error["code"] == "BadRequestException"
        assert error["details"]["errors"][0]["property"] == "metadata"
        assert cal.emulator.bookings == []

    async def test_metadata_at_the_limits_is_accepted(self, cal: CalClient) -> None:
        """Fifty keys of 40 characters with 500-character values are fine."""
        metadata = {f"{i:02d}".ljust(40, "k"): "v" * 500 for i in range(50)}
        assert (await cal.booked(cal.at(), metadata=metadata))["metadata"] == metadata

    @pytest.mark.parametrize("missing", ["start", "attendee"])
    async def test_missing_required_field_is_refused(self, cal: CalClient, missing: str) -> None:
        """A body without start or attendee is a 400 naming the property."""
        body = cal.body(cal.at())
        del body[missing]
        response = await cal.http.post("/v2/bookings", json=body, headers=BOOKINGS)
        assert response.status_code == 400
        assert _error(response)["details"]["errors"][0]["property"] == missing

    async def test_attendee_needs_email_or_phone(self, cal: CalClient) -> None:
        """An attendee with neither email nor phone number is refused."""
        response = await cal.create(cal.at(), attendee={"name": "A", "timeZone": "UTC"})
        assert response.status_code == 400

    async def test_missing_event_type_has_cal_com_text(self, cal: CalClient) -> None:
        """Without eventTypeId or slug+username the 400 names the alternatives."""
        body = cal.body(cal.at())
        del body["eventTypeId"]
        response = await cal.http.post("/v2/bookings", json=body, headers=BOOKINGS)
        assert response.status_code == 400
        assert _error(response)["message"].startswith("Either eventTypeId or eventTypeSlug")

    async def test_event_type_by_slug_and_username(self, cal: CalClient) -> None:
        """eventTypeSlug + username selects an event type too."""
        body = cal.body(cal.at(), eventTypeSlug="faerben", username="salon-host")
        del body["eventTypeId"]
        response = await cal.http.post("/v2/bookings", json=body, headers=BOOKINGS)
        assert response.status_code == 201
        assert response.json()["data"]["duration"] == 45

    async def test_invalid_json_is_refused(self, cal: CalClient) -> None:
        """A body that is not JSON is a 400."""
        headers = {**BOOKINGS, "content-type": "application/json"}
        response = await cal.http.post("/v2/bookings", content=b"{nope", headers=headers)
        assert response.status_code == 400


class TestRace:
    """Many parallel creates for one host slot."""

    async def test_parallel_creates_give_exactly_one_booking(self, cal: CalClient) -> None:
        """Twenty concurrent creates for one slot: one 201, nineteen "already has booking"."""
        start = cal.at()
        responses = await asyncio.gather(*(cal.create(start) for _ in range(20)))
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] + [400] * 19
        assert len(cal.emulator.bookings) == 1

    async def test_idempotency_key_race_answers_409(self, cal: CalClient) -> None:
        """When all twenty pass the availability check, the unique slot key lets one win (409s)."""
        cal.emulator.faults.race_window_ms = 800  # every request passes the check first
        start = cal.at()
        responses = await asyncio.gather(*(cal.create(start) for _ in range(20)))
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] + [409] * 19
        loser = next(response for response in responses if response.status_code == 409)
        assert _error(loser)["message"] == "booking_conflict_error"
        assert len(cal.emulator.bookings) == 1


class TestVersionHeader:
    """A missing or unknown `cal-api-version` selects the legacy 2024-04-15 controllers."""

    async def test_create_without_version_is_a_400_and_books_nothing(self, cal: CalClient) -> None:
        """The legacy create rejects a 2024-08-13 body, so a forgotten header fails loudly."""
        headers = {"Authorization": "Bearer cal_test_emulator"}
        response = await cal.create(cal.at(), headers=headers)
        assert response.status_code == 400
        assert cal.emulator.bookings == []

    async def test_unknown_version_behaves_like_a_missing_one(self, cal: CalClient) -> None:
        """An unknown version string falls back to legacy too."""
        headers = {"Authorization": "Bearer cal_test_emulator", "cal-api-version": "2099-01-01"}
        assert (await cal.create(cal.at(), headers=headers)).status_code == 400

    async def test_list_without_version_has_the_legacy_shape(self, cal: CalClient) -> None:
        """The legacy list nests bookings under data.bookings and has no pagination."""
        await cal.booked(cal.at())
        response = await cal.http.get("/v2/bookings", headers={"Authorization": "Bearer " + KEY})
        assert response.status_code == 200
        body = response.json()
        assert "pagination" not in body
        [legacy] = body["data"]["bookings"]
        assert legacy["status"] == "ACCEPTED" and "startTime" in legacy

    async def test_a_version_the_route_lacks_is_a_404(self, cal: CalClient) -> None:
        """The slots version on a bookings route matches no controller."""
        response = await cal.create(cal.at(), headers={"cal-api-version": "2024-09-04"})
        assert response.status_code == 404


class TestList:
    """`GET /v2/bookings` filters and pagination."""

    async def test_filters_select_bookings(self, cal: CalClient) -> None:
        """attendeeEmail, attendeeName, bookingUid, eventTypeId(s) and time windows filter."""
        other = {"name": "Ida Roth", "email": "ida+x@example.com", "timeZone": "UTC"}
        a = await cal.booked(cal.at(hour=9))
        b = await cal.booked(cal.at(hour=11), attendee=other, eventTypeId=1002)
        c = await cal.booked(cal.at(days=3, hour=9), eventTypeId=1003)

        async def uids(**params: Any) -> list[str]:
            response = await cal.list(**params)
            assert response.status_code == 200, response.text
            return [item["uid"] for item in response.json()["data"]]

        assert await uids(attendeeEmail="ida x@example.com") == [b["uid"]]  # space means plus
        assert await uids(attendeeName="max müller") == [a["uid"], c["uid"]]
        assert await uids(bookingUid=c["uid"]) == [c["uid"]]
        assert await uids(eventTypeId=1002) == [b["uid"]]
        assert await uids(eventTypeIds="1001,1003") == [a["uid"], c["uid"]]
        assert await uids(afterStart=a["end"], beforeEnd=b["end"]) == [b["uid"]]
        assert await uids(sortStart="desc") == [c["uid"], b["uid"], a["uid"]]
        assert await uids(afterCreatedAt=c["createdAt"]) == [c["uid"]]

    async def test_status_filter(self, cal: CalClient) -> None:
        """upcoming, past and cancelled select by time and status."""
        live = await cal.booked(cal.at(hour=9))
        gone = await cal.booked(cal.at(hour=12))
        await cal.post(f"/v2/bookings/{gone['uid']}/cancel", {})
        old = cal.emulator.book_directly(cal.at(days=-2), check=False)
        ids = {}
        for status in ("upcoming", "past", "cancelled", "upcoming,past"):
            ids[status] = [item["uid"] for item in (await cal.list(status=status)).json()["data"]]
        assert ids["upcoming"] == [live["uid"]]
        assert ids["past"] == [old.uid]
        assert ids["cancelled"] == [gone["uid"]]
        assert ids["upcoming,past"] == [old.uid, live["uid"]]

    async def test_pagination(self, cal: CalClient) -> None:
        """take/skip page through the bookings and pagination reports the position."""
        for hour in range(8, 13):
            await cal.booked(cal.at(hour=hour))
        body = (await cal.list(take=2, skip=2)).json()
        assert len(body["data"]) == 2
        assert body["pagination"] == {
            "totalItems": 5,
            "remainingItems": 1,
            "returnedItems": 2,
            "itemsPerPage": 2,
            "currentPage": 2,
            "totalPages": 3,
            "hasNextPage": True,
            "hasPreviousPage": True,
        }

    @pytest.mark.parametrize(
        "params", [{"take": 0}, {"take": 251}, {"status": "bogus"}, {"afterStart": "yesterday"}]
    )
    async def test_invalid_query_is_refused(self, cal: CalClient, params: dict[str, Any]) -> None:
        """Out-of-range take, unknown status and non-ISO dates are 400s."""
        assert (await cal.list(**params)).status_code == 400


class TestGet:
    """`GET /v2/bookings/{uid}`."""

    async def test_get_returns_the_booking(self, cal: CalClient) -> None:
        """A known uid returns the same output as the create."""
        data = await cal.booked(cal.at())
        response = await cal.http.get(f"/v2/bookings/{data['uid']}", headers=BOOKINGS)
        assert response.status_code == 200
        assert response.json()["data"] == data

    async def test_unknown_uid_is_a_404(self, cal: CalClient) -> None:
        """An unknown uid answers 404 in the error envelope."""
        response = await cal.http.get("/v2/bookings/nope", headers=BOOKINGS)
        assert response.status_code == 404
        assert _error(response)["code"] == "NotFoundException"


class TestReschedule:
    """`POST /v2/bookings/{uid}/reschedule`."""

    async def test_reschedule_creates_a_new_booking_and_cancels_the_old(
        self, cal: CalClient
    ) -> None:
        """201 with a new uid and rescheduledFromUid; the old one is cancelled and points on."""
        old = await cal.booked(cal.at(hour=9), metadata={"slotguard_reservation": "r1"})
        new_start = cal.at(hour=15)
        response = await cal.post(
            f"/v2/bookings/{old['uid']}/reschedule",
            {"start": cal.z(new_start), "reschedulingReason": "later"},
        )
        assert response.status_code == 201
        new = response.json()["data"]
        assert new["uid"] != old["uid"] and new["rescheduledFromUid"] == old["uid"]
        assert new["start"].startswith(new_start.strftime("%Y-%m-%dT%H:%M"))
        assert new["metadata"] == {"slotguard_reservation": "r1"}
        previous = cal.emulator.state.get(old["uid"])
        assert previous.status == "cancelled" and previous.rescheduled_to_uid == new["uid"]

    async def test_reschedule_into_a_taken_slot_is_refused(self, cal: CalClient) -> None:
        """Moving onto another booking of the host is "not available"."""
        first = await cal.booked(cal.at(hour=9))
        await cal.booked(cal.at(hour=10))
        response = await cal.post(
            f"/v2/bookings/{first['uid']}/reschedule", {"start": cal.z(cal.at(hour=10))}
        )
        assert response.status_code == 400
        assert _error(response)["message"] == UNAVAILABLE

    async def test_reschedule_overlapping_itself_is_allowed(self, cal: CalClient) -> None:
        """Moving a booking by 15 minutes ignores its own old time."""
        first = await cal.booked(cal.at(hour=9))
        response = await cal.post(
            f"/v2/bookings/{first['uid']}/reschedule", {"start": cal.z(cal.at(hour=9, minute=15))}
        )
        assert response.status_code == 201

    async def test_unknown_or_cancelled_booking(self, cal: CalClient) -> None:
        """An unknown uid is a 404; a cancelled booking cannot be rescheduled (400)."""
        body = {"start": cal.z(cal.at(hour=15))}
        assert (await cal.post("/v2/bookings/nope/reschedule", body)).status_code == 404
        data = await cal.booked(cal.at(hour=9))
        await cal.post(f"/v2/bookings/{data['uid']}/cancel", {})
        assert (await cal.post(f"/v2/bookings/{data['uid']}/reschedule", body)).status_code == 400


class TestCancel:
    """`POST /v2/bookings/{uid}/cancel`."""

    async def test_cancel_answers_200_and_frees_the_slot(self, cal: CalClient) -> None:
        """The cancelled booking is returned and its slot can be booked again."""
        start = cal.at()
        data = await cal.booked(start)
        response = await cal.post(
            f"/v2/bookings/{data['uid']}/cancel", {"cancellationReason": "ill"}
        )
        assert response.status_code == 200
        cancelled = response.json()["data"]
        assert cancelled["status"] == "cancelled"
        assert cancelled["cancellationReason"] == "ill"
        await cal.booked(start)

    async def test_cancelling_twice_is_a_400(self, cal: CalClient) -> None:
        """A second cancel of the same booking answers 400 (the emulator's documented choice)."""
        data = await cal.booked(cal.at())
        await cal.post(f"/v2/bookings/{data['uid']}/cancel", {})
        response = await cal.post(f"/v2/bookings/{data['uid']}/cancel", {})
        assert response.status_code == 400
        assert _error(response)["message"] == "This booking has already been cancelled."

    async def test_unknown_uid_is_a_404(self, cal: CalClient) -> None:
        """Cancelling an unknown uid answers 404."""
        assert (await cal.post("/v2/bookings/nope/cancel", {})).status_code == 404
