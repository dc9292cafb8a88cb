"""The vocabulary of duplicate detection: layers, results, actions and decisions (reasons:
``domain.reasons``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from slotguard.domain.model import Appointment
from slotguard.domain.reasons import Reason


class Layer(enum.IntEnum):
    """Which of the three defence layers made a decision."""

    EARLY_WARNING = 1  # while the agent collects data
    PRE_BOOKING = 2  # before any calendar call
    POST_BOOKING = 3  # after the calendar answered or a webhook arrived


class Result(enum.StrEnum):
    """What a layer found."""

    CLEAR = "clear"
    WARNING = "warning"
    BLOCKED = "blocked"
    MERGED = "merged"  # Layer 3 matched a booking to an existing row
    FLAGGED = "flagged"  # Layer 3 kept an external booking but marked it a duplicate


class Action(enum.StrEnum):
    """What slotguard did about a decision."""

    ALLOWED = "allowed"
    WARNING = "warning"
    BLOCKED = "blocked"
    OVERRIDDEN = "overridden"  # the agent confirmed a same-day warning with confirm_duplicate
    LINKED = "linked"
    IGNORED = "ignored"
    FLAGGED = "flagged"


@dataclass(frozen=True, slots=True)
class Decision:
    """One outcome of a layer for one request, with the appointments that caused it."""

    layer: Layer
    result: Result
    reason: Reason
    action: Action
    existing: tuple[Appointment, ...] = field(default=())

    @property
    def first_existing(self) -> Appointment | None:
        """The appointment to name to the caller, if any."""
        return self.existing[0] if self.existing else None


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """What the caller asks for: customer, service and an aware start and end."""

    company_id: int
    customer_id: int
    service_id: int
    start: datetime
    end: datetime
    ignore_appointment_id: int | None = None  # the appointment being rescheduled
    # Other people whose appointments count as this person's: they gave the same email. An
    # unverified email may warn and refuse, never reveal or open their appointments.
    same_email: frozenset[int] = frozenset()
