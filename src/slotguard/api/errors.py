"""The single mapping table from use-case failures to what the caller of our HTTP edge sees.

Retell functions always answer HTTP 200 with a JSON reply (a non-2xx is retried by Retell),
so booking failures become ``status: error`` replies with a reason; HTTP errors are only for
requests that are not valid function calls at all.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from slotguard.booking.errors import (
    AmbiguousService,
    BookingError,
    InvalidArgument,
    UnknownService,
    UnknownTenant,
)
from slotguard.booking.replies import Reply, error
from slotguard.calendar import CalendarUnreachable
from slotguard.domain import Reason
from slotguard.observability import get_logger

log = get_logger("api")


def _invalid(exc: Exception) -> Reply:
    assert isinstance(exc, InvalidArgument)
    value = None if exc.value is None else str(exc.value)[:200]
    return error(Reason.INVALID_ARGUMENT, field=exc.field, problem=exc.problem, value=value)


def _unknown_service(exc: Exception) -> Reply:
    assert isinstance(exc, UnknownService)
    if isinstance(exc, AmbiguousService):
        return error(
            Reason.AMBIGUOUS_SERVICE,
            requested_service=exc.requested,
            candidates=exc.candidates,
            offered_services=exc.offered,
        )
    return error(
        Reason.UNKNOWN_SERVICE, requested_service=exc.requested, offered_services=exc.offered
    )


def _unknown_tenant(exc: Exception) -> Reply:
    return error(Reason.UNKNOWN_TENANT)


def _unreachable(exc: Exception) -> Reply:
    return error(Reason.CALENDAR_UNREACHABLE)


REPLY_FOR: dict[type[Exception], Callable[[Exception], Reply]] = {
    InvalidArgument: _invalid,
    UnknownService: _unknown_service,
    UnknownTenant: _unknown_tenant,
    CalendarUnreachable: _unreachable,
}


def reply_for(exc: BookingError | CalendarUnreachable) -> Reply:
    """The agent-facing reply for an expected failure."""
    for kind, build in REPLY_FOR.items():
        if isinstance(exc, kind):
            return build(exc)
    raise TypeError(f"unmapped failure {type(exc).__name__}")


# Retell retries a failed tool call up to twice; a short wait gives the database a chance.
RETRY_AFTER_SECONDS = 2


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error("database_unavailable", path=request.url.path, error=type(exc).__name__)
    return JSONResponse(
        {"detail": "the database is unavailable; nothing was changed, retry shortly"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_handlers(app: FastAPI) -> None:
    """A database that cannot be reached is a 503 with Retry-After, not a 500."""
    for kind in (OperationalError, DBAPIError, ConnectionError, TimeoutError):
        app.add_exception_handler(kind, _database_unavailable)
