"""Structured logs (structlog, personal data masked) and the Prometheus metrics of one app."""

from __future__ import annotations

import logging
import os
import platform
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from slotguard import __version__

# A `_created` series per labelled counter doubles the series count and no alert reads it.
disable_created_metrics()  # type: ignore[no-untyped-call]

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


class _Stderr:
    """Writes to whatever ``sys.stderr`` is at the time of the line (test runners swap it)."""

    def write(self, text: str) -> int:
        """Write ``text`` to the current stderr."""
        return sys.stderr.write(text)

    def flush(self) -> None:
        """Flush the current stderr."""
        sys.stderr.flush()


_STDERR = _Stderr()


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Route structlog and the standard library's loggers (uvicorn, alembic) to stderr.

    One line per event, JSON (or console lines for humans); phone numbers and emails masked;
    the request id bound by the HTTP middleware on every line of a request; exceptions with
    their traceback (``exception`` in JSON).
    """
    json_lines = fmt == "json"
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    tail: list[Any] = [structlog.processors.format_exc_info] if json_lines else []
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*shared, *tail, _mask_processor, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=_STDERR),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(_STDERR)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, _component_from_logger],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *tail,
                _mask_processor,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    for name in _CHATTY:
        # Every SQL round trip (aiosqlite), every HTTP request (httpx: ours are logged by us).
        logging.getLogger(name).setLevel(max(numeric_level, logging.WARNING))
    for name in ("uvicorn", "uvicorn.error"):
        # uvicorn's own configuration would print plain text; its records go to the root.
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # Its access log stays as `serve` set it (off): RequestContext writes one line per request.
    logging.getLogger("uvicorn.access").handlers.clear()


_HANDLER_NAME = "slotguard"
_CHATTY = ("aiosqlite", "asyncio", "httpx", "httpcore", "hpack", "multipart")


def _component_from_logger(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    record = event.get("_record")
    if record is not None:
        event.setdefault("component", record.name)
    return event


def get_logger(name: str) -> Any:
    """A structlog logger bound to a component name."""
    return structlog.get_logger(component=name)


# Latency buckets in seconds: a voice turn budget is ~1 s, our own part aims at < 15 ms.
_FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


# Webhook lag: from the provider's event time to our receipt; deliveries retry for minutes.
_LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class Metrics:
    """All Prometheus series of one app instance, in its own registry (tests stay independent).

    Besides slotguard's own series: the process's (CPU, memory, file descriptors) and
    Python's (version, garbage collector), and ``slotguard_build_info``.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            r.register(collector)
        self.build_info = Gauge(
            "slotguard_build_info",
            "Always 1; the labels name the running version and Python.",
            ["version", "python"],
            registry=r,
            multiprocess_mode="max",
        )
        self.build_info.labels(__version__, platform.python_version()).set(1)
        self.http_requests = Counter(
            "slotguard_http_requests_total",
            "HTTP requests by method, route template (unmatched paths as 'unmatched') and status.",
            ["method", "route", "status"],
            registry=r,
        )
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
        self.webhook_lag = Histogram(
            "slotguard_webhook_lag_seconds",
            "Time from a webhook event's own timestamp (Cal.com createdAt) to its receipt.",
            ["provider"],
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        self.calcom_budget_remaining = Gauge(
            "slotguard_calcom_budget_remaining",
            "Cal.com requests left in the current rate-limit window of a company's API key.",
            ["company"],
            registry=r,
            multiprocess_mode="livemin",
        )
        self.slot_lookups = Counter(
            "slotguard_slot_lookups_total",
            "Questions for one window of free slots, by how they were answered: hit (shared "
            "cache), fetched (a Cal.com request), shared (another lookup's request), stale "
            "(an older answer, no budget), unknown (no answer).",
            ["outcome"],
            registry=r,
        )
        self.stale_slot_age = Histogram(
            "slotguard_stale_slot_answer_age_seconds",
            "Age of the cached window a question was answered from for lack of budget.",
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 900),
            registry=r,
        )
        self.calendar_sync_runs = Counter(
            "slotguard_calendar_sync_runs_total",
            "Periodic calendar syncs by company and outcome (ok, deferred, failed).",
            ["company", "outcome"],
            registry=r,
        )
        self.calendar_sync_findings = Counter(
            "slotguard_calendar_sync_findings_total",
            "What periodic syncs found, by company and kind (mirrored, cancelled, ...).",
            ["company", "kind"],
            registry=r,
        )
        self.calendar_sync_last_run = Gauge(
            "slotguard_calendar_sync_last_run_timestamp_seconds",
            "Unix time of the last finished periodic sync, by company.",
            ["company"],
            registry=r,
            multiprocess_mode="max",
        )
        # What the owner's page shows per company slug: when Cal.com last answered well
        # (epoch seconds) and the budget left then; this process's view only.
        self.calcom_last_ok: dict[str, float] = {}
        self.calcom_budget_left: dict[str, int] = {}
        self.failed_after_pending = Counter(
            "slotguard_failed_after_pending_total",
            "Bookings that failed after the caller was told they were being confirmed.",
            registry=r,
        )
        self.callbacks_needed = Gauge(
            "slotguard_callbacks_needed",
            "Failed bookings whose caller was told 'being confirmed' and awaits a call back.",
            registry=r,
            multiprocess_mode="max",
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
        # Process series are per process and cannot be merged: across workers only Python's.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(PLATFORM_COLLECTOR)
        return generate_latest(registry)
    return generate_latest(metrics.registry)
