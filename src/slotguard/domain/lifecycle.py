"""The appointment lifecycle as data: which status may follow which.

Every status write of the store goes through ``allowed_from``/``check_transition``, so a row
can only move along an edge of ``TRANSITIONS``; the database update carries the allowed
origins in its WHERE clause, so a concurrent writer that got there first simply wins.

    pending ──► booked | failed | cancelled | rescheduled
    scheduled / confirmed / booked ──► cancelled | rescheduled | failed | completed | no_show
    failed ──► booked           the calendar did book after all (webhook, reconciler)
    rescheduled ──► booked | scheduled | confirmed   the move failed: the old row holds again
    cancelled, completed, no_show: final
"""

from __future__ import annotations

from collections.abc import Iterable

from slotguard.domain.model import AppointmentStatus

_S = AppointmentStatus
# What a row that holds a booking in the calendar may become.
_HELD_ENDS = frozenset({_S.CANCELLED, _S.RESCHEDULED, _S.FAILED, _S.COMPLETED, _S.NO_SHOW})

TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    _S.PENDING: frozenset({_S.BOOKED, _S.FAILED, _S.CANCELLED, _S.RESCHEDULED}),
    _S.SCHEDULED: _HELD_ENDS,
    _S.CONFIRMED: _HELD_ENDS,
    _S.BOOKED: _HELD_ENDS,
    _S.FAILED: frozenset({_S.BOOKED}),
    _S.RESCHEDULED: frozenset({_S.BOOKED, _S.SCHEDULED, _S.CONFIRMED}),
    _S.CANCELLED: frozenset(),
    _S.COMPLETED: frozenset(),
    _S.NO_SHOW: frozenset(),
}

# The statuses a row is created in: pending by the agent, the others when mirroring a
# booking made elsewhere (an ended one is mirrored ended).
INITIAL: frozenset[AppointmentStatus] = frozenset(
    {_S.PENDING, _S.SCHEDULED, _S.BOOKED, _S.CANCELLED, _S.FAILED}
)


class IllegalTransition(ValueError):
    """A status change the lifecycle does not allow (a programming error, not bad input)."""

    def __init__(self, current: AppointmentStatus | None, new: AppointmentStatus) -> None:
        start = "start as" if current is None else f"go from {current.value} to"
        super().__init__(f"an appointment may not {start} {new.value}")
        self.current = current
        self.new = new


def can_transition(current: AppointmentStatus, new: AppointmentStatus) -> bool:
    """True when a row in ``current`` may become ``new``."""
    return new in TRANSITIONS[current]


def check_transition(current: AppointmentStatus, new: AppointmentStatus) -> None:
    """Raise IllegalTransition unless a row in ``current`` may become ``new``."""
    if not can_transition(current, new):
        raise IllegalTransition(current, new)


def check_initial(status: AppointmentStatus) -> None:
    """Raise IllegalTransition unless a new row may start in ``status``."""
    if status not in INITIAL:
        raise IllegalTransition(None, status)


def allowed_from(
    new: AppointmentStatus, only_from: Iterable[AppointmentStatus] | None = None
) -> frozenset[AppointmentStatus]:
    """The statuses a row may be in to become ``new``: all legal origins, or ``only_from``
    after checking that each of them is one (raises IllegalTransition)."""
    if only_from is None:
        return frozenset(s for s in AppointmentStatus if can_transition(s, new))
    chosen = frozenset(only_from)
    for current in chosen:
        check_transition(current, new)
    return chosen
