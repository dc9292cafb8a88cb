"""uvicorn's HTTP protocol with TCP_NODELAY on every accepted connection.

With ``--workers`` > 1 uvicorn binds the listening socket itself without naming the TCP
protocol, and asyncio then skips TCP_NODELAY on accepted sockets: every response waited
~40 ms for the client's delayed ACK (measured in bench.latency). Setting it here makes one
and several workers answer alike.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    """H11Protocol that disables Nagle's algorithm on its connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Set TCP_NODELAY, then proceed as uvicorn does."""
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
