"""`/_emulator/*`: inspect and steer a running emulator over HTTP (no auth, loopback only)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .model import CalcomError, iso_ms
from .outputs import admin_booking
from .webhooks import Delivery, WebhookKnobs

if TYPE_CHECKING:
    from .emulator import CalcomEmulator

Endpoint = Callable[[Request], Awaitable[JSONResponse]]
_KNOB_NAMES = frozenset(field.name for field in fields(WebhookKnobs))


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "trigger": delivery.trigger,
        "url": delivery.url,
        "outcome": delivery.outcome,
        "status_code": delivery.status_code,
        "error": delivery.error,
        "sent_at": iso_ms(delivery.sent_at) if delivery.sent_at else None,
        "headers": delivery.headers,
        "body": delivery.body.decode(),
    }


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    body = json.loads(raw) if raw else {}
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def _safe(endpoint: Endpoint) -> Endpoint:
    """Bad admin input is a 400 with the reason, never a 500."""

    async def wrapped(request: Request) -> JSONResponse:
        try:
            return await endpoint(request)
        except CalcomError as error:
            return JSONResponse({"error": error.message}, status_code=error.status)
        except (ValueError, TypeError, KeyError) as error:
            return JSONResponse({"error": repr(error)}, status_code=400)

    return wrapped


class _Admin:
    """The admin endpoints of one emulator."""

    def __init__(self, emulator: CalcomEmulator) -> None:
        self.emulator = emulator

    async def requests(self, _: Request) -> JSONResponse:
        """GET /_emulator/requests: the request log."""
        records = [record.to_json() for record in self.emulator.request_log]
        return JSONResponse({"requests": records})

    async def bookings(self, request: Request) -> JSONResponse:
        """GET: every booking; POST: book "directly in Cal.com" (v2 create body + `check`)."""
        if request.method == "POST":
            body = await _json(request)
            check = bool(body.pop("check", True))
            row = self.emulator.book_directly_json(body, check=check)
            return JSONResponse({"booking": admin_booking(row)}, status_code=201)
        return JSONResponse({"bookings": [admin_booking(row) for row in self.emulator.bookings]})

    async def reset(self, _: Request) -> JSONResponse:
        """POST /_emulator/reset: back to the configuration."""
        self.emulator.reset()
        return JSONResponse({"status": "ok"})

    async def faults(self, request: Request) -> JSONResponse:
        """POST: apply `Faults.apply()` JSON; both: the current knobs."""
        if request.method == "POST":
            self.emulator.faults.apply(await _json(request))
        return JSONResponse(self.emulator.faults.snapshot())

    async def webhooks(self, request: Request) -> JSONResponse:
        """POST `{url, secret?, triggers?}` subscribes; both: subscriptions, knobs, deliveries."""
        dispatcher = self.emulator.webhooks
        if request.method == "POST":
            body = await _json(request)
            dispatcher.subscribe(body["url"], body.get("secret"), body.get("triggers"))
        return JSONResponse(
            {
                "subscriptions": [
                    {**asdict(sub), "triggers": sorted(sub.triggers)}
                    for sub in dispatcher.subscriptions
                ],
                "knobs": asdict(dispatcher.knobs),
                "deliveries": [_delivery(item) for item in dispatcher.deliveries],
            }
        )

    async def knobs(self, request: Request) -> JSONResponse:
        """POST /_emulator/webhooks/knobs: set `WebhookKnobs` fields."""
        body = await _json(request)
        unknown = body.keys() - _KNOB_NAMES
        if unknown:
            raise ValueError(f"unknown webhook knobs: {sorted(unknown)}")
        for name, value in body.items():
            setattr(self.emulator.webhooks.knobs, name, value)
        return JSONResponse(asdict(self.emulator.webhooks.knobs))

    async def release(self, request: Request) -> JSONResponse:
        """POST /_emulator/webhooks/release `{order: "fifo"|"reverse"|[indices]}`."""
        order = (await _json(request)).get("order", "fifo")
        return JSONResponse({"released": self.emulator.webhooks.release(order)})


def admin_routes(emulator: CalcomEmulator) -> list[Route]:
    """The admin routes bound to one emulator."""
    admin = _Admin(emulator)
    return [
        Route("/_emulator/requests", _safe(admin.requests), methods=["GET"]),
        Route("/_emulator/bookings", _safe(admin.bookings), methods=["GET", "POST"]),
        Route("/_emulator/reset", _safe(admin.reset), methods=["POST"]),
        Route("/_emulator/faults", _safe(admin.faults), methods=["GET", "POST"]),
        Route("/_emulator/webhooks", _safe(admin.webhooks), methods=["GET", "POST"]),
        Route("/_emulator/webhooks/knobs", _safe(admin.knobs), methods=["POST"]),
        Route("/_emulator/webhooks/release", _safe(admin.release), methods=["POST"]),
    ]
