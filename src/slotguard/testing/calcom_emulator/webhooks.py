"""Signed webhook delivery like Cal.com's direct mode: once, no retry, failures only logged.

Deliveries run as asyncio tasks on the emulator's server loop, so a booking's response is
never held up by its webhook. `emit()` may be called from any thread (tests book
"directly in Cal.com" from theirs). Knobs: `delay_seconds`, `drop`, `duplicate`, and
`hold` + `release(order)` to deliver out of order.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import httpx

from .config import BOOKING_TRIGGERS, WebhookSubscription
from .model import iso_ms
from .webhook_payload import WEBHOOK_VERSION

logger = logging.getLogger(__name__)
NO_SECRET = "no-secret-provided"  # noqa: S105 - the literal Cal.com sends when no secret is set
FINISHED = frozenset({"delivered", "failed"})


@dataclass
class Delivery:
    """One attempt to POST one webhook body to one subscriber."""

    trigger: str
    url: str
    body: bytes
    headers: dict[str, str]
    outcome: str = "pending"  # pending | held | dropped | delivered | failed
    status_code: int | None = None
    error: str | None = None
    sent_at: datetime | None = None

    @property
    def payload(self) -> dict[str, Any]:
        """The decoded `payload` object."""
        decoded: dict[str, Any] = json.loads(self.body)["payload"]
        return decoded


@dataclass
class WebhookKnobs:
    """Delivery faults; all off by default."""

    delay_seconds: float = 0.0
    drop: bool = False  # log the delivery as dropped, never send it
    duplicate: bool = False  # send every body twice, as a tasker retry would
    hold: bool = False  # keep deliveries until `release()`
    timeout_seconds: float = 5.0


def sign(secret: str | None, body: bytes) -> str:
    """`X-Cal-Signature-256`: hex HMAC-SHA256 of the exact body, or `no-secret-provided`."""
    if secret is None:
        return NO_SECRET
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(trigger: str, created_at: datetime, payload: dict[str, Any]) -> bytes:
    """`JSON.stringify({triggerEvent, createdAt, payload})`: compact, non-ASCII kept."""
    envelope = {"triggerEvent": trigger, "createdAt": iso_ms(created_at), "payload": payload}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


def _in_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


class WebhookDispatcher:
    """Subscriptions, the delivery log and the background senders of one emulator."""

    def __init__(
        self, subscriptions: Iterable[WebhookSubscription], clock: Callable[[], datetime]
    ) -> None:
        self.knobs = WebhookKnobs()
        self._clock = clock
        self._lock = threading.Lock()
        self._subscriptions = list(subscriptions)
        self._log: list[Delivery] = []
        self._held: list[Delivery] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def subscriptions(self) -> list[WebhookSubscription]:
        """Current subscribers."""
        with self._lock:
            return list(self._subscriptions)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery so far, in the order they were emitted."""
        with self._lock:
            return list(self._log)

    def subscribe(
        self, url: str, secret: str | None = None, triggers: Iterable[str] | None = None
    ) -> WebhookSubscription:
        """Add a subscriber (all booking triggers unless `triggers` is given)."""
        chosen = BOOKING_TRIGGERS if triggers is None else frozenset(triggers)
        subscription = WebhookSubscription(url, secret, chosen)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def reset(self, subscriptions: Iterable[WebhookSubscription]) -> None:
        """Back to the configured subscribers, default knobs, an empty log."""
        with self._lock:
            self._subscriptions = list(subscriptions)
            self._log.clear()
            self._held.clear()
        self.knobs = WebhookKnobs()

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the server loop that sends deliveries."""
        if self._loop is not loop:
            self._loop, self._client = loop, None

    def emit(self, trigger: str, payload: dict[str, Any]) -> list[Delivery]:
        """Queue `trigger` for every matching subscriber; returns the new log entries."""
        knobs, created = self.knobs, []
        body = encode(trigger, self._clock(), payload)
        for subscription in self.subscriptions:
            if trigger not in subscription.triggers:
                continue
            delivery = Delivery(trigger, subscription.url, body, self._headers(subscription, body))
            copies = [delivery, replace(delivery)] if knobs.duplicate else [delivery]
            created.extend(copies)
            self._queue(copies, knobs)
        return created

    def release(self, order: Literal["fifo", "reverse"] | Sequence[int] = "fifo") -> int:
        """Send held deliveries one after another in `order` (or a permutation of indices)."""
        with self._lock:
            held = self._held
            if order == "fifo":
                ordered = list(held)
            elif order == "reverse":
                ordered = held[::-1]
            elif not isinstance(order, str) and sorted(order) == list(range(len(held))):
                ordered = [held[index] for index in order]
            else:
                raise ValueError(f"order must be fifo, reverse or a permutation of {len(held)}")
            self._held = []
        for delivery in ordered:
            delivery.outcome = "pending"
        self._schedule(ordered, 0.0)
        return len(ordered)

    async def wait_for(self, count: int, seconds: float = 5.0) -> list[Delivery]:
        """Wait (in the caller's loop) until `count` deliveries have finished."""
        deadline = time.monotonic() + seconds
        while True:
            done = [delivery for delivery in self.deliveries if delivery.outcome in FINISHED]
            if len(done) >= count:
                return done
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(done)} of {count} webhook deliveries finished")
            await asyncio.sleep(0.01)

    async def aclose(self) -> None:
        """Cancel unfinished sends and close the HTTP client (server shutdown)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        self._client, self._loop = None, None

    def _headers(self, subscription: WebhookSubscription, body: bytes) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Cal-Signature-256": sign(subscription.secret, body),
            "X-Cal-Webhook-Version": WEBHOOK_VERSION,
        }

    def _queue(self, copies: list[Delivery], knobs: WebhookKnobs) -> None:
        with self._lock:
            self._log.extend(copies)
            if knobs.drop:
                for delivery in copies:
                    delivery.outcome = "dropped"
                return
            if knobs.hold:
                for delivery in copies:
                    delivery.outcome = "held"
                self._held.extend(copies)
                return
        self._schedule(copies, knobs.delay_seconds)

    def _schedule(self, deliveries: list[Delivery], delay: float) -> None:
        loop = self._loop
        if not deliveries:
            return
        if loop is None or loop.is_closed():
            self._fail(deliveries, "emulator is not serving")
            return
        if _in_loop(loop):
            self._start(deliveries, delay)
            return
        try:
            loop.call_soon_threadsafe(self._start, deliveries, delay)
        except RuntimeError:  # the loop closed in between
            self._fail(deliveries, "emulator is not serving")

    def _start(self, deliveries: list[Delivery], delay: float) -> None:
        task = asyncio.get_running_loop().create_task(self._send_all(deliveries, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_all(self, deliveries: list[Delivery], delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        for delivery in deliveries:  # one after another: the order is part of the test
            await self._send(delivery)

    async def _send(self, delivery: Delivery) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False)
        delivery.sent_at = self._clock()
        try:
            response = await self._client.post(
                delivery.url,
                content=delivery.body,
                headers=delivery.headers,
                timeout=self.knobs.timeout_seconds,
            )
        except httpx.HTTPError as error:
            delivery.outcome, delivery.error = "failed", repr(error)
            logger.warning("webhook %s to %s failed: %r", delivery.trigger, delivery.url, error)
            return
        delivery.status_code = response.status_code
        delivery.outcome = "delivered" if response.is_success else "failed"

    def _fail(self, deliveries: list[Delivery], reason: str) -> None:
        for delivery in deliveries:
            delivery.outcome, delivery.error = "failed", reason
