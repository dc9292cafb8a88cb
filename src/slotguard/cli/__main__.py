"""``python -m slotguard.cli``: the same as the ``slotguard`` command."""

from slotguard.cli.main import main

main()
