"""Cal.com API v2 behind the CalendarProvider protocol (docs/calcom-and-retell-facts.md §2).

Every ``httpx`` exception is translated here and nowhere else (``HTTPX_ERRORS``):

* a create or reschedule returns a ``CreateResult`` value: BOOKED; REFUSED (Cal.com definitely
  did not book); AMBIGUOUS (408, 409, 5xx, timeout, connection or protocol error,
  unparseable 2xx: it may exist, the caller settles it with ``find_booking``; never retried);
* a create or reschedule raises ``CalendarUnreachable`` only when it was **never booked**: not
  sent (no room in the rate budget within ``RetryPolicy.send_wait``, no connection made) or
  refused by Cal.com's throttler (429) before any handler ran; the row may be marked failed;
* reads (slots, list, get, event types, cancel) retry 408/429/5xx and transport errors with
  backoff and jitter, bounded by ``RetryPolicy``, then raise ``CalendarUnreachable``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from slotguard.calendar.calcom_http import (
    HTTPX_ERRORS,
    NOT_SENT_ERRORS,
    ApiCall,
    CalcomClient,
    Observe,
    SendFailed,
    json_or_none,
)
from slotguard.calendar.calcom_schemas import (
    AttendeeIn,
    BookingEnvelope,
    BookingListEnvelope,
    CancelIn,
    CreateBookingIn,
    EventTypeOut,
    EventTypesEnvelope,
    RescheduleIn,
    SlotsEnvelope,
    classify_create,
    error_text,
    refused,
)
from slotguard.calendar.provider import (
    RESERVATION_METADATA_KEY,
    CalendarBooking,
    CalendarUnreachable,
    CreateBooking,
    CreateOutcome,
    CreateResult,
)
from slotguard.calendar.ratelimit import BudgetExhausted, Priority
from slotguard.domain import Reason, TimeRange
from slotguard.observability import get_logger

# cal-api-version per controller. A missing or unknown value silently falls back to the
# legacy 2024-04-15 controllers with another shape (docs/calcom-and-retell-facts.md §2.1), so each
# one is pinned.
BOOKINGS_VERSION = "2024-08-13"  # 2026-02-25 exists but broke integrations (calcom#28762)
SLOTS_VERSION = "2024-09-04"  # the slots controller with start/end/timeZone and dated keys
EVENT_TYPES_VERSION = "2024-06-14"  # the event-types output with lengthInMinutes
# find_booking looks this far around the span: Cal.com's end follows the event type's
# length, which may differ from our service's duration.
FIND_SLACK = timedelta(hours=12)
FIND_MAX_PAGES = 20  # beyond this find_booking cannot tell: CalendarUnreachable, never None
MAX_PAGE_SIZE = 250  # the largest `take` Cal.com accepts; find uses it to save budget
THROTTLED = 429  # Cal.com's ThrottlerGuard answer (docs/calcom-and-retell-facts.md §2.9)
_log = get_logger("calcom")
_Shape = TypeVar("_Shape", bound=BaseModel)

__all__ = ["HTTPX_ERRORS", "NOT_SENT_ERRORS", "CalcomCalendar", "CalcomClient"]


def _utc(moment: datetime) -> str:
    """ISO 8601 in UTC with ``Z``, as Cal.com wants ``start`` (docs/calcom-and-retell-facts.md
    §2.2)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _email(address: str) -> str:
    """One spelling of an attendee's email in every create."""
    return address.strip().lower()


def _parse(call: ApiCall, shape: type[_Shape], payload: Any) -> _Shape:
    try:
        return shape.model_validate(payload)
    except ValueError as problem:
        raise CalendarUnreachable(f"{call.endpoint}: unreadable answer: {problem}") from problem


class CalcomCalendar:
    """CalendarProvider for one company's Cal.com account (one API key)."""

    name = "calcom"

    def __init__(
        self,
        client: CalcomClient,
        api_key: str,
        *,
        observe: Observe | None = None,
        read_priority: Priority = Priority.READ,
    ):
        self._client = client
        self._api_key = api_key
        self._read_priority = read_priority  # BACKGROUND for the periodic sync
        self._observe: Observe = observe or (lambda _endpoint, _outcome, _seconds: None)

    def with_read_priority(self, priority: Priority) -> CalcomCalendar:
        """The same calendar whose reads take ``priority`` in the key's budget."""
        return CalcomCalendar(
            self._client, self._api_key, observe=self._observe, read_priority=priority
        )

    async def free_slots(
        self,
        *,
        window: TimeRange,
        duration_minutes: int,
        event_type_id: int | None,
        staff_key: str | None = None,
        buffer: timedelta = timedelta(0),
    ) -> list[datetime]:
        """Starts (aware UTC) in ``window`` where ``duration_minutes`` still fit inside it.

        The person and their buffer are the event type's own (``staff_key``, ``buffer`` unused).
        """
        if event_type_id is None:
            raise CalendarUnreachable("Cal.com slots need an event type id (tenants file)")
        params = {"eventTypeId": str(event_type_id), "start": _utc(window.start),
                  "end": _utc(window.end), "timeZone": "UTC"}  # fmt: skip
        call = ApiCall("GET", "/v2/slots", SLOTS_VERSION, "slots", params)
        days = _parse(call, SlotsEnvelope, await self._read_ok(call)).data
        length = timedelta(minutes=duration_minutes)
        starts = {slot.start.astimezone(UTC) for slots in days.values() for slot in slots}
        return sorted(s for s in starts if window.start <= s and s + length <= window.end)

    async def create_booking(self, request: CreateBooking) -> CreateResult:
        """Send one create, never retried; raises CalendarUnreachable only if never sent."""
        if request.event_type_id is None:
            return refused(Reason.INVALID, "no Cal.com event type id for this service")
        if not (request.attendee_email or request.attendee_phone):
            return refused(Reason.INVALID, "attendee needs an email or a phone number")
        attendee = AttendeeIn(
            name=request.attendee_name,
            time_zone=request.time_zone,
            language=request.language,
            email=_email(request.attendee_email) if request.attendee_email else None,
            phone_number=request.attendee_phone or None,  # phone-only: no placeholder email
        )
        body = CreateBookingIn(
            start=_utc(request.span.start),
            event_type_id=request.event_type_id,
            attendee=attendee,
            metadata={RESERVATION_METADATA_KEY: request.reservation_key},
        ).wire()
        create = ApiCall("POST", "/v2/bookings", BOOKINGS_VERSION, "bookings.create",
                         json=body, priority=Priority.WRITE)  # fmt: skip
        return await self._write(create)

    async def find_booking(self, request: CreateBooking) -> CalendarBooking | None:
        """The booking carrying ``request.reservation_key``; None only when definitely absent.

        Lists the event type's bookings around the slot and matches our key alone: the attendee
        Cal.com holds may differ from the one we know now, and a lookup narrowed by it would
        miss the booking (and lose it, or double it if the create were sent again).
        """
        params = {"afterStart": _utc(request.span.start - FIND_SLACK),
                  "beforeEnd": _utc(request.span.end + FIND_SLACK)}  # fmt: skip
        if request.event_type_id is not None:
            params["eventTypeId"] = str(request.event_type_id)
        found = [
            booking
            async for booking in self._pages(params, MAX_PAGE_SIZE, max_pages=FIND_MAX_PAGES)
            if booking.reservation_key == request.reservation_key
        ]
        return next((b for b in found if b.is_active), found[0] if found else None)

    async def reschedule_booking(
        self, uid: str, new_span: TimeRange, request: CreateBooking
    ) -> CreateResult:
        """Move a booking; Cal.com answers with a new booking (new uid, ``rescheduledFromUid``)."""
        body = RescheduleIn(start=_utc(new_span.start)).wire()
        path = f"/v2/bookings/{uid}/reschedule"
        move = ApiCall("POST", path, BOOKINGS_VERSION, "bookings.reschedule", json=body,
                       priority=Priority.WRITE)  # fmt: skip
        return await self._write(move)

    async def cancel_booking(self, uid: str, reason: str) -> None:
        """Cancel; a booking already cancelled (or unknown to Cal.com, 404) is not an error."""
        body = CancelIn(cancellation_reason=reason or None).wire()
        path = f"/v2/bookings/{uid}/cancel"
        call = ApiCall(
            "POST", path, BOOKINGS_VERSION, "bookings.cancel", json=body, priority=Priority.WRITE
        )
        response = await self._client.read(call, self._api_key, self._observe)
        if response.is_success or response.status_code == 404:
            return
        text = error_text(json_or_none(response))
        if response.status_code == 400:
            if "already" in text.lower() and "cancel" in text.lower():
                return
            current = await self.get_booking(uid)  # that 400 text is UNVERIFIED upstream
            if current is None or current.status == "cancelled":
                return
        _log.error("calcom_cancel_refused", uid=uid, status=response.status_code, detail=text)
        raise CalendarUnreachable(f"bookings.cancel: HTTP {response.status_code}: {text}")

    async def get_booking(self, uid: str) -> CalendarBooking | None:
        """One booking by uid, or None when Cal.com does not know it (404)."""
        call = ApiCall("GET", f"/v2/bookings/{uid}", BOOKINGS_VERSION, "bookings.get")
        response = await self._client.read(call, self._api_key, self._observe)
        if response.status_code == 404:
            return None
        return _parse(call, BookingEnvelope, self._ok_payload(call, response)).first.to_booking()

    async def list_bookings(
        self, after_start: datetime, before_end: datetime, page_size: int = 100
    ) -> AsyncIterator[CalendarBooking]:
        """Every booking with start ≥ ``after_start`` and end ≤ ``before_end``, page by page."""
        params = {"afterStart": _utc(after_start), "beforeEnd": _utc(before_end)}
        async for booking in self._pages(params, page_size, max_pages=None):
            yield booking

    async def event_types(self) -> list[EventTypeOut]:
        """The account's event types (id, slug, title, length), for a CLI listing."""
        call = ApiCall("GET", "/v2/event-types", EVENT_TYPES_VERSION, "event_types")
        return _parse(call, EventTypesEnvelope, await self._read_ok(call)).data

    # -- private -------------------------------------------------------------------------------

    async def _write(self, call: ApiCall) -> CreateResult:
        """Send a create or reschedule once and classify the answer."""
        try:
            response = await self._client.send_once(call, self._api_key, self._observe)
        except BudgetExhausted as problem:
            raise CalendarUnreachable(f"{call.endpoint}: not sent: {problem}") from problem
        except SendFailed as problem:
            if isinstance(problem.__cause__, NOT_SENT_ERRORS):
                # No connection was made, so no byte of the request left: nothing was booked.
                raise CalendarUnreachable(f"{call.endpoint}: not sent: {problem}") from problem
            result = CreateResult(CreateOutcome.AMBIGUOUS, detail=str(problem))
        else:
            if response.status_code == THROTTLED:
                # Cal.com's throttler refuses before any handler runs: nothing was booked.
                raise CalendarUnreachable(f"{call.endpoint}: not sent: rate limited by Cal.com")
            result = classify_create(response.status_code, json_or_none(response))
        if result.detail.startswith("misconfiguration"):
            emit = _log.error
        else:
            emit = _log.warning if result.outcome is CreateOutcome.AMBIGUOUS else _log.info
        emit(
            "calcom_write", endpoint=call.endpoint, outcome=result.outcome.value,
            refusal=result.refusal.value if result.refusal else None, detail=result.detail,
        )  # fmt: skip
        return result

    async def _read_ok(self, call: ApiCall) -> Any:
        """A read's JSON body after retries; CalendarUnreachable unless it was a 2xx."""
        return self._ok_payload(call, await self._client.read(call, self._api_key, self._observe))

    def _ok_payload(self, call: ApiCall, response: httpx.Response) -> Any:
        if response.is_success:
            return json_or_none(response)
        if response.status_code in (401, 403):
            _log.error("calcom_misconfigured", endpoint=call.endpoint, status=response.status_code)
        text = error_text(json_or_none(response))
        raise CalendarUnreachable(f"{call.endpoint}: HTTP {response.status_code}: {text}")

    async def _pages(
        self, params: dict[str, str], page_size: int, *, max_pages: int | None
    ) -> AsyncIterator[CalendarBooking]:
        """Walk ``GET /v2/bookings`` by take/skip, oldest created first, so paging skips none."""
        skip, pages, page_size = 0, 0, max(1, min(page_size, MAX_PAGE_SIZE))
        while True:
            query = {**params, "sortCreated": "asc", "take": str(page_size), "skip": str(skip)}
            call = ApiCall("GET", "/v2/bookings", BOOKINGS_VERSION, "bookings.list", query,
                           priority=self._read_priority)  # fmt: skip
            listing = _parse(call, BookingListEnvelope, await self._read_ok(call))
            bookings = [item.to_booking() for item in listing.data]
            for booking in bookings:
                yield booking
            more = listing.pagination.has_next_page if listing.pagination else None
            if not bookings or more is False or (more is None and len(bookings) < page_size):
                return
            skip, pages = skip + len(bookings), pages + 1
            if max_pages is not None and pages >= max_pages:
                raise CalendarUnreachable(f"bookings.list: more than {max_pages} pages")
