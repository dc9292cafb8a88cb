"""Concurrency tests reuse the signed Retell client, the test tenant and the emulator."""

from tests.calcom.conftest import emulator, emulator_server
from tests.retell.conftest import clock, phone

__all__ = ["clock", "emulator", "emulator_server", "phone"]
