"""The README holds: its configuration table is the settings class, its shell blocks run.

A fenced ``sh`` block preceded by ``<!-- runnable: KIND -->`` is run here with bash:
``serving`` blocks against the demo tenant served on loopback (``localhost:8000`` is rewritten
to the test server's port), the ``postgres`` block with its placeholder URL replaced by a fresh
database of the test PostgreSQL. Blocks without the marker (``make run``, docker, a real
Cal.com) are documentation only.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from slotguard import tenants
from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.store.companies import CompanyRepository
from slotguard.store.db import create_engine, session_factory
from slotguard.testing.server import serve_in_thread
from tests import databases
from tests.deploy.test_container import _free_port, _wait_ready

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Wednesday 25 November 2026, 10:00 in Berlin: "morgen" is a Thursday the demo salon is open.
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
BASH = shutil.which("bash")


def runnable_blocks(kind: str) -> list[str]:
    """The ``sh`` blocks marked ``<!-- runnable: KIND … -->``, in order."""
    pattern = re.compile(rf"<!-- runnable: {kind}\b[^>]*-->\n```sh\n(.*?)```", re.DOTALL)
    return pattern.findall(README)


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


class TestConfigurationTable:
    """README § Configuration lists exactly the settings of ``Settings``."""

    def test_every_setting_is_listed(self) -> None:
        """The variables in the table are the SLOTGUARD_* names of the settings' fields."""
        rows = [line for line in _section("Configuration").splitlines() if line.startswith("| `")]
        listed = {
            name
            for row in rows
            for name in re.findall(r"`(SLOTGUARD_[A-Z_]+)`", row.split(" | ")[0])
        }
        fields = {f"SLOTGUARD_{name.upper()}" for name in Settings.model_fields}
        assert listed == fields, f"missing: {fields - listed}, unknown: {listed - fields}"

    def test_numeric_defaults_match(self) -> None:
        """A number in the default column is the field's default."""
        for line in _section("Configuration").splitlines():
            match = re.fullmatch(r"\| `(SLOTGUARD_[A-Z_]+)` \| `(\d+(?:\.\d+)?)` \|.*", line)
            if match:
                field = Settings.model_fields[match.group(1).removeprefix("SLOTGUARD_").lower()]
                assert float(match.group(2)) == float(field.default), match.group(1)


def test_blocks_are_marked() -> None:
    """The walkthrough's blocks are among the runnable ones (a marker typo would hide them)."""
    assert len(runnable_blocks("serving")) == 2
    assert len(runnable_blocks("postgres")) == 1


def _bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert BASH is not None
    return subprocess.run(  # noqa: S603 - README blocks, run on purpose
        [BASH, "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    """The demo tenant (as `make run` serves it) on a fresh SQLite file; yields host:port."""
    url = databases.sqlite_url(tmp_path)
    databases.migrate(url)

    async def apply() -> None:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session, session.begin():
                await CompanyRepository(session).apply_tenants(tenants.load(None))
        finally:
            await engine.dispose()

    asyncio.run(apply())
    settings = Settings(database_url=url, insecure_dev=True, reconcile_interval_seconds=0)
    with serve_in_thread(create_app(settings, clock=lambda: NOW)) as base:
        yield base.removeprefix("http://")


@pytest.mark.skipif(BASH is None or shutil.which("curl") is None, reason="needs bash and curl")
class TestServingBlocks:
    """The quickstart's probes and the demo conversation, as printed."""

    def test_health_block(self, demo_server: str) -> None:
        """/healthz and /readyz answer as the comments say."""
        block = runnable_blocks("serving")[0].replace("localhost:8000", demo_server)
        done = _bash(block, {})
        assert done.returncode == 0, done.stderr
        health, ready = (json.loads(line) for line in done.stdout.splitlines())
        assert health == {"status": "ok"}
        assert ready["status"] == "ok"

    def test_conversation_block(self, demo_server: str) -> None:
        """Each call of the walkthrough answers what its comment promises."""
        block = runnable_blocks("serving")[1].replace("localhost:8000", demo_server)
        done = _bash(block, {})
        assert done.returncode == 0, done.stderr
        replies = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        assert [r["status"] for r in replies] == [
            "new",
            "available",
            "ok",
            "booked",
            "warning",
            "refused",
            "ok",
            "rescheduled",
            "cancelled",
        ], replies
        assert replies[1]["staff"] == "Anna" and "bei Anna" in replies[1]["message"]
        assert replies[3]["appointment"]["start"].startswith("2026-11-26T14:30")
        assert replies[4]["reason"] == "same_day"
        assert replies[5]["reason"] == "exact_duplicate"


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_postgres_block(pg_url: str, tmp_path: Path) -> None:
    """`migrate` then `serve --workers 4` on PostgreSQL, as printed: the service gets ready."""
    fresh = databases.create_pg_database("slotguard_readme")
    try:
        (block,) = runnable_blocks("postgres")
        block = block.replace("postgresql://slotguard@db.internal:5432/slotguard", fresh)
        block = block.replace(".venv/bin/slotguard", f"{sys.executable} -m slotguard.cli")
        port = _free_port()
        env = {
            **os.environ,
            "SLOTGUARD_PORT": str(port),
            "SLOTGUARD_RECONCILE_INTERVAL_SECONDS": "0",
        }
        assert BASH is not None
        log = (tmp_path / "serve.log").open("w")
        with (
            log,
            subprocess.Popen(  # noqa: S603 - the README block, run on purpose
                [BASH, "-euo", "pipefail", "-c", block],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,
            ) as server,
        ):
            try:
                ready = _wait_ready(f"http://127.0.0.1:{port}/readyz", server, seconds=90)
            except Exception:
                print((tmp_path / "serve.log").read_text()[-3000:])
                raise
            finally:
                out = _stop(server)
        assert ready.status_code == 200, (tmp_path / "serve.log").read_text()
        assert out.startswith("empty database: created the schema at revision "), out
    finally:
        databases.drop_pg_database(fresh)


def test_python_versions_agree() -> None:
    """requires-python, the README and CI name the same oldest and newest Python."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    spec = project["requires-python"]
    match = re.fullmatch(r">=3\.(\d+),<3\.(\d+)", spec)
    assert match, spec
    oldest, newest = f"3.{match.group(1)}", f"3.{int(match.group(2)) - 1}"
    assert f'({oldest} to {newest}, `requires-python = "{spec}"`)' in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"OLDEST_PYTHON:-python{oldest}}}" in ci
    assert f"NEWEST_VERSION={newest}\n" in ci


def _stop(server: subprocess.Popen[str]) -> str:
    """SIGTERM the block's process group; SIGKILL it if four workers take over a minute."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        out, _ = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        out, _ = server.communicate()
    return out
