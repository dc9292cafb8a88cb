"""The one vocabulary of reasons: what a reply, the decision log, the metrics and the spoken
messages call why something happened. The values are the external contract (docs/http-contract.md):
they appear verbatim in replies to the agent, in ``duplicate_decisions.reason`` and in metric
labels, so a value never changes once released.
"""

from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    """Why a function answered as it did, or why a layer decided as it did."""

    NONE = "none"  # a clear decision: nothing found

    # Layer 1 warnings (status ``warning``)
    SAME_DAY = "same_day"
    SAME_SERVICE_UPCOMING = "same_service_upcoming"
    # Layer 2 refusals (status ``refused``), also from a database constraint
    EXACT_DUPLICATE = "exact_duplicate"
    OVERLAPPING = "overlapping"
    DAILY_LIMIT = "daily_limit"
    # Layer 3 (decision log only)
    KNOWN_BOOKING_UID = "known_booking_uid"
    RESERVATION_MATCHED = "reservation_matched"
    EXTERNAL_DUPLICATE = "external_duplicate"

    # The calendar's refusals and availability (status ``unavailable``)
    SLOT_TAKEN = "slot_taken"
    OUT_OF_BOUNDS = "out_of_bounds"  # in the past, too soon, too far ahead, outside hours
    BOOKER_LIMIT = "booker_limit"
    INVALID = "invalid"  # the calendar rejected our request as malformed
    DAY_FULL = "day_full"  # no free slot at all on the requested day
    # The salon's rules, checked before any calendar call (domain.schedule)
    CLOSED = "closed"  # a closure or a public holiday (the reply names which)
    TOO_SOON = "too_soon"  # inside the minimum notice
    TOO_FAR = "too_far"  # beyond the booking horizon
    OFF_GRID = "off_grid"  # not on the start-time grid
    STAFF_OFF = "staff_off"  # the wished person does not work then

    # Errors (status ``error``) and waits (status ``pending``)
    INVALID_ARGUMENT = "invalid_argument"
    UNKNOWN_SERVICE = "unknown_service"
    AMBIGUOUS_SERVICE = "ambiguous_service"  # two services fit: ask which (``candidates``)
    UNKNOWN_STAFF = "unknown_staff"  # the person named does not offer the service
    UNKNOWN_TENANT = "unknown_tenant"
    CALENDAR_UNREACHABLE = "calendar_unreachable"
    CALENDAR_REFUSED = "calendar_refused"  # the calendar said no; retrying will not help
    NEEDS_CONTACT = "needs_contact"  # the calendar needs an email or phone number to book
    AVAILABILITY_UNKNOWN = "availability_unknown"  # no budget for a lookup, no earlier answer
    BUSY = "busy"  # the same request is still being processed elsewhere


# The reasons a calendar gives for definitely not booking (``CreateResult.refusal``).
CALENDAR_REFUSALS: frozenset[Reason] = frozenset(
    {
        Reason.SLOT_TAKEN,
        Reason.OUT_OF_BOUNDS,
        Reason.BOOKER_LIMIT,
        Reason.NEEDS_CONTACT,
        Reason.INVALID,
    }
)


class SuggestedAction(enum.StrEnum):
    """What the agent is asked to do next (``suggested_action`` of a reply)."""

    CONFIRM_OR_RESCHEDULE = "confirm_or_reschedule"
