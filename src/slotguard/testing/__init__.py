"""Test support shipped with slotguard: a Cal.com emulator and loopback server helpers."""

from .calcom_emulator import (
    CalcomEmulator,
    EmulatorConfig,
    EventTypeConfig,
    HostConfig,
    WebhookSubscription,
)
from .server import run_emulator, serve_in_thread

__all__ = [
    "CalcomEmulator",
    "EmulatorConfig",
    "EventTypeConfig",
    "HostConfig",
    "WebhookSubscription",
    "run_emulator",
    "serve_in_thread",
]
