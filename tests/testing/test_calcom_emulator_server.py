"""`serve_in_thread`: a real uvicorn server on loopback that starts and stops cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from slotguard.testing import serve_in_thread


async def _hello(_: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


class TestServeInThread:
    """The context manager around uvicorn."""

    def test_serves_any_app_and_stops(self) -> None:
        """The yielded URL answers while inside the block and refuses connections after it."""
        app = Starlette(routes=[Route("/", _hello)])
        with serve_in_thread(app) as base_url:
            assert base_url.startswith("http://127.0.0.1:")
            assert httpx.get(base_url).text == "hello"
        with pytest.raises(httpx.ConnectError):
            httpx.get(base_url, timeout=1)

    def test_two_servers_get_distinct_ports(self) -> None:
        """port=0 picks a free port per server."""
        app = Starlette(routes=[Route("/", _hello)])
        with serve_in_thread(app) as first, serve_in_thread(app) as second:
            assert first != second


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class TestRunEmulator:
    """The blocking entry point a `slotguard emulator` command will call."""

    def test_serves_until_interrupted(self) -> None:
        """run_emulator answers Cal.com requests on the given port and exits on SIGINT."""
        port = _free_port()
        code = f"from slotguard.testing import run_emulator; run_emulator(port={port})"
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and a fixed snippet
            [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            response = _wait_for_answer(f"http://127.0.0.1:{port}/v2/slots")
            assert response.status_code == 200
            assert "2031-01-01" in response.json()["data"]
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0


def _wait_for_answer(url: str) -> httpx.Response:
    params = {"eventTypeId": "1001", "start": "2031-01-01", "end": "2031-01-01"}
    deadline = time.monotonic() + 15
    while True:
        try:
            return httpx.get(url, params=params, headers={"cal-api-version": "2024-09-04"})
        except httpx.ConnectError:
            assert time.monotonic() < deadline, "run_emulator did not start"
            time.sleep(0.05)
