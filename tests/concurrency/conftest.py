"""Concurrency tests reuse the signed Retell client and test tenant."""

from tests.retell.conftest import clock, phone

__all__ = ["clock", "phone"]
