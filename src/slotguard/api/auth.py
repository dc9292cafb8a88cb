"""Operator authentication: the bearer token of /api/v1 and the dashboard's session cookie.

Both rest on ``SLOTGUARD_ADMIN_TOKEN``. Without it the admin API and the dashboard answer 404
with a body saying they are off: nothing to guess at, and the reason is one line away.
Retell endpoints never accept the admin token, and admin routes never accept a Retell
signature: the two credentials guard disjoint sets of routes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from slotguard.booking.context import Context
from slotguard.settings import Settings
from slotguard.store.sessions import SessionRepository

ADMIN_OFF = "the admin API is off: set SLOTGUARD_ADMIN_TOKEN to turn it on"
SESSION_COOKIE = "slotguard_session"
ADMIN_SUBJECT = "admin"
# A working day at the front desk; then the operator types the token again.
SESSION_SECONDS = 8 * 3600
# Five wrong tokens from one address within a quarter of an hour, then that address waits
# the quarter out: a person who mistypes is not hindered, a guesser gets 20 tries an hour.
MAX_LOGIN_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)
# Our cookies are 43 characters; anything far longer is not one of them.
_MAX_COOKIE_LENGTH = 128

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="AdminToken",
    description="`Authorization: Bearer $SLOTGUARD_ADMIN_TOKEN`",
)


def configured_token(request: Request) -> str:
    """The admin token of this process; 404 saying the admin API is off when there is none."""
    settings: Settings = request.state.settings
    if settings.admin_token is None:
        raise HTTPException(404, ADMIN_OFF)
    return settings.admin_token.get_secret_value()


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison, so response timing does not reveal a matching prefix."""
    return hmac.compare_digest(given.encode(), expected.encode())


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> None:
    """Dependency of every /api/v1 route: a configured token, presented as a bearer token."""
    expected = configured_token(request)
    if credentials is None:
        raise HTTPException(
            401,
            "missing bearer token: send Authorization: Bearer $SLOTGUARD_ADMIN_TOKEN",
            headers={"WWW-Authenticate": 'Bearer realm="slotguard"'},
        )
    if not token_matches(credentials.credentials, expected):
        raise HTTPException(
            401,
            "invalid bearer token",
            headers={"WWW-Authenticate": 'Bearer realm="slotguard", error="invalid_token"'},
        )


def _cookie_hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def _credential_check(cookie: str, credential: str) -> str:
    return hmac.new(credential.encode(), cookie.encode(), hashlib.sha256).hexdigest()


async def open_session(ctx: Context, credential: str, subject: str = ADMIN_SUBJECT) -> str:
    """A new session for ``subject``, signed in with ``credential``; returns the cookie value.

    The cookie is 256 random bits: it holds nothing derived from the credential, so a captured
    cookie allows no offline guessing. The database keeps its hash and an HMAC of it keyed by
    the credential, so a changed token ends the session on every worker.
    """
    cookie = secrets.token_urlsafe(32)
    now = ctx.clock()
    expires = now + timedelta(seconds=SESSION_SECONDS)
    async with ctx.sessions() as session, session.begin():
        await SessionRepository(session).add(
            _cookie_hash(cookie), subject, _credential_check(cookie, credential), now, expires
        )
    return cookie


async def session_subject(ctx: Context, cookie: str | None, credential: str) -> str | None:
    """Who the unexpired session behind ``cookie`` belongs to, or None (never raises)."""
    if not cookie or len(cookie) > _MAX_COOKIE_LENGTH or not cookie.isascii():
        return None
    async with ctx.sessions() as session:
        found = await SessionRepository(session).live(_cookie_hash(cookie), ctx.clock())
    if found is None:
        return None
    subject, check = found
    return subject if hmac.compare_digest(check, _credential_check(cookie, credential)) else None


async def close_session(ctx: Context, cookie: str | None) -> None:
    """End the session behind ``cookie`` for every copy of it."""
    if cookie and len(cookie) <= _MAX_COOKIE_LENGTH and cookie.isascii():
        async with ctx.sessions() as session, session.begin():
            await SessionRepository(session).remove(_cookie_hash(cookie))


async def login_wait(ctx: Context, client: str) -> int | None:
    """Seconds ``client`` must wait before its next login attempt, or None when it may try."""
    since = ctx.clock() - LOGIN_WINDOW
    async with ctx.sessions() as session:
        failures = await SessionRepository(session).failures_since(client[:64], since)
    return int(LOGIN_WINDOW.total_seconds()) if failures >= MAX_LOGIN_FAILURES else None


async def record_login(ctx: Context, client: str, *, succeeded: bool) -> None:
    """Count a failed attempt of ``client``, or clear its count after it signed in."""
    now = ctx.clock()
    async with ctx.sessions() as session, session.begin():
        repo = SessionRepository(session)
        if succeeded:
            await repo.clear_failures(client[:64])
        else:
            await repo.add_failure(client[:64], now, keep_after=now - LOGIN_WINDOW)
