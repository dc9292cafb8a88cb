"""Use cases, one module per Retell function; plus reconcile and idempotency."""

__all__: list[str] = []  # import the use-case modules themselves, e.g. booking.book
