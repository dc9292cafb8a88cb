"""The ordered log of every `/v2` request the emulator received, and counting helpers."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from .model import iso_ms


@dataclass
class RecordedRequest:
    """One request; `status` is None until answered, and stays None when dropped."""

    seq: int
    method: str
    path: str
    route: str | None  # e.g. "POST /v2/bookings/{uid}/cancel"; None when no route matched
    query: dict[str, str]
    body: Any
    received_at: datetime
    request_id: str
    status: int | None = None
    outcome: str = "pending"  # pending | answered | dropped | timeout_after_commit

    def to_json(self) -> dict[str, Any]:
        """The record as JSON (`GET /_emulator/requests`)."""
        return {**asdict(self), "received_at": iso_ms(self.received_at)}


class RequestLog:
    """Thread-safe, append-only until `clear()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def add(self, **fields: Any) -> RecordedRequest:
        """Append a record (fields as in `RecordedRequest`, minus `seq`)."""
        with self._lock:
            record = RecordedRequest(seq=len(self._items) + 1, **fields)
            self._items.append(record)
            return record

    @property
    def items(self) -> list[RecordedRequest]:
        """Every record, in arrival order."""
        with self._lock:
            return list(self._items)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests matching `method` and `path` (a concrete path or a route template)."""
        return sum(
            1
            for record in self.items
            if (method is None or record.method == method.upper())
            and (path is None or path in (record.path, (record.route or " ").split(" ", 1)[1]))
        )

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._items.clear()
