"""The appointment lifecycle: which status may follow which, as pure data."""

from __future__ import annotations

import pytest

from slotguard.domain import (
    ACTIVE_STATUSES,
    TRANSITIONS,
    AppointmentStatus,
    IllegalTransition,
    allowed_from,
    can_transition,
    check_transition,
)
from slotguard.domain.lifecycle import INITIAL, check_initial

S = AppointmentStatus
FINAL = (S.CANCELLED, S.COMPLETED, S.NO_SHOW)


class TestTransitions:
    """The edges of the lifecycle."""

    def test_every_status_has_a_row(self) -> None:
        """The table names every status, so no status is forgotten."""
        assert set(TRANSITIONS) == set(AppointmentStatus)

    @pytest.mark.parametrize("new", [S.BOOKED, S.FAILED, S.CANCELLED])
    def test_pending_settles(self, new: AppointmentStatus) -> None:
        """A pending row becomes booked, failed or cancelled."""
        assert can_transition(S.PENDING, new)

    @pytest.mark.parametrize("new", [S.CANCELLED, S.RESCHEDULED, S.COMPLETED, S.NO_SHOW])
    def test_booked_ends(self, new: AppointmentStatus) -> None:
        """A booked row is cancelled, moved, completed or a no-show."""
        assert can_transition(S.BOOKED, new)

    def test_failed_is_revived_only_as_booked(self) -> None:
        """A failed row comes back only when the calendar did book it after all."""
        assert [s for s in S if can_transition(S.FAILED, s)] == [S.BOOKED]

    @pytest.mark.parametrize("old", [S.BOOKED, S.SCHEDULED, S.CONFIRMED])
    def test_failed_move_gives_the_old_status_back(self, old: AppointmentStatus) -> None:
        """A move that failed returns the old row to the status it had."""
        assert can_transition(S.RESCHEDULED, old)

    @pytest.mark.parametrize("final", FINAL)
    def test_final_statuses_go_nowhere(self, final: AppointmentStatus) -> None:
        """Cancelled, completed and no-show rows never change again."""
        assert [s for s in S if can_transition(final, s)] == []

    @pytest.mark.parametrize("status", list(AppointmentStatus))
    def test_no_status_follows_itself(self, status: AppointmentStatus) -> None:
        """A write to the same status is not a transition."""
        assert not can_transition(status, status)

    def test_nothing_becomes_pending(self) -> None:
        """Pending is only ever the first status of our own reservation."""
        assert [s for s in S if can_transition(s, S.PENDING)] == []

    @pytest.mark.parametrize("active", sorted(ACTIVE_STATUSES))
    def test_every_active_row_can_be_cancelled_and_moved(self, active: AppointmentStatus) -> None:
        """Whatever holds a slot can be cancelled or moved by the caller."""
        assert can_transition(active, S.CANCELLED)
        assert can_transition(active, S.RESCHEDULED)


class TestChecks:
    """check_transition, check_initial and allowed_from."""

    def test_check_refuses_an_illegal_edge(self) -> None:
        """cancelled → booked raises, naming both statuses."""
        with pytest.raises(IllegalTransition, match="from cancelled to booked"):
            check_transition(S.CANCELLED, S.BOOKED)

    def test_check_accepts_a_legal_edge(self) -> None:
        """pending → booked passes."""
        check_transition(S.PENDING, S.BOOKED)

    def test_allowed_from_lists_every_origin(self) -> None:
        """Without a restriction: every status that may become the new one."""
        assert allowed_from(S.BOOKED) == {S.PENDING, S.FAILED, S.RESCHEDULED}
        assert allowed_from(S.PENDING) == frozenset()

    def test_allowed_from_keeps_a_legal_restriction(self) -> None:
        """A narrower set of legal origins is kept as given."""
        assert allowed_from(S.FAILED, [S.PENDING]) == {S.PENDING}

    def test_allowed_from_refuses_an_illegal_restriction(self) -> None:
        """An origin the lifecycle forbids is a programming error."""
        with pytest.raises(IllegalTransition):
            allowed_from(S.BOOKED, [S.PENDING, S.CANCELLED])

    @pytest.mark.parametrize("status", sorted(INITIAL))
    def test_initial_statuses(self, status: AppointmentStatus) -> None:
        """Rows start pending (ours) or as the mirrored booking's status."""
        check_initial(status)

    @pytest.mark.parametrize("status", [S.RESCHEDULED, S.COMPLETED, S.NO_SHOW, S.CONFIRMED])
    def test_no_row_starts_moved_or_finished(self, status: AppointmentStatus) -> None:
        """A new row is never born rescheduled, completed or a no-show."""
        with pytest.raises(IllegalTransition, match="may not start as"):
            check_initial(status)
