"""The business statistics of duplicate prevention: what the three layers found and saved.

Read by the admin API (``/api/v1/stats``) and the dashboard; the formulas are explained in
the README (Operating slotguard).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from slotguard.booking.context import Context
from slotguard.domain import Reason, Result
from slotguard.observability import Metrics
from slotguard.store.admin import AdminRepository, DecisionFilter

# Mean Cal.com create latency used for "API time saved" until this process has timed one
# successful POST /v2/bookings itself: a conservative figure for one HTTPS round trip plus
# Cal.com's own booking work (availability check, calendar writes, confirmation mail queued).
FALLBACK_CREATE_SECONDS = 0.8
CREATE_ENDPOINT = "bookings.create"


@dataclass(frozen=True)
class Stats:
    """Counters of the three layers and what they saved; see README § Operating slotguard."""

    layer1_detections: int
    layer2_preventions: int
    layer3_catches: int
    calendar_calls_avoided: int
    false_positives: int
    false_positive_rate: float | None
    mean_create_seconds: float
    mean_create_source: Literal["histogram", "fallback"]
    api_time_saved_seconds: float


def mean_create_seconds(metrics: Metrics) -> tuple[float, Literal["histogram", "fallback"]]:
    """Mean latency of successful Cal.com creates in this process, or the fallback."""
    total = count = 0.0
    for family in metrics.calendar_requests.collect():
        for sample in family.samples:
            labels = sample.labels
            if labels.get("endpoint") != CREATE_ENDPOINT or labels.get("outcome") != "ok":
                continue
            if sample.name.endswith("_sum"):
                total += sample.value
            elif sample.name.endswith("_count"):
                count += sample.value
    return (total / count, "histogram") if count else (FALLBACK_CREATE_SECONDS, "fallback")


async def load_stats(ctx: Context, where: DecisionFilter) -> Stats:
    """The layers' counters for ``where`` and the derived savings (formulas in the README)."""
    async with ctx.sessions() as session:
        repo = AdminRepository(session)
        counts = await repo.decision_counts(where)
        not_pursued = await repo.warnings_not_pursued(where)
    findings: Counter[tuple[int, str, bool]] = Counter()
    for (layer, result, reason, fp), n in counts.items():
        if result != Result.CLEAR and reason != Reason.KNOWN_BOOKING_UID:
            findings[layer, result, fp] += n
    layer1 = sum(n for (layer, _, _), n in findings.items() if layer == 1)
    layer2 = sum(n for (_, result, _), n in findings.items() if result == Result.BLOCKED)
    layer3 = sum(n for (layer, _, _), n in findings.items() if layer == 3)
    false_positives = sum(n for (layer, _, fp), n in findings.items() if fp and layer < 3)
    reviewed = sum(n for (layer, _, _), n in findings.items() if layer < 3)
    avoided = layer2 + not_pursued
    mean, source = mean_create_seconds(ctx.metrics)
    return Stats(
        layer1_detections=layer1,
        layer2_preventions=layer2,
        layer3_catches=layer3,
        calendar_calls_avoided=avoided,
        false_positives=false_positives,
        false_positive_rate=false_positives / reviewed if reviewed else None,
        mean_create_seconds=round(mean, 4),
        mean_create_source=source,
        api_time_saved_seconds=round(avoided * mean, 3),
    )
