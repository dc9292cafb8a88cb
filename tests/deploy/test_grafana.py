"""deploy/grafana/slotguard.json: it parses, and every query reads series that exist.

"Exist" means: exposed by the app's own /metrics (slotguard's, the process's and Python's),
or Prometheus's ``up``. A renamed metric that the dashboard still reads fails here, not on an
operator's empty panel.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.testing.asgi import lifespan_client
from tests import databases

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "slotguard.json"
_SUFFIXES = {"histogram": ("_bucket", "_count", "_sum"), "summary": ("_count", "_sum")}
# Prometheus's own series about a scrape target.
_FROM_PROMETHEUS = {"up"}
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = {"and", "or", "unless", "offset", "bool"}


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression reads (functions, labels and keywords left out)."""
    text = _STRINGS.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = _GROUPING.sub("", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("(") or match.group() in _KEYWORDS:
            continue  # a function call or an operator
        if text[: match.start()].rstrip().endswith(("$", "$__")):
            continue
        names.add(match.group())
    return names


def _panels() -> list[dict[str, Any]]:
    document = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = []
    for panel in document["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return [p for p in found if p["type"] != "row"]


def _exprs() -> list[str]:
    return [t["expr"] for p in _panels() for t in p["targets"]]


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every series name the app's /metrics can carry (from its # TYPE lines)."""
    url = databases.sqlite_url(tmp_path_factory.mktemp("grafana"))
    databases.migrate(url)
    app = create_app(Settings(database_url=url, insecure_dev=True, reconcile_interval_seconds=0))

    async def scrape() -> str:
        async with lifespan_client(app) as client:
            return (await client.get("/metrics")).text

    text = asyncio.run(scrape())
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE):
        names.add(name)
        names.update(name + suffix for suffix in _SUFFIXES.get(kind, ()))
    return names


class TestDashboard:
    """The dashboard JSON as Grafana imports it."""

    def test_parses_with_unique_panel_ids(self) -> None:
        """Valid JSON; every panel has a title, a Prometheus datasource and an id of its own."""
        panels = _panels()
        assert len(panels) >= 12
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids))
        for panel in panels:
            assert panel["title"]
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], panel["title"]

    def test_panels_do_not_overlap(self) -> None:
        """No two panels share a grid cell (Grafana would push one down silently)."""
        cells: dict[tuple[int, int], str] = {}
        for panel in _panels():
            grid = panel["gridPos"]
            for x in range(grid["x"], grid["x"] + grid["w"]):
                for y in range(grid["y"], grid["y"] + grid["h"]):
                    assert (x, y) not in cells, (panel["title"], cells.get((x, y)))
                    cells[x, y] = panel["title"]

    def test_every_query_reads_existing_metrics(self, exposed: set[str]) -> None:
        """Each name a query reads is on /metrics (or is Prometheus's `up`)."""
        for expr in _exprs():
            names = metric_names(expr)
            assert names, expr
            assert names <= exposed | _FROM_PROMETHEUS, (expr, names - exposed)

    def test_covers_what_an_operator_watches(self) -> None:
        """Decisions per layer, false positives, latency, Cal.com, pending age, webhook lag."""
        used = set().union(*(metric_names(e) for e in _exprs()))
        assert {
            "slotguard_duplicate_decisions_total",
            "slotguard_false_positives_total",
            "slotguard_function_call_seconds_bucket",
            "slotguard_calendar_request_seconds_count",
            "slotguard_calcom_budget_remaining",
            "slotguard_oldest_pending_appointment_seconds",
            "slotguard_webhook_lag_seconds_bucket",
            "slotguard_http_requests_total",
        } <= used


class TestMetricNames:
    """The extraction the tests above rely on."""

    @pytest.mark.parametrize(
        ("expr", "names"),
        [
            ('sum by (le) (rate(a_bucket{x="1",y=~"a|b"}[$__rate_interval]))', {"a_bucket"}),
            (
                'sum(increase(a_total[7d])) / sum(increase(b_total{l!="x"}[7d]))',
                {"a_total", "b_total"},
            ),
            ('absent(up{job="slotguard"}) or max(g) > 600', {"up", "g"}),
            ("count by (version, python) (build_info)", {"build_info"}),
        ],
    )
    def test_names(self, expr: str, names: set[str]) -> None:
        """Functions, grouping labels, matchers and ranges are not mistaken for metrics."""
        assert metric_names(expr) == names
