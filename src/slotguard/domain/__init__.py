"""The booking domain: entities, the duplicate rules and their vocabulary. Standard library only."""

from slotguard.domain.decisions import (
    Action,
    BookingRequest,
    Decision,
    Layer,
    Result,
)
from slotguard.domain.lifecycle import (
    TRANSITIONS,
    IllegalTransition,
    allowed_from,
    can_transition,
    check_transition,
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
from slotguard.domain.people import fold, name_key, pick
from slotguard.domain.reasons import CALENDAR_REFUSALS, Reason, SuggestedAction
from slotguard.domain.rules import early_warning, refusal, search_window

__all__ = [
    "ACTIVE_STATUSES",
    "CALENDAR_REFUSALS",
    "TRANSITIONS",
    "Action",
    "Appointment",
    "AppointmentSource",
    "AppointmentStatus",
    "BookingRequest",
    "Company",
    "Customer",
    "Decision",
    "IllegalTransition",
    "Language",
    "Layer",
    "OpeningHours",
    "Reason",
    "Result",
    "Service",
    "SuggestedAction",
    "TimeRange",
    "allowed_from",
    "can_transition",
    "check_transition",
    "early_warning",
    "fold",
    "local_day",
    "local_day_bounds",
    "name_key",
    "pick",
    "refusal",
    "search_window",
]
