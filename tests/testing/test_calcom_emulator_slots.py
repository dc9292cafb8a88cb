"""`GET /v2/slots` (cal-api-version 2024-09-04) against the contract's shape and rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slotguard.testing import EmulatorConfig, EventTypeConfig, HostConfig

if TYPE_CHECKING:
    from .conftest import CalClient, MakeCal

BERLIN = ZoneInfo("Europe/Berlin")


def _starts(body: dict[str, Any]) -> list[str]:
    return [slot["start"] for day in body["data"].values() for slot in day]


class TestSlots:
    """Slot listing by event type, range and zone."""

    async def test_slots_are_keyed_by_local_date_with_offsets(self, cal: CalClient) -> None:
        """Keys are local dates in timeZone; starts carry its offset and step by the length."""
        day = cal.at().date()
        response = await cal.slots(
            eventTypeId=1001, start=day.isoformat(), end=day.isoformat(), timeZone="Europe/Berlin"
        )
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "success"
        assert list(body["data"]) == [day.isoformat()]
        starts = [datetime.fromisoformat(text) for text in _starts(body)]
        assert len(starts) == 48  # the default host works around the clock
        assert (
            starts[0].utcoffset()
            == datetime(day.year, day.month, day.day, 12, tzinfo=BERLIN).utcoffset()
        )
        assert starts[0].astimezone(BERLIN).hour == 0
        assert starts[1] - starts[0] == timedelta(minutes=30)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00\.000\+0[12]:00", _starts(body)[0])

    async def test_booked_slot_disappears(self, cal: CalClient) -> None:
        """A booking removes the slots it overlaps, for every event type of the host."""
        start = cal.at(hour=10)
        params: dict[str, Any] = {
            "start": cal.z(start - timedelta(hours=1)),
            "end": cal.z(start + timedelta(hours=1)),
        }
        before = _starts((await cal.slots(eventTypeId=1001, **params)).json())
        assert "T10:00:00.000Z" in " ".join(before)
        await cal.booked(start)
        after = _starts((await cal.slots(eventTypeId=1001, **params)).json())
        assert len(after) == len(before) - 1
        assert all("T10:00:00.000Z" not in text for text in after)
        hour_long = _starts((await cal.slots(eventTypeId=1002, **params)).json())
        assert all("T10:00" not in text and "T09:30" not in text for text in hour_long)

    async def test_range_format_adds_end(self, cal: CalClient) -> None:
        """format=range returns start and end per slot (45-minute steps from midnight)."""
        start = cal.at(hour=9)
        response = await cal.slots(
            eventTypeId=1003,
            start=cal.z(start),
            end=cal.z(start + timedelta(minutes=1)),
            format="range",
        )
        [[slot]] = response.json()["data"].values()
        assert slot == {
            "start": cal.z(start).replace("Z", ".000Z"),
            "end": cal.z(start + timedelta(minutes=45)).replace("Z", ".000Z"),
        }

    async def test_no_slots_is_an_empty_object(self, cal: CalClient) -> None:
        """A range entirely in the past has no slots and data is {}."""
        past = cal.at(days=-3)
        response = await cal.slots(
            eventTypeId=1001, start=cal.z(past), end=cal.z(past + timedelta(hours=2))
        )
        assert response.json() == {"status": "success", "data": {}}

    async def test_schedule_in_a_zone(self, make_cal: MakeCal) -> None:
        """Working hours 09:00-18:00 Mon-Fri in Berlin give 18 half-hour slots, none at weekends."""
        hours = {day: ("09:00", "18:00") for day in range(5)}
        host = HostConfig(time_zone="Europe/Berlin", working_hours=hours)
        cal = await make_cal(
            EmulatorConfig(event_types=(EventTypeConfig(1001, "cut", 30, host=host),))
        )
        today = datetime.now(BERLIN).date()
        monday = today + timedelta(days=7 - today.weekday())
        saturday = monday + timedelta(days=5)
        body = (
            await cal.slots(
                eventTypeId=1001,
                start=monday.isoformat(),
                end=saturday.isoformat(),
                timeZone="Europe/Berlin",
            )
        ).json()
        assert sorted(body["data"]) == [(monday + timedelta(days=n)).isoformat() for n in range(5)]
        first_day = [
            datetime.fromisoformat(slot["start"]) for slot in body["data"][monday.isoformat()]
        ]
        assert len(first_day) == 18
        assert (first_day[0].hour, first_day[-1].hour, first_day[-1].minute) == (9, 17, 30)

    async def test_minimum_notice_hides_near_slots(self, make_cal: MakeCal) -> None:
        """No slot starts before now plus the minimum notice."""
        cal = await make_cal(EmulatorConfig(minimum_notice_minutes=120))
        now = datetime.now(UTC)
        body = (
            await cal.slots(eventTypeId=1001, start=cal.z(now), end=cal.z(now + timedelta(hours=5)))
        ).json()
        starts = [datetime.fromisoformat(text) for text in _starts(body)]
        assert starts and min(starts) >= now + timedelta(minutes=120)

    async def test_bad_queries(self, cal: CalClient) -> None:
        """Missing start is a 400 and an unknown event type a 404."""
        day = cal.at().date().isoformat()
        assert (await cal.slots(eventTypeId=1001, end=day)).status_code == 400
        assert (await cal.slots(eventTypeId=999, start=day, end=day)).status_code == 404
        assert (
            await cal.slots(eventTypeId=1001, start=day, end=day, timeZone="Mars/Base")
        ).status_code == 400

    async def test_without_version_header_the_legacy_shape_comes_back(self, cal: CalClient) -> None:
        """Without cal-api-version the old `{"slots": {day: [{"time"}]}}` shape is answered."""
        day = cal.at().date().isoformat()
        response = await cal.slots(headers={}, eventTypeId=1001, startTime=day, endTime=day)
        assert response.status_code == 200
        slots = response.json()["data"]["slots"]
        assert "time" in slots[day][0]
