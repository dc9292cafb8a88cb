"""`slotguard serve`'s HTTP protocol: httptools on uvloop, TCP_NODELAY on every connection."""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from slotguard.api.app import app_from_environment
from slotguard.api.server import NoDelayHttpToolsProtocol
from tests.logs import reset_logging


async def _hello(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]}
    )
    await send({"type": "http.response.body", "body": b"hello"})


@contextmanager
def _serving(protocol: type[Any], loop: str) -> Iterator[tuple[uvicorn.Server, int]]:
    # Bound as uvicorn binds for --workers > 1: no IPPROTO_TCP named, so asyncio alone
    # would leave Nagle's algorithm on for every accepted connection.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        _hello, http=protocol, loop=loop, lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.005)
    try:
        yield server, sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _nodelay_of_open_connections(server: uvicorn.Server, port: int) -> list[int]:
    """Open a kept-alive connection, get an answer, and read the option on the server's side."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while not answer.endswith(b"hello"):
            answer += client.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200")
        connections = list(server.server_state.connections)
        return [
            c.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            for c in connections
        ]


class TestNoDelay:
    """Every accepted connection answers without waiting for the client's delayed ACK."""

    @pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
    def test_accepted_connection_has_tcp_nodelay(self, loop: str) -> None:
        """On the socket `serve --workers N` binds, our protocol turns Nagle off."""
        with _serving(NoDelayHttpToolsProtocol, loop) as (server, port):
            options = _nodelay_of_open_connections(server, port)
        assert len(options) == 1
        assert options[0] != 0

    def test_plain_protocol_on_asyncio_leaves_nagle_on(self) -> None:
        """The control: uvicorn's own protocol on asyncio's loop leaves the option unset."""
        with _serving(HttpToolsProtocol, "asyncio") as (server, port):
            options = _nodelay_of_open_connections(server, port)
        assert options == [0]


def test_a_worker_keeps_what_it_built_out_of_the_collector(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """The worker factory freezes what startup made, so full collections stay short."""
    monkeypatch.setenv("SLOTGUARD_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("SLOTGUARD_INSECURE_DEV", "1")
    gc.unfreeze()
    try:
        app = app_from_environment()
        assert app.title == "slotguard"
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process keeps collecting as before
        reset_logging()  # and logs as before the factory configured it
