"""deploy/prometheus/alerts.yml: structure, metric names, and promtool's own checks.

PyYAML is not a dependency, so the file keeps to a small YAML subset (block mappings, lists of
mappings, plain and folded scalars) that ``parse_yaml`` below reads. ``promtool`` (Debian
package ``prometheus``) checks the real thing when it is on PATH.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.metrics_core import Metric

from slotguard.observability import Metrics

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (apt-get install -y prometheus)"
)
Line = tuple[int, str]


def parse_yaml(text: str) -> Any:
    """Parse the YAML subset the rules file is written in."""
    lines = [
        (len(raw) - len(raw.lstrip(" ")), raw.strip())
        for raw in text.splitlines()
        if raw.strip() and not raw.lstrip().startswith("#")
    ]
    value, end = _node(lines, 0, lines[0][0])
    assert end == len(lines), f"unparsed line: {lines[end]}"
    return value


def _node(lines: list[Line], i: int, indent: int) -> tuple[Any, int]:
    if not lines[i][1].startswith("- "):
        return _mapping(lines, i, indent)
    items: list[Any] = []
    while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
        lines[i] = (indent + 2, lines[i][1][2:])
        item, i = _mapping(lines, i, indent + 2)
        items.append(item)
    return items, i


def _mapping(lines: list[Line], i: int, indent: int) -> tuple[dict[str, Any], int]:
    found: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
        key, colon, rest = lines[i][1].partition(":")
        assert colon and key not in found, f"bad line {lines[i]}"
        rest, i = rest.strip(), i + 1
        if rest in (">-", ">"):
            parts = []
            while i < len(lines) and lines[i][0] > indent:
                parts.append(lines[i][1])
                i += 1
            found[key] = " ".join(parts)
        elif rest:
            found[key] = json.loads(rest) if rest[0] in '["' else rest
        else:
            found[key], i = _node(lines, i, lines[i][0])
    return found, i


def _rules() -> list[dict[str, Any]]:
    document = parse_yaml(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def _exposed_names() -> set[str]:
    suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_count", "_sum"]}
    families: list[Metric] = list(Metrics().registry.collect())
    return {f.name + s for f in families for s in suffixes.get(f.type, [""])}


class TestRulesFile:
    """The rules as a structure, without Prometheus."""

    def test_parser_reads_folded_scalars(self) -> None:
        """The subset parser folds '>-' blocks and reads lists of mappings."""
        text = "a:\n  - b: >-\n      x\n      y\n    c: 1\n"
        assert parse_yaml(text) == {"a": [{"b": "x y", "c": "1"}]}

    def test_every_rule_is_complete(self) -> None:
        """Each alert has an expression, a severity, a summary and a description."""
        rules = _rules()
        names = [r["alert"] for r in rules]
        assert len(names) == len(set(names))
        for rule in rules:
            assert rule["expr"]
            assert rule["labels"]["severity"] in ("warning", "critical")
            assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}

    def test_every_rule_has_a_runbook_section(self) -> None:
        """Each runbook_url names a section of docs/runbook.md, titled with the alert's name."""
        sections = {
            line.removeprefix("## ").strip().lower()
            for line in RUNBOOK.read_text(encoding="utf-8").splitlines()
            if line.startswith("## ")
        }
        for rule in _rules():
            path, _, anchor = rule["annotations"]["runbook_url"].partition("#")
            assert path == "docs/runbook.md"
            assert anchor == rule["alert"].lower()
            assert anchor in sections, f"docs/runbook.md has no section {rule['alert']}"

    def test_availability_is_watched(self) -> None:
        """A target that is down, and a target that vanished, both alert."""
        exprs = {r["alert"]: r["expr"] for r in _rules()}
        assert exprs["SlotguardDown"] == 'up{job="slotguard"} == 0'
        assert exprs["SlotguardAbsent"] == 'absent(up{job="slotguard"})'

    def test_thresholds(self) -> None:
        """The agreed thresholds: L1 > 10/h, L2 > 5/h, L3 > 1/d, FP > 1 %, 10 min, 5 %."""
        exprs = {r["alert"]: r["expr"] for r in _rules()}
        assert exprs["SlotguardLayer1WarningsHigh"].endswith("[1h])) > 10")
        assert exprs["SlotguardLayer2RefusalsHigh"].endswith("[1h])) > 5")
        assert exprs["SlotguardLayer3Catches"].endswith("[1d])) > 1")
        assert exprs["SlotguardFalsePositiveRateHigh"].endswith("> 0.01")
        assert exprs["SlotguardPendingTooOld"].endswith("> 600")
        assert "[10m])) > 0.05" in exprs["SlotguardCalcomErrorRate"]

    def test_metric_names_exist(self) -> None:
        """Every slotguard_* series an alert reads is one the app exposes."""
        used = {m for r in _rules() for m in re.findall(r"slotguard_[a-z_]+", r["expr"])}
        assert used <= _exposed_names()
        assert "slotguard_false_positives_total" in used


class TestPromtool:
    """promtool validates the file and runs the alerts on synthetic series."""

    @needs_promtool
    def test_check_rules(self) -> None:
        """`promtool check rules` accepts the file."""
        done = _promtool("check", "rules", str(RULES))
        assert done.returncode == 0, done.stdout + done.stderr

    @needs_promtool
    def test_alerts_fire_on_bad_series(self, tmp_path: Path) -> None:
        """Each alert fires on series past its threshold and stays quiet below it."""
        annotations = {r["alert"]: (r["labels"], r["annotations"]) for r in _rules()}
        target = {"job": "slotguard", "instance": "slotguard:8000"}
        cases = {name: [_expected(*annotations[name])] for name in annotations}
        cases["SlotguardDown"] = [_expected(*annotations["SlotguardDown"], extra=target)]
        cases["SlotguardAbsent"] = []  # the target exists, though down
        quiet = {
            "SlotguardLayer3Catches": [],
            "SlotguardCalcomErrorRate": [],
            "SlotguardDown": [],
            "SlotguardCallbackNeeded": [],
        }
        # No target at all: only the absence alerts.
        quiet["SlotguardAbsent"] = [
            _expected(*annotations["SlotguardAbsent"], extra={"job": "slotguard"})
        ]
        suite = {
            "rule_files": [str(RULES)],
            "evaluation_interval": "1m",
            "tests": [_case(LOUD, cases), _case(QUIET, quiet)],
        }
        path = tmp_path / "alerts_test.yml"
        path.write_text(json.dumps(suite), encoding="utf-8")  # JSON is YAML
        done = _promtool("test", "rules", str(path))
        assert done.returncode == 0, done.stdout + done.stderr


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(  # noqa: S603 - a fixed tool with our own file names
        [PROMTOOL, *args], capture_output=True, text=True, check=False, timeout=60
    )


def _expected(
    labels: dict[str, str], notes: dict[str, str], extra: dict[str, str] | None = None
) -> dict[str, Any]:
    return {"exp_labels": {**labels, **(extra or {})}, "exp_annotations": notes}


def _case(series: dict[str, str], alerts: dict[str, list[Any]]) -> dict[str, Any]:
    return {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series.items()],
        "alert_rule_test": [
            {"eval_time": "30m", "alertname": name, "exp_alerts": expected}
            for name, expected in alerts.items()
        ],
    }


_D = "slotguard_duplicate_decisions_total"
_CAL = "slotguard_calendar_request_seconds_count"
LOUD = {
    f'{_D}{{layer="1",result="warning",reason="same_day",action="warning"}}': "0+1x30",
    f'{_D}{{layer="2",result="blocked",reason="overlapping",action="blocked"}}': "0+1x30",
    f'{_D}{{layer="3",result="flagged",reason="external_duplicate",action="flagged"}}': "0+1x30",
    'slotguard_false_positives_total{layer="2",reason="overlapping"}': "0+1x30",
    "slotguard_oldest_pending_appointment_seconds": "0+60x30",
    "slotguard_callbacks_needed": "1x30",
    f'{_CAL}{{provider="calcom",endpoint="bookings.create",outcome="ok"}}': "0+10x30",
    f'{_CAL}{{provider="calcom",endpoint="bookings.create",outcome="server_error"}}': "0+2x30",
    'up{job="slotguard",instance="slotguard:8000"}': "0x30",
}
QUIET = {
    # Every booking's webhook echo is routine; a trickle of errors on little traffic is noise.
    f'{_D}{{layer="3",result="merged",reason="known_booking_uid",action="ignored"}}': "0+5x30",
    f'{_CAL}{{provider="calcom",endpoint="slots",outcome="transport_error"}}': "0+1x30",
    "slotguard_callbacks_needed": "0x30",
}
