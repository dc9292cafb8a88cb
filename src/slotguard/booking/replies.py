"""Replies of the use cases: values with a machine status, replayed verbatim by idempotency.

The sentence the agent speaks is rendered from a Reply at the edge (``retell.messages``), so
the booking layer stays free of wording and a replayed Reply renders to the same reply.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from slotguard.domain import Appointment, Decision, Reason, SuggestedAction


class Status(enum.StrEnum):
    """Every ``status`` a function may answer (docs/http-contract.md)."""

    OK = "ok"
    WARNING = "warning"
    REFUSED = "refused"
    UNAVAILABLE = "unavailable"
    AVAILABLE = "available"
    BOOKED = "booked"
    PENDING = "pending"
    ERROR = "error"
    KNOWN = "known"
    NEW = "new"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"  # several appointments fit a cancel or reschedule: ask which one


@dataclass(frozen=True)
class AppointmentView:
    """An appointment as the agent sees it: local times in the company's zone."""

    id: int
    service: str
    start: datetime
    end: datetime
    status: str

    @classmethod
    def of(cls, appointment: Appointment, tz: ZoneInfo) -> AppointmentView:
        """View of a domain appointment in ``tz``."""
        return cls(
            id=appointment.id,
            service=appointment.service_name or "",
            start=appointment.span.start.astimezone(tz),
            end=appointment.span.end.astimezone(tz),
            status=appointment.status.value,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form with ISO 8601 local times."""
        return {
            "id": self.id,
            "service": self.service,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "status": self.status,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppointmentView:
        """Inverse of ``to_json``."""
        return cls(
            id=int(data["id"]),
            service=str(data["service"]),
            start=datetime.fromisoformat(data["start"]),
            end=datetime.fromisoformat(data["end"]),
            status=str(data["status"]),
        )


@dataclass(frozen=True)
class Reply:
    """The outcome of one function call."""

    status: Status
    reason: Reason | None = None
    requested_start: datetime | None = None
    appointment: AppointmentView | None = None
    existing: tuple[AppointmentView, ...] = ()
    appointments: tuple[AppointmentView, ...] | None = None
    alternatives: tuple[datetime, ...] = ()
    suggested_action: SuggestedAction | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # e.g. offered services, customer name

    def to_json(self) -> dict[str, Any]:
        """The structured part of the reply (everything but the spoken message)."""
        data: dict[str, Any] = {"status": self.status.value}
        if self.reason is not None:
            data["reason"] = self.reason.value
        if self.requested_start is not None:
            data["requested_start"] = self.requested_start.isoformat()
        if self.appointment is not None:
            data["appointment"] = self.appointment.to_json()
        if self.existing:
            data["existing_appointments"] = [a.to_json() for a in self.existing]
        if self.appointments is not None:
            data["appointments"] = [a.to_json() for a in self.appointments]
        if self.alternatives:
            data["alternative_slots"] = [t.isoformat() for t in self.alternatives]
        if self.suggested_action is not None:
            data["suggested_action"] = self.suggested_action.value
        data.update(self.facts)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        """Rebuild a stored reply (idempotent replay)."""
        known = {
            "status", "reason", "requested_start", "appointment", "existing_appointments",
            "appointments", "alternative_slots", "suggested_action", "message",
        }  # fmt: skip
        appointments = data.get("appointments")
        return cls(
            status=Status(data["status"]),
            reason=_enum(Reason, data.get("reason")),
            requested_start=_dt(data.get("requested_start")),
            appointment=(
                AppointmentView.from_json(data["appointment"]) if data.get("appointment") else None
            ),
            existing=tuple(
                AppointmentView.from_json(a) for a in data.get("existing_appointments", [])
            ),
            appointments=(
                None
                if appointments is None
                else tuple(AppointmentView.from_json(a) for a in appointments)
            ),
            alternatives=tuple(
                datetime.fromisoformat(t) for t in data.get("alternative_slots", [])
            ),
            suggested_action=_enum(SuggestedAction, data.get("suggested_action")),
            facts={k: v for k, v in data.items() if k not in known},
        )


_E = TypeVar("_E", bound=enum.StrEnum)


def _enum(kind: type[_E], value: str | None) -> _E | None:
    return None if value is None else kind(value)


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def error(reason: Reason, *, requested_start: datetime | None = None, **facts: Any) -> Reply:
    """An ``error`` reply with a reason and optional facts for the sentence."""
    return Reply(Status.ERROR, reason=reason, requested_start=requested_start, facts=facts)


def decision_reply(
    decision: Decision, status: Status, requested_start: datetime, tz: ZoneInfo
) -> Reply:
    """A ``refused`` or ``warning`` reply naming the appointments behind ``decision``."""
    warned = status is Status.WARNING
    return Reply(
        status,
        reason=decision.reason,
        requested_start=requested_start,
        existing=tuple(AppointmentView.of(a, tz) for a in decision.existing),
        suggested_action=SuggestedAction.CONFIRM_OR_RESCHEDULE if warned else None,
    )
