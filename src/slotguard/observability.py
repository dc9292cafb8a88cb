"""Structured logs (structlog, personal data masked) and the Prometheus metrics of one app."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# Set by `slotguard serve --workers N`: every worker writes its samples there and /metrics
# on any worker answers for all of them (prometheus_client's multiprocess mode).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_PHONE = re.compile(r"\+\d{7,15}")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_SECRET_KEYS = frozenset({"api_key", "authorization", "secret", "token", "signature"})
_PHONE_KEYS = frozenset({"phone", "phone_e164", "from_number", "to_number", "caller"})
_UNMASKED = frozenset({"event", "timestamp", "level", "component"})


def mask_phone(value: str) -> str:
    """``+4915112345678`` → ``+49151*****678``: enough to tell callers apart in a log."""
    digits = value.strip()
    return digits if len(digits) < 7 else digits[:6] + "*" * (len(digits) - 9) + digits[-3:]


def mask_text(value: str) -> str:
    """Mask every phone number and email address inside free text."""
    value = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", value)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), value)


def _mask_processor(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    for key, value in list(event.items()):
        if key in _SECRET_KEYS:
            event[key] = "***"
        elif key in _PHONE_KEYS and isinstance(value, str):
            event[key] = mask_phone(value)
        elif isinstance(value, str) and key not in _UNMASKED:
            event[key] = mask_text(value)
    return event


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Route structlog to stderr as JSON (or console lines); phone numbers and emails masked."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A structlog logger bound to a component name."""
    return structlog.get_logger(component=name)


# Latency buckets in seconds: a voice turn budget is ~1 s, our own part aims at < 15 ms.
_FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """All Prometheus series of one app instance, in its own registry (tests stay independent)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.duplicate_decisions = Counter(
            "slotguard_duplicate_decisions_total",
            "Duplicate-detection decisions by layer, result, reason and action.",
            ["layer", "result", "reason", "action"],
            registry=r,
        )
        self.function_calls = Histogram(
            "slotguard_function_call_seconds",
            "Retell function-call handling time by function and reply status.",
            ["function", "status"],
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.calendar_requests = Histogram(
            "slotguard_calendar_request_seconds",
            "Calendar provider request latency by provider, endpoint and outcome.",
            ["provider", "endpoint", "outcome"],
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.pending_appointments = Gauge(
            "slotguard_pending_appointments",
            "Appointments waiting for the calendar's answer (status pending).",
            registry=r,
            multiprocess_mode="max",  # every worker reads the same database
        )
        self.oldest_pending_seconds = Gauge(
            "slotguard_oldest_pending_appointment_seconds",
            "Age of the oldest pending appointment in seconds (0 when none).",
            registry=r,
            multiprocess_mode="max",
        )
        self.reconciler_settlements = Counter(
            "slotguard_reconciler_settlements_total",
            "Pending appointments settled by the reconciler, by outcome.",
            ["outcome"],
            registry=r,
        )
        self.webhook_events = Counter(
            "slotguard_webhook_events_total",
            "Received webhook events by provider, trigger and outcome.",
            ["provider", "trigger", "outcome"],
            registry=r,
        )
        self.false_positives = Counter(
            "slotguard_false_positives_total",
            "Decisions an operator marked as false positives, by layer and reason.",
            ["layer", "reason"],
            registry=r,
        )
        self.idempotent_replays = Counter(
            "slotguard_idempotent_replays_total",
            "Function calls answered from a stored reply instead of being run again.",
            ["function"],
            registry=r,
        )


def exposition(metrics: Metrics) -> bytes:
    """The Prometheus text of this process, or of all workers in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(metrics.registry)
