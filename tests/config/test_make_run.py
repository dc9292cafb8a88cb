"""`make run` (the README's first command): insecure dev mode only when no key is set at all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Migrating a fresh SQLite file and starting uvicorn takes a few seconds on a busy machine.
START_SECONDS = 60


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLOTGUARD_", "MAKE"))}
    env.pop("MFLAGS", None)
    return {
        **env,
        "SLOTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "SLOTGUARD_RECONCILE_INTERVAL_SECONDS": "0",
        **extra,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _make_run(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed program and arguments
            ["make", "--no-print-directory", "-s", "-C", str(ROOT), "run"],  # noqa: S607
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


class TestMakeRun:
    """The Makefile's ``run`` target decides insecure dev mode."""

    def test_empty_key_refused_with_one_line(self, tmp_path: Path) -> None:
        """A key that is set but empty stops `make run` with one line; nothing is served."""
        log = tmp_path / "run.log"
        env = _env(tmp_path, SLOTGUARD_RETELL_API_KEY="", SLOTGUARD_PORT=str(_free_port()))
        with _make_run(env, log) as process:
            assert process.wait(timeout=START_SECONDS) != 0
        lines = [line for line in log.read_text().splitlines() if line.startswith("slotguard:")]
        assert lines == [
            "slotguard: error: invalid SLOTGUARD_RETELL_API_KEY: "
            "is set but empty; give it a value or unset it"
        ]
        assert "Traceback" not in log.read_text()

    def test_no_key_serves_insecure_on_loopback(self, tmp_path: Path) -> None:
        """Without any key `make run` serves on 127.0.0.1 in insecure dev mode and says so."""
        port = _free_port()
        log = tmp_path / "run.log"
        with _make_run(_env(tmp_path, SLOTGUARD_PORT=str(port)), log) as process:
            deadline = time.monotonic() + START_SECONDS
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"make run did not serve: {log.read_text()}")
                    time.sleep(0.2)
            assert response.json() == {"status": "ok"}
        assert "insecure_dev" in log.read_text()

    def test_no_key_on_all_interfaces_refused(self, tmp_path: Path) -> None:
        """Insecure dev mode never binds beyond loopback: SLOTGUARD_HOST=0.0.0.0 is refused."""
        log = tmp_path / "run.log"
        env = _env(tmp_path, SLOTGUARD_HOST="0.0.0.0", SLOTGUARD_PORT=str(_free_port()))
        with _make_run(env, log) as process:
            assert process.wait(timeout=START_SECONDS) != 0
        assert "serves only on loopback" in log.read_text()
