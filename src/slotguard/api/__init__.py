"""HTTP edge: the FastAPI app factory, routers, error mapping, health and metrics."""

from slotguard.api.app import create_app

__all__ = ["create_app"]
