"""The one place where a database constraint violation becomes a domain refusal reason."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from slotguard.domain import Reason
from slotguard.store.tables import ACTIVE_SLOT_INDEX, NO_OVERLAP_CONSTRAINT

# SQLite names the columns, not the index, in its message.
_SQLITE_ACTIVE_SLOT = (
    "UNIQUE constraint failed: appointments.customer_id, appointments.service_id, "
    "appointments.starts_at"
)


def refusal_reason(error: IntegrityError) -> Reason | None:
    """The Layer 2 reason a violated appointment constraint stands for, or None if unrelated."""
    message = str(error.orig)
    if ACTIVE_SLOT_INDEX in message or _SQLITE_ACTIVE_SLOT in message:
        return Reason.EXACT_DUPLICATE
    if NO_OVERLAP_CONSTRAINT in message:
        return Reason.OVERLAPPING
    return None
