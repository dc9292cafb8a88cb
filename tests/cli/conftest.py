"""CLI tests use the Cal.com emulator served on loopback."""

from tests.calcom.conftest import emulator, emulator_server

__all__ = ["emulator", "emulator_server"]
