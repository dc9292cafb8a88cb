"""An in-memory Cal.com API v2 emulator served over real HTTP, for tests and local runs.

Shapes and texts follow shared/contracts/retell-and-calcom.md. Where Cal.com's behaviour
is UNVERIFIED there, the emulator chooses, and says so here:

- Missing/unknown `cal-api-version`: legacy 2024-04-15. Create answers 400 (the legacy
  input wants `responses`), reschedule 404, list/get/cancel/slots answer legacy shapes.
- The `idempotencyKey` race: 409 `{"error": {"code": "ConflictException",
  "message": "booking_conflict_error"}}` in the usual envelope.
- Reschedule carries `metadata` over to the new booking.
- Cancelling a cancelled booking: 400 "This booking has already been cancelled.";
  rescheduling one: 400 "Cannot reschedule a cancelled booking".
- `X-RateLimit-Reset-Default` is seconds until the window (or block) ends; an unknown
  `cal_` key is a 401 from the throttler, before counting, without rate-limit headers.
- Webhook `payload.metadata` is the request metadata; `responses.email.value` is "" for a
  phone-only booker (input.service.ts), while `attendees[0].email` is the sms address.
"""

from .config import (
    BOOKING_TRIGGERS,
    DEFAULT_API_KEY,
    EmulatorConfig,
    EventTypeConfig,
    HostConfig,
    WebhookSubscription,
    default_event_types,
)
from .emulator import CalcomEmulator
from .faults import Faults
from .model import Attendee, Booking, CalcomError
from .pipeline import ABORT_EXTENSION
from .requestlog import RecordedRequest
from .webhooks import Delivery, WebhookKnobs, sign

__all__ = [
    "ABORT_EXTENSION",
    "BOOKING_TRIGGERS",
    "DEFAULT_API_KEY",
    "Attendee",
    "Booking",
    "CalcomEmulator",
    "CalcomError",
    "Delivery",
    "EmulatorConfig",
    "EventTypeConfig",
    "Faults",
    "HostConfig",
    "RecordedRequest",
    "WebhookKnobs",
    "WebhookSubscription",
    "default_event_types",
    "sign",
]
