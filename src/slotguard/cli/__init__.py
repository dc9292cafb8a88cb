"""Command line: ``slotguard serve / migrate / tenants apply / …``."""
