"""slotguard: booking backend for AI phone agents with three layers of duplicate prevention."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("slotguard")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0.0.0+unknown"
