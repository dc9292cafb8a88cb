"""With several workers, /metrics of any one of them reports the samples of all of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WORKER = """
from slotguard.observability import Metrics
metrics = Metrics()
metrics.function_calls.labels(function="book_appointment", status="booked").observe(0.01)
metrics.pending_appointments.set({pending})
"""
SCRAPE = """
import sys
from slotguard.observability import Metrics, exposition
sys.stdout.write(exposition(Metrics()).decode())
"""


def _run(code: str, directory: Path) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


class TestMultiprocessMetrics:
    """prometheus_client's multiprocess mode, as `slotguard serve --workers N` sets it up."""

    def test_samples_of_all_workers_are_summed(self, tmp_path: Path) -> None:
        """Three worker processes observe one call each; a fourth process exposes all three."""
        for pending in (2, 5, 3):
            _run(WORKER.format(pending=pending), tmp_path)
        text = _run(SCRAPE, tmp_path)
        assert (
            'slotguard_function_call_seconds_count{function="book_appointment",status="booked"} 3.0'
            in text
        )
        assert "slotguard_pending_appointments 5.0" in text  # the same DB seen by all: max
