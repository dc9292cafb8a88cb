"""The single mapping table from use-case failures to what the caller of our HTTP edge sees.

Retell functions always answer HTTP 200 with a JSON reply (a non-2xx is retried by Retell),
so booking failures become ``status: error`` replies with a reason; HTTP errors are only for
requests that are not valid function calls at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from slotguard.booking.errors import (
    AmbiguousService,
    BookingError,
    InvalidArgument,
    UnknownService,
    UnknownStaff,
    UnknownTenant,
)
from slotguard.booking.replies import Reply, error
from slotguard.calendar import AvailabilityUnknown, CalendarUnreachable
from slotguard.domain import Reason
from slotguard.observability import get_logger

log = get_logger("api")


def _invalid(exc: Exception) -> Reply:
    if not isinstance(exc, InvalidArgument):
        raise exc
    value = None if exc.value is None else str(exc.value)[:200]
    start = exc.requested_start if isinstance(exc.requested_start, datetime) else None
    return error(
        Reason.INVALID_ARGUMENT,
        requested_start=start,
        field=exc.field,
        problem=exc.problem,
        value=value,
    )


def _unknown_service(exc: Exception) -> Reply:
    if not isinstance(exc, UnknownService):
        raise exc
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


def _unknown_staff(exc: Exception) -> Reply:
    if not isinstance(exc, UnknownStaff):
        raise exc
    return error(Reason.UNKNOWN_STAFF, requested_staff=exc.requested, offered_staff=exc.offered)


def _unknown_tenant(exc: Exception) -> Reply:
    return error(Reason.UNKNOWN_TENANT)


def _unreachable(exc: Exception) -> Reply:
    return error(Reason.CALENDAR_UNREACHABLE)


def _availability_unknown(exc: Exception) -> Reply:
    return error(Reason.AVAILABILITY_UNKNOWN)


REPLY_FOR: dict[type[Exception], Callable[[Exception], Reply]] = {
    InvalidArgument: _invalid,
    UnknownService: _unknown_service,
    UnknownStaff: _unknown_staff,
    UnknownTenant: _unknown_tenant,
    AvailabilityUnknown: _availability_unknown,  # before its base class: first match wins
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
# SQLSTATE classes that mean "the database cannot serve now", not "this request is wrong":
# connection exception, transaction rollback (serialization, deadlock), insufficient
# resources, operator intervention (shutdown, starting up), lock not available.
_UNAVAILABLE_SQLSTATES = ("08", "40", "53", "57", "55P03")
# SQLSTATE class 22: a value the database cannot hold (too long, out of range, bad encoding).
_DATA_SQLSTATE = "22"


# SQLite's primary result codes for "cannot serve now": busy, locked, out of memory, I/O
# error, disk full, cannot open the file, lock protocol error.
_UNAVAILABLE_SQLITE_CODES = frozenset({5, 6, 7, 10, 13, 14, 15})


def _driver_errors(exc: BaseException) -> tuple[object, ...]:
    orig = getattr(exc, "orig", None)
    return (orig, getattr(orig, "__cause__", None))


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in _driver_errors(exc):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def _sqlite_code(exc: BaseException) -> int | None:
    for candidate in _driver_errors(exc):
        code = getattr(candidate, "sqlite_errorcode", None)
        if isinstance(code, int):
            return code & 0xFF  # extended codes carry the primary code in the low byte
    return None


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means the database cannot be reached or cannot serve right now."""
    if isinstance(exc, (OSError, TimeoutError, PoolTimeout, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    code = _sqlstate(exc)
    if code is not None:
        return code.startswith(_UNAVAILABLE_SQLSTATES)
    sqlite_code = _sqlite_code(exc)
    if sqlite_code is not None:
        return sqlite_code in _UNAVAILABLE_SQLITE_CODES
    return isinstance(exc, OperationalError) and "unable to open" in str(exc)


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"[:300]


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if database_unavailable(exc):
        log.error("database_unavailable", path=request.url.path, reason=_reason(exc))
        return JSONResponse(
            {"detail": "the database is unavailable; nothing was changed, retry shortly"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    code = _sqlstate(exc)
    if isinstance(exc, DataError) or (code is not None and code.startswith(_DATA_SQLSTATE)):
        # The message may quote the value, so only the code is logged.
        log.warning("database_refused_value", path=request.url.path, sqlstate=code)
        return JSONResponse(
            {"detail": "a value in this request does not fit the database; nothing was changed"},
            status_code=400,
        )
    raise exc


def install_handlers(app: FastAPI) -> None:
    """A database that cannot be reached is a 503 with Retry-After; a value it refuses a 400.

    Any other database error is a bug and stays a 500 with its traceback in the log.
    """
    for kind in (DBAPIError, PoolTimeout, ConnectionError, TimeoutError):
        app.add_exception_handler(kind, _database_error)
