"""Cal.com webhooks: signature check, payload parsing into a CalendarBooking, the event inbox.

Applying an event (Layer 3) is ``booking.calcom_events`` / ``booking.layer3``.
"""

from slotguard.calcom_webhooks.inbox import StoredEvent, store_event, unapplied
from slotguard.calcom_webhooks.payload import BookingPayload, WebhookBody
from slotguard.calcom_webhooks.signature import verify

__all__ = ["BookingPayload", "StoredEvent", "WebhookBody", "store_event", "unapplied", "verify"]
