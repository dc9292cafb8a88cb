"""Cal.com webhooks: signature check, event storage, and Layer 3 application."""

from slotguard.calcom_webhooks.apply import apply_booking, apply_event, apply_pending_events
from slotguard.calcom_webhooks.signature import verify
from slotguard.calcom_webhooks.store import StoredEvent, store_event

__all__ = [
    "StoredEvent",
    "apply_booking",
    "apply_event",
    "apply_pending_events",
    "store_event",
    "verify",
]
