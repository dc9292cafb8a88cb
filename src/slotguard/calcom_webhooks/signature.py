"""``X-Cal-Signature-256``: hex HMAC-SHA256 of the raw body with the webhook's secret."""

from __future__ import annotations

import hashlib
import hmac

# What Cal.com sends when the webhook has no secret; never accepted when we have one.
NO_SECRET = "no-secret-provided"  # noqa: S105 - a protocol literal, not a secret


def sign(body: bytes, secret: str) -> str:
    """The header value Cal.com sends for ``body``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str | None) -> str | None:
    """None when ``header`` is the valid signature of the raw ``body``; else why not."""
    if not header:
        return "missing X-Cal-Signature-256"
    if header.strip() == NO_SECRET:
        return "webhook sent without a secret; configure the secret in Cal.com"
    given = header.strip().lower()
    # A header is Latin-1 text: anything but ASCII hex cannot match, and compare_digest
    # would raise on it instead of answering.
    if not given.isascii() or not hmac.compare_digest(sign(body, secret), given):
        return "invalid X-Cal-Signature-256"
    return None
