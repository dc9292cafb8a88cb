"""The container image as far as it can be checked without a container tool.

`.ci/container` builds the real image and waits for /readyz where docker or podman can build.
Here: the Dockerfile's promises (locked dependencies, non-root, health check on /readyz,
`slotguard serve` as entrypoint), compose's wiring, and the package installed the way the
image installs it (a wheel, not the editable checkout) migrating and answering /readyz.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from slotguard.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = (ROOT / "compose.yaml").read_text(encoding="utf-8")
SETTINGS = {f"SLOTGUARD_{name.upper()}" for name in Settings.model_fields}


class TestDockerfile:
    """What the Dockerfile promises, read from the file."""

    def test_installs_exactly_the_locked_dependencies(self) -> None:
        """Dependencies come from requirements.lock with hashes; the package adds none."""
        assert "pip install --require-hashes -r requirements.lock" in DOCKERFILE
        assert "pip install --no-deps --no-build-isolation ." in DOCKERFILE

    def test_runs_as_an_unprivileged_user(self) -> None:
        """The final stage switches to a system user before the entrypoint."""
        final = DOCKERFILE.rsplit("\nFROM ", 1)[1]
        assert "useradd --system" in final
        assert re.search(r"^USER slotguard$", final, re.MULTILINE)
        assert final.index("USER slotguard") < final.index("ENTRYPOINT")

    def test_serves_and_checks_readiness(self) -> None:
        """`slotguard serve` is the default command; the health check asks /readyz."""
        assert 'ENTRYPOINT ["slotguard"]' in DOCKERFILE
        assert 'CMD ["serve"]' in DOCKERFILE
        health = DOCKERFILE[DOCKERFILE.index("HEALTHCHECK") :]
        assert "/readyz" in health.split("ENTRYPOINT")[0]

    def test_build_context_is_small(self) -> None:
        """.dockerignore lets in only the lock, the metadata and src/."""
        ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
        assert ignore[ignore.index("*") :][:5] == [
            "*",
            "!requirements.lock",
            "!pyproject.toml",
            "!README.md",
            "!src/",
        ]

    def test_names_only_real_settings(self) -> None:
        """Every SLOTGUARD_* variable the Dockerfile and compose set is a setting."""
        named = set(re.findall(r"SLOTGUARD_[A-Z_]+", DOCKERFILE + COMPOSE))
        assert named
        assert named <= SETTINGS, named - SETTINGS


class TestCompose:
    """compose.yaml: PostgreSQL, then migrations, then the service."""

    def test_migrations_run_before_the_service(self) -> None:
        """A one-shot `migrate` service, and the service waits for it to succeed."""
        migrate = _service("migrate")
        assert 'command: ["migrate"]' in migrate
        assert re.search(r"db:\s+condition: service_healthy", migrate)
        service = _service("slotguard")
        assert 'command: ["serve"]' in service
        assert re.search(r"migrate:\s+condition: service_completed_successfully", service)

    def test_publishes_on_loopback_only(self) -> None:
        """The port is published on 127.0.0.1, not on every interface of the host."""
        assert re.findall(r'- "([^"]*):8000"', COMPOSE) == ["127.0.0.1:${HOST_PORT:-8000}"]


def _service(name: str) -> str:
    match = re.search(rf"^  {name}:\n((?:    .*\n|\n)+)", COMPOSE, re.MULTILINE)
    assert match, f"no service {name} in compose.yaml"
    return match.group(1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The package built as a wheel and installed into a folder, as the image does."""
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", out, ROOT)
    (wheel,) = out.glob("slotguard-*.whl")
    target = out / "site"
    _run(sys.executable, "-m", "pip", "install", "--no-deps", "--target", target, wheel)
    yield target


class TestInstalledPackage:
    """The wheel carries what the service needs at run time and serves from it."""

    def test_wheel_carries_templates_assets_and_migrations(self, installed: Path) -> None:
        """Templates, the stylesheet and every migration script are in the package."""
        package = installed / "slotguard"
        scripts = sorted(
            p.name for p in (ROOT / "src/slotguard/store/migrations/versions").glob("*.py")
        )
        assert (
            sorted(p.name for p in (package / "store/migrations/versions").glob("*.py")) == scripts
        )
        assert (package / "api/templates/company.html").is_file()
        assert (package / "api/static/dashboard.css").is_file()

    def test_migrates_and_answers_readyz(self, installed: Path, tmp_path: Path) -> None:
        """From the installed wheel: `migrate` on an empty database, then `serve` is ready."""
        port = _free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(installed),
            "SLOTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'image.db'}",
            "SLOTGUARD_INSECURE_DEV": "1",
            "SLOTGUARD_PORT": str(port),
            "SLOTGUARD_RECONCILE_INTERVAL_SECONDS": "0",
        }
        where = _run(sys.executable, "-c", "import slotguard; print(slotguard.__file__)", env=env)
        assert Path(where.strip()).is_relative_to(installed)
        command = [sys.executable, "-m", "slotguard.cli"]
        _run(*command, "migrate", env=env)
        with subprocess.Popen(  # noqa: S603 - our own CLI
            [*command, "serve"], env=env, stderr=subprocess.PIPE, text=True
        ) as server:
            try:
                ready = _wait_ready(f"http://127.0.0.1:{port}/readyz", server)
            finally:
                server.terminate()
                _, log = server.communicate(timeout=15)
        assert ready.status_code == 200, log
        assert ready.json()["status"] == "ok"


def _wait_ready(url: str, server: subprocess.Popen[str], seconds: float = 60) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _run(*args: object, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - fixed tools with our own paths
        [str(a) for a in args], capture_output=True, text=True, check=False, env=env, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
