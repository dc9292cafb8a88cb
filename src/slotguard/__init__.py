"""slotguard: booking backend for AI phone agents with three layers of duplicate prevention."""
