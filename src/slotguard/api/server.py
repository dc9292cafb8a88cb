"""uvicorn's fast HTTP protocol (httptools) with TCP_NODELAY on every accepted connection.

With ``--workers`` > 1 uvicorn binds the listening socket itself without naming the TCP
protocol, and asyncio then skips TCP_NODELAY on accepted sockets: every response waited
~40 ms for the client's delayed ACK (measured in bench.latency). Setting it here makes one
and several workers answer alike, on either event loop.

httptools (llhttp, in C) parses a request several times faster than the pure-Python h11
that uvicorn falls back to; see the throughput section of BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Disable Nagle's algorithm on ``transport``'s TCP socket (a no-op for Unix sockets)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that disables Nagle's algorithm on its connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Set TCP_NODELAY, then proceed as uvicorn does."""
        set_nodelay(transport)
        super().connection_made(transport)
