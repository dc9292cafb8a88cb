"""Failures of the booking use cases: one tree, no HTTP status; translated once at the edge.

BookingError
├── InvalidArgument      a missing, malformed or impossible argument (date in the past …)
├── UnknownService       the service named is not offered (carries the offered names)
│   └── AmbiguousService two offered services fit the name about equally (carries both)
├── UnknownStaff         the person named does not offer the service (carries who does)
└── UnknownTenant        the call cannot be routed to a company
"""

from __future__ import annotations


class BookingError(Exception):
    """Base of the expected failures of a use case."""


class InvalidArgument(BookingError):
    """An argument is missing, malformed or names an impossible time."""

    def __init__(
        self, field: str, problem: str, value: object = None, requested_start: object = None
    ) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
        self.value = value
        self.requested_start = requested_start  # the moment understood, e.g. one in the past


class UnknownService(BookingError):
    """The service named by the caller is not offered by the company."""

    def __init__(self, requested: str, offered: list[str]) -> None:
        super().__init__(f"unknown service {requested!r}")
        self.requested = requested
        self.offered = offered


class AmbiguousService(UnknownService):
    """The name fits two or more offered services about equally; the agent asks which."""

    def __init__(self, requested: str, offered: list[str], candidates: list[str]) -> None:
        super().__init__(requested, offered)
        self.candidates = candidates


class UnknownStaff(BookingError):
    """The person named by the caller is not one of the staff who offer the service."""

    def __init__(self, requested: str, offered: list[str]) -> None:
        super().__init__(f"unknown staff {requested!r}")
        self.requested = requested
        self.offered = offered


class UnknownTenant(BookingError):
    """No company is routed for the call's agent id or called number."""

    def __init__(self, agent_id: str | None, to_number: str | None) -> None:
        super().__init__(f"no company for agent {agent_id!r} / number {to_number!r}")
        self.agent_id = agent_id
        self.to_number = to_number
