"""Request ids, one log line per request, crash logs with tracebacks, and /metrics hygiene."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi import FastAPI

from slotguard import __version__
from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.testing.asgi import lifespan_client
from tests import databases
from tests.logs import LogLines, json_logs

__all__ = ["json_logs"]


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """The app on a migrated SQLite file, with one route that crashes."""
    url = databases.sqlite_url(tmp_path)
    databases.migrate(url)
    app = create_app(Settings(database_url=url, insecure_dev=True, reconcile_interval_seconds=0))

    async def crash() -> None:
        logging.getLogger("slotguard.test").warning("about to fail")
        raise RuntimeError("kaboom for +4915112345678")

    app.add_api_route("/crash", crash)
    return app


class TestRequestId:
    """Every response names its request id; a sane incoming one is kept."""

    async def test_a_sane_incoming_id_is_echoed(self, app: FastAPI) -> None:
        """A proxy's id (printable, short) comes back unchanged."""
        async with lifespan_client(app) as client:
            response = await client.get("/healthz", headers={"X-Request-ID": "edge-7f3a:42"})
        assert response.headers["x-request-id"] == "edge-7f3a:42"

    @pytest.mark.parametrize("given", [b"", b"two words", b"x" * 129, b"<script>", "ä".encode()])
    async def test_an_insane_incoming_id_is_replaced(self, app: FastAPI, given: bytes) -> None:
        """Spaces, markup, overlong or non-ASCII ids are not trusted: a fresh one is used."""
        async with lifespan_client(app) as client:
            response = await client.get("/healthz", headers={"X-Request-ID": given})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])

    async def test_each_request_gets_its_own(self, app: FastAPI) -> None:
        """Without an incoming id every request gets a new one, also on 404."""
        async with lifespan_client(app) as client:
            ids = {(await client.get(p)).headers["x-request-id"] for p in ("/healthz", "/nope")}
        assert len(ids) == 2


class TestRequestLog:
    """What the log says about a request."""

    async def test_every_line_of_a_request_carries_its_id(
        self, app: FastAPI, json_logs: LogLines
    ) -> None:
        """The warning, the function-call line and the request line of one call name its id."""
        body = {
            "call": {"call_id": "c-log", "agent_id": "agent_demo", "from_number": "+4915112345678"},
            "args": {},
        }
        async with lifespan_client(app) as client:
            json_logs()
            response = await client.post("/retell/functions/check_customer", json=body)
            lines = json_logs()
        request_id = response.headers["x-request-id"]
        assert response.status_code == 200
        assert lines, "the request wrote no log line"
        assert {line.get("request_id") for line in lines} == {request_id}
        request_line = next(line for line in lines if line["event"] == "http_request")
        assert request_line["route"] == "/retell/functions/{name}"
        assert request_line["status"] == 200
        function_line = next(line for line in lines if line["event"] == "function_call")
        # No tenant applied here: the agent id is unknown, and that is logged as well.
        assert (function_line["call_id"], function_line["reason"]) == ("c-log", "unknown_tenant")
        assert [line["event"] for line in lines] == [
            "unknown_tenant",
            "function_call",
            "http_request",
        ]
        assert "+4915112345678" not in str(lines)

    async def test_a_crash_is_logged_with_its_traceback(
        self, app: FastAPI, json_logs: LogLines
    ) -> None:
        """An unhandled error: a JSON 500 naming the id, one log line with the traceback."""
        async with lifespan_client(app) as client:
            json_logs()
            response = await client.get("/crash")
            lines = json_logs()
        request_id = response.headers["x-request-id"]
        assert response.status_code == 500
        assert request_id in response.json()["detail"]
        assert {line.get("request_id") for line in lines} == {request_id}
        (crash,) = [line for line in lines if line["event"] == "unhandled_error"]
        assert crash["level"] == "error"
        assert "exc_info" not in crash
        assert "Traceback (most recent call last)" in crash["exception"]
        assert "RuntimeError: kaboom for +49151*****678" in crash["exception"]
        warned = next(line for line in lines if line["event"] == "about to fail")
        assert warned["component"] == "slotguard.test"  # standard-library lines are JSON too

    async def test_probes_log_at_debug_only(self, app: FastAPI, json_logs: LogLines) -> None:
        """/healthz, /readyz and /metrics, hit all day, write debug lines, not info."""
        async with lifespan_client(app) as client:
            json_logs()
            for path in ("/healthz", "/readyz", "/metrics"):
                await client.get(path)
            lines = json_logs()
        assert [line["level"] for line in lines if line["event"] == "http_request"] == ["debug"] * 3


class TestMetrics:
    """/metrics: no `_created` series, process and Python series, build info, HTTP counter."""

    async def test_exposition(self, app: FastAPI) -> None:
        """After a few requests the counter names route templates and statuses."""
        async with lifespan_client(app) as client:
            await client.get("/healthz")
            await client.post("/retell/functions/nope", json={"call": {}, "args": {}})
            await client.get("/no/such/path")
            text = (await client.get("/metrics")).text
        assert "_created" not in text
        for family in ("process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"):
            assert f"\n{family}" in text, family
        assert 'slotguard_build_info{python="' in text
        assert f'version="{__version__}"' in text
        counted = _samples(text, "slotguard_http_requests_total")
        assert counted[("GET", "/healthz", "200")] == 1
        assert counted[("GET", "unmatched", "404")] == 1
        assert sum(v for (m, r, _), v in counted.items() if r == "/retell/functions/{name}") == 1

    async def test_a_crash_is_counted_as_500(self, app: FastAPI) -> None:
        """The crashed request is counted with status 500 under its route."""
        async with lifespan_client(app) as client:
            await client.get("/crash")
            text = (await client.get("/metrics")).text
        assert _samples(text, "slotguard_http_requests_total")[("GET", "/crash", "500")] == 1


def _samples(text: str, name: str) -> dict[tuple[str, str, str], float]:
    pattern = re.compile(
        rf'^{name}\{{method="([^"]*)",route="([^"]*)",status="([^"]*)"\}} (\S+)$', re.MULTILINE
    )
    return {(m, r, s): float(v) for m, r, s, v in pattern.findall(text)}
