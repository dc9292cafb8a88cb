"""Real HTTP servers on loopback: `serve_in_thread` for tests, `run_emulator` for the CLI.

Both run uvicorn (h11) with a protocol subclass that remembers each connection's
transport by client address, and offer the app the ASGI scope extension
`ABORT_EXTENSION`: a callable that closes the connection's socket at once. That is how
the emulator's `drop_connection` fault sends no HTTP response at all, and the client sees
"server disconnected without sending a response" rather than a slow answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .calcom_emulator import ABORT_EXTENSION, CalcomEmulator, EmulatorConfig

_STOP_TIMEOUT_SECONDS = 10.0  # graceful shutdown (2 s) plus the lifespan's own cleanup
_GRACEFUL_SHUTDOWN_SECONDS = 2  # then in-flight requests (e.g. a stalled answer) are cancelled

Client = tuple[str, int]


class _Connections:
    """Open transports by client address, so the app can cut its own connection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[Client, asyncio.BaseTransport] = {}

    def opened(self, client: Client, transport: asyncio.BaseTransport) -> None:
        """Remember a new connection."""
        with self._lock:
            self._open[client] = transport

    def closed(self, client: Client) -> None:
        """Forget a closed connection."""
        with self._lock:
            self._open.pop(client, None)

    def abort(self, client: Client) -> None:
        """Close the socket without writing anything more (the client reads EOF)."""
        with self._lock:
            transport = self._open.get(client)
        if transport is not None:
            transport.close()


def _protocol_class(connections: _Connections) -> type[H11Protocol]:
    class CuttableH11Protocol(H11Protocol):
        """uvicorn's h11 protocol, registering its transport for `ABORT_EXTENSION`."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if self.client is not None:
                connections.opened(self.client, transport)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.client is not None:
                connections.closed(self.client)
            super().connection_lost(exc)

    return CuttableH11Protocol


def _with_abort(app: ASGIApp, connections: _Connections) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] == "http" and client:
            abort = partial(connections.abort, (str(client[0]), int(client[1])))
            extensions = {**(scope.get("extensions") or {}), ABORT_EXTENSION: abort}
            scope = {**scope, "extensions": extensions}
        await app(scope, receive, send)

    return wrapped


def _config(app: ASGIApp, host: str, port: int, *, quiet: bool) -> uvicorn.Config:
    """Quiet (tests): no logging setup, no access log; otherwise uvicorn's usual logging."""
    connections = _Connections()
    logging_options: dict[str, Any] = (
        {"log_config": None, "log_level": "warning", "access_log": False} if quiet else {}
    )
    return uvicorn.Config(
        _with_abort(app, connections),
        host=host,
        port=port,
        http=_protocol_class(connections),
        ws="none",
        loop="asyncio",
        lifespan="auto",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
        **logging_options,
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _wait_started(server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server thread exited during startup (see its log)")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start within {timeout} s")
        time.sleep(0.005)


@contextlib.contextmanager
def serve_in_thread(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, startup_timeout: float = 10.0
) -> Iterator[str]:
    """Serve `app` with uvicorn in a background thread; yields the base URL.

    `port=0` picks a free port. The block is entered once the server accepts
    connections; leaving it stops the server and waits for the thread.
    """
    sock = _bind(host, port)
    server = uvicorn.Server(_config(app, host, port, quiet=True))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{host}", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread, startup_timeout)
        bound = sock.getsockname()[1]
        yield f"http://[{host}]:{bound}" if ":" in host else f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(_STOP_TIMEOUT_SECONDS)
        sock.close()


def run_emulator(
    host: str = "127.0.0.1", port: int = 8787, config: EmulatorConfig | None = None
) -> None:
    """Serve a Cal.com emulator until interrupted (for `slotguard emulator --port N`).

    Ctrl-C shuts down gracefully and returns normally.
    """
    emulator = CalcomEmulator(config)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises SIGINT after shutdown
        uvicorn.Server(_config(emulator.app, host, port, quiet=False)).run()


__all__ = ["EmulatorConfig", "run_emulator", "serve_in_thread"]
