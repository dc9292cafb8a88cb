"""Signed Retell function-call requests, as Retell sends them (tests and benchmarks)."""

from __future__ import annotations

import json
import time
from typing import Any

from slotguard.retell.signature import sign


def function_request(
    name: str, call: dict[str, Any], args: Any, key: str
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of ``POST /retell/functions/{name}``, signed with ``key`` now."""
    body = json.dumps({"name": name, "call": call, "args": args}, ensure_ascii=False).encode()
    headers = {
        "content-type": "application/json",
        "x-retell-signature": sign(body, key, int(time.time() * 1000)),
    }
    return body, headers
