"""The small promises of the command line: version, migrate's report, URL checks, --port."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from slotguard import __version__
from tests.deploy.test_container import _free_port, _wait_ready


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "slotguard.cli", *args]
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        command, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120
    )


def test_version() -> None:
    """`slotguard --version` prints the installed version and exits 0."""
    done = _cli("--version")
    assert (done.returncode, done.stdout) == (0, f"slotguard {__version__}\n")


def test_migrate_says_what_it_did(tmp_path: Path) -> None:
    """An empty database is created at the head revision; a second run has nothing to do."""
    env = {"SLOTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    first, second = _cli("migrate", env=env), _cli("migrate", env=env)
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout.startswith("empty database: created the schema at revision ")
    head = first.stdout.split()[-1]
    assert second.stdout == f"database is already at the newest schema ({head}); nothing to do\n"
    assert "Running upgrade" in first.stderr  # Alembic's own lines, as JSON
    assert all(json.loads(line) for line in first.stderr.splitlines())


class TestRetellTools:
    """`retell-tools --base-url` needs an absolute http(s) URL."""

    def test_rejects_a_url_without_scheme(self) -> None:
        """Retell would POST to a relative URL and fail at call time: refused up front."""
        done = _cli("retell-tools", "--base-url", "slotguard.example.com")
        assert done.returncode == 2
        assert "needs a scheme and a host" in done.stderr
        assert done.stdout == ""

    def test_tools_point_at_the_base_url(self) -> None:
        """Every tool POSTs to BASE/retell/functions/NAME."""
        done = _cli("retell-tools", "--base-url", "https://slotguard.example.com/")
        tools = json.loads(done.stdout)
        assert len(tools) == 7
        assert {t["url"] for t in tools} == {
            f"https://slotguard.example.com/retell/functions/{t['name']}" for t in tools
        }


def test_serve_listens_on_the_given_port(tmp_path: Path) -> None:
    """`serve --port N` listens on N although SLOTGUARD_PORT says otherwise."""
    env = {
        **os.environ,
        "SLOTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
        "SLOTGUARD_INSECURE_DEV": "1",
        "SLOTGUARD_PORT": "1",
        "SLOTGUARD_RECONCILE_INTERVAL_SECONDS": "0",
    }
    assert _cli("migrate", env=env).returncode == 0
    port = _free_port()
    command = [sys.executable, "-m", "slotguard.cli", "serve", "--host", "127.0.0.1"]
    with subprocess.Popen(  # noqa: S603 - our own CLI
        [*command, "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True
    ) as server:
        try:
            ready = _wait_ready(f"http://127.0.0.1:{port}/readyz", server)
        finally:
            server.terminate()
            server.communicate(timeout=15)
    assert isinstance(ready, httpx.Response)
    assert ready.status_code == 200


def test_serve_on_an_unmigrated_database_says_so_in_one_line(tmp_path: Path) -> None:
    """No traceback: the one step that is missing, and exit status 2."""
    env = {
        "SLOTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "SLOTGUARD_INSECURE_DEV": "1",
    }
    done = _cli("serve", "--port", str(_free_port()), env=env)
    assert done.returncode == 2
    assert "error: the database has no schema, the newest is 0" in done.stderr
    assert done.stderr.rstrip().endswith("run `slotguard migrate` first")
    assert "Traceback" not in done.stderr


def test_owner_token_is_printed_once_and_stored_hashed(tmp_path: Path) -> None:
    """`owners token` prints a token whose sha256 alone is stored; unknown slugs are refused."""
    from tests.retell.conftest import TEST_TENANTS

    tenants_file = tmp_path / "tenants.toml"
    tenants_file.write_text(TEST_TENANTS, encoding="utf-8")
    env = {"SLOTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}"}
    assert _cli("migrate", env=env).returncode == 0
    assert _cli("tenants", "apply", str(tenants_file), env=env).returncode == 0
    done = _cli("owners", "token", "--company", "salon-test", env=env)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert len(token) >= 40
    with contextlib.closing(sqlite3.connect(tmp_path / "o.db")) as database:
        stored = database.execute(
            "SELECT owner_token_hash FROM companies WHERE slug = 'salon-test'"
        ).fetchone()
    assert stored == (hashlib.sha256(token.encode()).hexdigest(),)
    unknown = _cli("owners", "token", "--company", "nope", env=env)
    assert unknown.returncode == 2
    assert "unknown company 'nope'" in unknown.stderr
