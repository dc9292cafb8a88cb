"""A pg_auto_failover cluster from ``scripts/pg-cluster.sh``, driven from Python (tests, bench)."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pg-cluster.sh"
# Bringing the cluster up takes ~30 s on an idle machine (three initdb, one base backup).
UP_TIMEOUT_SECONDS = 300


class ClusterUnavailable(RuntimeError):
    """The cluster script could not start a cluster on this machine (output attached)."""


@dataclass
class Cluster:
    """One running cluster: a monitor and the nodes ``node1`` and ``node2`` on loopback."""

    directory: Path
    port: int

    @classmethod
    def up(cls) -> Cluster:
        """Start a cluster in a fresh temporary directory on free ports."""
        directory = Path(tempfile.mkdtemp(prefix="slotguard-pg-cluster-"))
        cluster = cls(directory, _free_port_block())
        try:
            cluster._run("up", timeout=UP_TIMEOUT_SECONDS)
        except ClusterUnavailable:
            cluster.down()
            raise
        return cluster

    def down(self) -> None:
        """Stop every process of the cluster and remove its directory."""
        self._run("down", timeout=120, check=False)
        if self.directory.exists() and not any(self.directory.iterdir()):
            self.directory.rmdir()

    def url(self, database: str = "slotguard") -> str:
        """The multi-host URL of ``database`` with ``target_session_attrs=read-write``."""
        return self._run("url", database).strip()

    def primary(self) -> str:
        """The node that is primary now (``node1`` or ``node2``)."""
        return self._run("primary").strip()

    def port_of(self, node: str) -> int:
        """The PostgreSQL port of ``node``."""
        return self.port + int(node.removeprefix("node"))

    def kill(self, node: str) -> None:
        """SIGKILL the node's keeper and postmaster: the machine died."""
        self._run("kill", node)

    def start(self, node: str) -> None:
        """Start a killed node again; it rejoins as a standby."""
        self._run("start", node)

    def wait_primary(self, seconds: float = 120) -> None:
        """Until a node accepts writes."""
        self._run("wait-primary", str(int(seconds)), timeout=seconds + 30)

    def wait_in_sync(self, seconds: float = 180) -> None:
        """Until there is a primary and a synchronous standby again."""
        self._run("wait-secondary", str(int(seconds)), timeout=seconds + 30)

    def _run(self, *args: str, timeout: float = 60, check: bool = True) -> str:
        env = {
            **os.environ,
            "PG_CLUSTER_DIR": str(self.directory),
            "PG_CLUSTER_PORT": str(self.port),
        }
        done = subprocess.run(  # noqa: S603 - our own script
            [str(SCRIPT), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise ClusterUnavailable(
                f"scripts/pg-cluster.sh {' '.join(args)} exited {done.returncode}: "
                f"{(done.stderr or done.stdout).strip()[-2000:]}"
            )
        return done.stdout


def _free_port_block() -> int:
    """A port whose next two are free on loopback too (monitor, node1, node2)."""
    rng = random.Random(time.time_ns())
    for _ in range(50):
        base = rng.randrange(20000, 30000)
        if all(_free(base + offset) for offset in range(3)):
            return base
    raise ClusterUnavailable("no three consecutive free ports found")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
