"""Stored webhook and call bodies are purged after the retention period, applied ones only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.booking.reconcile import purge_old_events
from slotguard.runtime import open_context
from slotguard.settings import Settings
from slotguard.store.db import session_factory
from slotguard.store.tables import WebhookEventRow

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
RETENTION = timedelta(days=90)


def _event(key: str, age_days: int, *, applied: bool, provider: str = "retell") -> WebhookEventRow:
    received = NOW - timedelta(days=age_days)
    return WebhookEventRow(
        provider=provider,
        dedupe_key=key,
        trigger="call_ended",
        raw_body='{"call": {"transcript": "Ich heiße Max Müller, 0151 12345678"}}',
        received_at=received,
        processed_at=received if applied else None,
        attempts=1,
    )


class TestRetention:
    """``purge_old_events`` (run by the reconciler loop) keeps only what retention allows."""

    async def test_purges_applied_events_past_retention(
        self, db_url: str, engine: AsyncEngine
    ) -> None:
        """Applied events older than the period go; newer ones and unapplied ones stay."""
        async with session_factory(engine)() as session, session.begin():
            session.add_all(
                [
                    _event("old-applied", 91, applied=True),
                    _event("old-calcom", 200, applied=True, provider="calcom"),
                    _event("old-unapplied", 91, applied=False),
                    _event("recent", 89, applied=True),
                ]
            )
        settings = Settings(database_url=db_url, insecure_dev=True, reconcile_interval_seconds=0)
        async with open_context(settings, clock=lambda: NOW) as ctx:
            assert await purge_old_events(ctx, RETENTION) == 2
            assert await purge_old_events(ctx, RETENTION) == 0
        async with session_factory(engine)() as session:
            kept = sorted(await session.scalars(select(WebhookEventRow.dedupe_key)))
        assert kept == ["old-unapplied", "recent"]

    def test_setting(self) -> None:
        """SLOTGUARD_RETENTION_DAYS defaults to 90 days and must be at least 1."""
        assert Settings().retention_days == 90
