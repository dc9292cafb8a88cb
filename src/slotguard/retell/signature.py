"""Retell's ``X-Retell-Signature``: ``v=<unix ms>,d=<hex HMAC-SHA256(key, raw body + v)>``."""

from __future__ import annotations

import hashlib
import hmac
import re

# Retell's own SDK refuses a timestamp further than this from now, either way.
TOLERANCE_MS = 5 * 60 * 1000
_FORMAT = re.compile(r"v=(\d{1,16}),d=([0-9a-f]{64})")


def sign(body: bytes, api_key: str, timestamp_ms: int) -> str:
    """The header value Retell sends for ``body`` at ``timestamp_ms`` (used by tests and tools)."""
    digest = hmac.new(api_key.encode(), body + str(timestamp_ms).encode(), hashlib.sha256)
    return f"v={timestamp_ms},d={digest.hexdigest()}"


def verify(body: bytes, api_key: str, header: str | None, now_ms: int) -> str | None:
    """None when ``header`` is Retell's valid signature of the raw ``body``; else why not.

    The raw bytes are verified, never re-serialised JSON, so umlauts in transcripts survive.
    """
    if not header:
        return "missing X-Retell-Signature"
    match = _FORMAT.fullmatch(header.strip())
    if match is None:
        return "malformed X-Retell-Signature"
    timestamp = int(match.group(1))
    if abs(now_ms - timestamp) > TOLERANCE_MS:
        return "stale X-Retell-Signature timestamp"
    expected = sign(body, api_key, timestamp).rpartition("d=")[2]
    if not hmac.compare_digest(expected, match.group(2)):
        return "invalid X-Retell-Signature"
    return None
