"""Refuse a path or query string holding text the database cannot store, before routing.

A NUL character (``%00``) in a slug or a search term would otherwise reach PostgreSQL, which
refuses it with an error that looks like an outage. Nobody types one, so every route gets the
same precise 400.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from slotguard.api.body import text_problem


class RefuseUnstorableText:
    """ASGI middleware: 400 for a NUL or lone surrogate in the path or the query parameters."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 400 when the request's path or query cannot be stored, else pass it on."""
        if scope["type"] == "http" and (problem := _problem(scope)) is not None:
            await JSONResponse({"detail": problem}, status_code=400)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _problem(scope: Scope) -> str | None:
    if (found := text_problem(scope.get("path", ""))) is not None:
        return f"the path {found}"
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if (found := text_problem(name) or text_problem(value)) is not None:
            return f"the query parameter {name[:64]!r} {found}"
    return None
