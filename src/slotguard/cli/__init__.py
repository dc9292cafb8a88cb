"""Command line: ``slotguard serve / migrate / tenants apply / …``."""

__all__: list[str] = []  # the entry point is slotguard.cli.main:main
