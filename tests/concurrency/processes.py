"""Running ``slotguard serve`` as real processes (several workers) for cross-process tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

# uvicorn with 4 workers on 2 cores needs a few seconds to import and migrate-check.
START_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(
    database_url: str,
    tenants_file: Path,
    *,
    workers: int,
    env: dict[str, str] | None = None,
    log_file: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start ``slotguard serve --workers N``; yield (base URL, process); stop it afterwards."""
    port = free_port()
    environment = {
        **os.environ,
        "SLOTGUARD_DATABASE_URL": database_url,
        "SLOTGUARD_CONFIG": str(tenants_file),
        "SLOTGUARD_HOST": "127.0.0.1",
        "SLOTGUARD_PORT": str(port),
        "SLOTGUARD_LOG_LEVEL": "warning",
        **(env or {}),
    }
    out = open(log_file, "wb") if log_file else subprocess.DEVNULL  # noqa: SIM115 - closed below
    command = [sys.executable, "-m", "slotguard.cli", "serve", "--workers", str(workers)]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, env=environment, stdout=out, stderr=out, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        yield base, process
    finally:
        stop(process)
        if log_file:
            out.close()  # type: ignore[union-attr]


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop the server and all its workers (the whole process group)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slotguard serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("slotguard serve did not become ready in time")
