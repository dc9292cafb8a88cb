"""Read what the service logs, as JSON lines from stderr, the way an operator's shipper does."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog

from slotguard.observability import configure_logging

LogLines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[LogLines]:
    """Configure JSON logging at debug; each call returns the lines written since the last."""
    configure_logging("debug", "json")
    capsys.readouterr()

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]

    try:
        yield read
    finally:
        reset_logging()


def reset_logging() -> None:
    """Undo ``configure_logging``: structlog's defaults, no slotguard handler, root at WARNING."""
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "slotguard"]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)
