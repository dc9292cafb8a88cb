"""`CalcomEmulator`: the Python handle tests hold while its `.app` serves on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette

from .app import build_app
from .config import EmulatorConfig, WebhookSubscription
from .faults import Faults
from .model import Booking, iso_ms
from .ratelimit import RateLimiter
from .requestlog import RecordedRequest, RequestLog
from .routes import announce_created
from .state import BookingStore
from .validation import parse_create
from .webhooks import WebhookDispatcher


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CalcomEmulator:
    """A Cal.com API v2 emulator; serve `.app` with `serve_in_thread` and steer it from here.

    `state` holds the bookings, `requests` the request log, `faults` the fault knobs and
    `webhooks` the subscriptions, knobs and delivery log. Everything is safe to use from
    the test's thread while the server runs in its own.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.clock = clock
        self.state = BookingStore(self.config, clock)
        self.faults = Faults()
        self.webhooks = WebhookDispatcher(self.config.webhooks, clock)
        self.requests = RequestLog()
        self.rate_limiter = RateLimiter(
            self.config.rate_limit, self.config.rate_limit_window_seconds
        )
        self._app: Starlette | None = None

    @property
    def app(self) -> Starlette:
        """The ASGI application (built once)."""
        if self._app is None:
            self._app = build_app(self)
        return self._app

    @property
    def bookings(self) -> list[Booking]:
        """Every booking, oldest first (copies)."""
        return self.state.bookings

    @property
    def request_log(self) -> list[RecordedRequest]:
        """Every `/v2` request, in arrival order."""
        return self.requests.items

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests match, e.g. `count("POST", "/v2/bookings")` for creates."""
        return self.requests.count(method, path)

    def subscribe_webhook(
        self, url: str, secret: str | None = None, triggers: Iterable[str] | None = None
    ) -> WebhookSubscription:
        """Add a webhook subscriber (all booking triggers unless given)."""
        return self.webhooks.subscribe(url, secret, triggers)

    def book_directly(
        self,
        start: datetime | str,
        *,
        event_type_id: int = 1001,
        name: str = "Website Booker",
        email: str | None = "website.booker@example.com",
        phone_number: str | None = None,
        time_zone: str = "UTC",
        metadata: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> Booking:
        """Book as a person on the Cal.com website would: no HTTP, but the webhook fires.

        With `check=False` the availability rules are skipped (the unique slot key is not).
        """
        body: dict[str, Any] = {
            "start": start if isinstance(start, str) else iso_ms(start),
            "eventTypeId": event_type_id,
            "attendee": {
                "name": name,
                "timeZone": time_zone,
                "email": email,
                "phoneNumber": phone_number,
            },
            "metadata": dict(metadata) if metadata is not None else None,
        }
        return self.book_directly_json(body, check=check)

    def book_directly_json(self, body: Mapping[str, Any], *, check: bool = True) -> Booking:
        """`book_directly` from a `POST /v2/bookings`-shaped body (400/404 as `CalcomError`)."""
        row = self.state.create_now(parse_create(dict(body)), check=check)
        announce_created(self, row)
        return row

    def reset(self) -> None:
        """Back to the configuration: no bookings, requests, faults, counters or deliveries."""
        self.state.clear()
        self.requests.clear()
        self.faults.clear()
        self.rate_limiter.reset()
        self.webhooks.reset(self.config.webhooks)
