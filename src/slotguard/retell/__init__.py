"""Retell AI: payload models, signature check, function dispatch, and the agent's sentences."""

__all__: list[str] = []  # import the modules themselves, e.g. retell.signature
