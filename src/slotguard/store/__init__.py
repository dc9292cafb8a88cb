"""Persistence: tables, migrations, repositories, locks. All SQL of slotguard lives here."""

__all__: list[str] = []  # import the repository modules themselves, e.g. store.appointments
