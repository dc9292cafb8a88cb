"""Use cases, one module per Retell function; plus reconcile and idempotency."""
