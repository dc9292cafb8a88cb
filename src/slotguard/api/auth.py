"""Operator authentication: the bearer token of /api/v1 and the dashboard's session cookie.

Both rest on ``SLOTGUARD_ADMIN_TOKEN``. Without it the admin API and the dashboard answer 404
with a body saying they are off: nothing to guess at, and the reason is one line away.
Retell endpoints never accept the admin token, and admin routes never accept a Retell
signature: the two credentials guard disjoint sets of routes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from slotguard.settings import Settings

ADMIN_OFF = "the admin API is off: set SLOTGUARD_ADMIN_TOKEN to turn it on"
SESSION_COOKIE = "slotguard_session"
# A working day at the front desk; then the operator types the token again.
SESSION_SECONDS = 8 * 3600
# Domain separation: the session key is derived from the token but is never the token.
_SESSION_LABEL = b"slotguard dashboard session v1"

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


@dataclass(frozen=True)
class SessionSigner:
    """Dashboard session cookies: ``EXPIRY.MAC``; the MAC key is derived from the token.

    The key is ``HMAC(token, label)`` rather than a random per-process key so that every
    worker process behind one port accepts the cookie another one issued; changing the token
    ends every session. The cookie never contains the token nor lets one recover it.
    """

    key: bytes

    @classmethod
    def for_token(cls, token: str) -> SessionSigner:
        """The signer for ``token``."""
        return cls(hmac.new(token.encode(), _SESSION_LABEL, hashlib.sha256).digest())

    def issue(self, now: float) -> str:
        """A cookie value valid for SESSION_SECONDS from ``now`` (epoch seconds)."""
        expiry = int(now) + SESSION_SECONDS
        return f"{expiry}.{self._mac(expiry)}"

    def valid(self, cookie: str | None, now: float) -> bool:
        """True for an unexpired cookie this signer issued."""
        expiry_text, _, mac = (cookie or "").partition(".")
        if not _is_epoch(expiry_text) or int(expiry_text) <= now:
            return False
        return hmac.compare_digest(mac.encode(), self._mac(int(expiry_text)).encode())

    def _mac(self, expiry: int) -> str:
        return hmac.new(self.key, str(expiry).encode(), hashlib.sha256).hexdigest()


# Epoch seconds have 10 digits until the year 2286; a longer "expiry" is forged, and
# converting thousands of digits would hit Python's int-size limit and raise.
_MAX_EPOCH_DIGITS = 12


def _is_epoch(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= _MAX_EPOCH_DIGITS
