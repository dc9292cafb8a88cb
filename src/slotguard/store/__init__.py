"""Persistence: tables, migrations, repositories, locks. All SQL of slotguard lives here."""
