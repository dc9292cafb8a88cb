"""The booking domain: entities, the duplicate rules and their vocabulary. Standard library only."""

from slotguard.domain.decisions import (
    Action,
    BookingRequest,
    Decision,
    Layer,
    Reason,
    Result,
)
from slotguard.domain.model import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Company,
    Customer,
    Language,
    OpeningHours,
    Service,
    TimeRange,
    local_day,
    local_day_bounds,
)
from slotguard.domain.rules import early_warning, refusal, search_window

__all__ = [
    "ACTIVE_STATUSES",
    "Action",
    "Appointment",
    "AppointmentSource",
    "AppointmentStatus",
    "BookingRequest",
    "Company",
    "Customer",
    "Decision",
    "Language",
    "Layer",
    "OpeningHours",
    "Reason",
    "Result",
    "Service",
    "TimeRange",
    "early_warning",
    "local_day",
    "local_day_bounds",
    "refusal",
    "search_window",
]
