"""Settings from the environment: defaults, URL forms, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from slotguard.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings
from slotguard.store.db import async_url


class TestSettings:
    """``load_settings`` over the SLOTGUARD_* variables."""

    def test_defaults(self) -> None:
        """With nothing set, the embedded default is a SQLite file and port 8000."""
        settings = load_settings()
        assert settings.database_url == DEFAULT_DATABASE_URL
        assert (settings.host, settings.port, settings.config) == ("127.0.0.1", 8000, None)

    @pytest.mark.parametrize(
        ("url", "driver"),
        [
            ("sqlite:///./x.db", "sqlite+aiosqlite"),
            ("postgresql://u@h:5432/db", "postgresql+asyncpg"),
            ("postgres://u@h/db", "postgresql+asyncpg"),
            ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg"),
        ],
    )
    def test_plain_urls_get_async_driver(self, url: str, driver: str) -> None:
        """Plain URLs are accepted and the async driver is chosen internally."""
        assert async_url(url).drivername == driver

    @pytest.mark.parametrize(
        ("url", "hosts", "database"),
        [
            (
                "postgresql://u@10.0.0.1:5432,10.0.0.2:5433/db?target_session_attrs=read-write",
                ("10.0.0.1:5432", "10.0.0.2:5433"),
                "db",
            ),
            ("postgresql://u:p@a,b:6432/app", ("a", "b:6432"), "app"),
            ("postgresql://u@/db?host=a:1&host=b:2", ("a:1", "b:2"), "db"),
        ],
    )
    def test_multi_host_urls(self, url: str, hosts: tuple[str, ...], database: str) -> None:
        """libpq's multi-host form keeps every host, in order, and the read-write target."""
        target = async_url(url)
        assert (target.drivername, target.database) == ("postgresql+asyncpg", database)
        assert target.query["host"] == hosts
        if "target_session_attrs" in url:
            assert target.query["target_session_attrs"] == "read-write"
        os.environ["SLOTGUARD_DATABASE_URL"] = url
        assert load_settings().database_url == url

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("SLOTGUARD_PORT", "eighty", "invalid SLOTGUARD_PORT"),
            ("SLOTGUARD_PORT", "70000", "invalid SLOTGUARD_PORT"),
            ("SLOTGUARD_DATABASE_URL", "mysql://x@y/z", "invalid SLOTGUARD_DATABASE_URL"),
            ("SLOTGUARD_CONFIG", "/nonexistent/tenants.toml", "does not exist"),
            ("SLOTGUARD_INSECURE_DEV", "maybe", "invalid SLOTGUARD_INSECURE_DEV"),
            ("SLOTGUARD_RETELL_API_KEY", "", "invalid SLOTGUARD_RETELL_API_KEY: is set but empty"),
            ("SLOTGUARD_RETELL_API_KEY", " \t ", "invalid SLOTGUARD_RETELL_API_KEY: is set but"),
            ("SLOTGUARD_ADMIN_TOKEN", "", "invalid SLOTGUARD_ADMIN_TOKEN: is set but empty"),
            ("SLOTGUARD_ADMIN_TOKEN", "   ", "invalid SLOTGUARD_ADMIN_TOKEN: is set but empty"),
            ("SLOTGUARD_ADMIN_TOKEN", "short-token", "must be at least 16 characters"),
        ],
    )
    def test_bad_value_is_one_line(self, name: str, value: str, message: str) -> None:
        """A bad value raises SettingsError with a single line naming the variable."""
        os.environ[name] = value
        with pytest.raises(SettingsError) as caught:
            load_settings()
        assert message in str(caught.value)
        assert "\n" not in str(caught.value)

    def test_serving_needs_key_or_insecure_dev(self) -> None:
        """Without a Retell key the service must not serve unless SLOTGUARD_INSECURE_DEV=1."""
        assert "SLOTGUARD_RETELL_API_KEY" in (load_settings().serving_problem() or "")
        os.environ["SLOTGUARD_INSECURE_DEV"] = "1"
        assert load_settings().serving_problem() is None
        del os.environ["SLOTGUARD_INSECURE_DEV"]
        os.environ["SLOTGUARD_RETELL_API_KEY"] = "key_abc"
        assert load_settings().serving_problem() is None

    @pytest.mark.parametrize(
        ("host", "allowed"),
        [
            ("127.0.0.1", True),
            ("localhost", True),
            ("::1", True),
            ("127.0.0.2", True),
            ("0.0.0.0", False),
            ("::", False),
            ("192.168.1.10", False),
            ("example.com", False),
        ],
    )
    def test_insecure_dev_only_on_loopback(self, host: str, allowed: bool) -> None:
        """Unsigned calls are accepted only on a loopback address; a key lifts the limit."""
        os.environ.update({"SLOTGUARD_INSECURE_DEV": "1", "SLOTGUARD_HOST": host})
        problem = load_settings().serving_problem()
        assert (problem is None) == allowed, problem
        if not allowed:
            assert problem is not None and "only on loopback" in problem and "\n" not in problem
        os.environ["SLOTGUARD_RETELL_API_KEY"] = "key_abc"
        assert load_settings().serving_problem() is None


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from slotguard.cli.main import main; main()", *args]
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        command, capture_output=True, text=True, env={**os.environ, **env}, cwd=cwd, timeout=60
    )


class TestCliErrors:
    """The CLI turns bad settings and tenants files into one line and exit status 2."""

    def test_bad_setting_exits_2(self, tmp_path: Path) -> None:
        """An invalid port stops ``migrate`` with one error line, no traceback."""
        done = _cli("migrate", env={"SLOTGUARD_PORT": "x"}, cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.strip().splitlines() == [
            "slotguard: error: invalid SLOTGUARD_PORT: "
            "Input should be a valid integer, unable to parse string as an integer"
        ]

    def test_bad_tenants_file_exits_2(self, tmp_path: Path) -> None:
        """``tenants apply`` on a bad file prints one line naming the field."""
        bad = tmp_path / "t.toml"
        bad.write_text('[[companies]]\nslug = "a"\nname = "A"\ntimezone = "Mars/Base"\n')
        env = {"SLOTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
        done = _cli("tenants", "apply", str(bad), env=env, cwd=tmp_path)
        assert done.returncode == 2
        [line] = done.stderr.strip().splitlines()
        assert "companies[0] (a).timezone: unknown time zone 'Mars/Base'" in line

    def test_serve_refuses_without_key(self, tmp_path: Path) -> None:
        """``serve`` without a Retell key and without insecure dev mode refuses to start."""
        done = _cli("serve", env={"SLOTGUARD_DATABASE_URL": "sqlite:///x.db"}, cwd=tmp_path)
        assert done.returncode == 2
        assert "SLOTGUARD_INSECURE_DEV=1" in done.stderr

    def test_serve_insecure_on_all_interfaces_refused(self, tmp_path: Path) -> None:
        """``serve`` in insecure dev mode on 0.0.0.0 stops with one line, before binding."""
        env = {
            "SLOTGUARD_DATABASE_URL": "sqlite:///x.db",
            "SLOTGUARD_INSECURE_DEV": "1",
            "SLOTGUARD_HOST": "0.0.0.0",
        }
        done = _cli("serve", env=env, cwd=tmp_path)
        assert done.returncode == 2
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("slotguard: error: SLOTGUARD_INSECURE_DEV=1") and "loopback" in line

    def test_unreachable_database_is_one_line(self, tmp_path: Path) -> None:
        """A wrong PostgreSQL port stops ``migrate`` and ``serve`` with one line, no traceback."""
        env = {
            "SLOTGUARD_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nothing",
            "SLOTGUARD_RETELL_API_KEY": "key_abc",
        }
        for command in ("migrate", "serve"):
            done = _cli(command, env=env, cwd=tmp_path)
            assert done.returncode == 2, done.stderr
            [line] = done.stderr.strip().splitlines()
            assert line.startswith("slotguard: error: cannot reach the database: "), line
            assert "127.0.0.1" in line or "refused" in line.lower(), line

    def test_tenants_apply_twice(self, tmp_path: Path) -> None:
        """Migrate, then ``tenants apply`` twice: created once, unchanged the second time."""
        env = {"SLOTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
        path = tmp_path / "t.toml"
        from slotguard.tenants import DEMO_TENANTS

        path.write_text(DEMO_TENANTS, encoding="utf-8")
        assert _cli("migrate", env=env, cwd=tmp_path).returncode == 0
        first = _cli("tenants", "apply", str(path), env=env, cwd=tmp_path)
        second = _cli("tenants", "apply", str(path), env=env, cwd=tmp_path)
        assert "1 created, 0 updated, 0 unchanged" in first.stdout
        assert "0 created, 0 updated, 1 unchanged" in second.stdout
