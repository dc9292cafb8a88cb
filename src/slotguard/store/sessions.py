"""Dashboard sessions and failed logins, kept in the database so every worker agrees."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.store.tables import DashboardSessionRow, LoginFailureRow


class SessionRepository:
    """Sessions by cookie hash, and failed logins by client address."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, cookie_hash: str, subject: str, check: str, now: datetime, expires: datetime
    ) -> None:
        """Record a new session; expired ones are dropped on the way."""
        await self.session.execute(
            delete(DashboardSessionRow).where(DashboardSessionRow.expires_at <= now)
        )
        self.session.add(
            DashboardSessionRow(
                cookie_hash=cookie_hash,
                subject=subject,
                credential_check=check,
                created_at=now,
                expires_at=expires,
            )
        )
        await self.session.flush()

    async def live(self, cookie_hash: str, now: datetime) -> tuple[str, str] | None:
        """(subject, credential check) of the unexpired session with this hash, if any."""
        row = (
            await self.session.execute(
                select(DashboardSessionRow.subject, DashboardSessionRow.credential_check).where(
                    DashboardSessionRow.cookie_hash == cookie_hash,
                    DashboardSessionRow.expires_at > now,
                )
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def remove(self, cookie_hash: str) -> bool:
        """Delete the session; True when there was one."""
        result = await self.session.execute(
            delete(DashboardSessionRow).where(DashboardSessionRow.cookie_hash == cookie_hash)
        )
        return bool(getattr(result, "rowcount", 0))

    async def failures_since(self, client: str, since: datetime) -> int:
        """Failed logins from ``client`` at or after ``since``."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(LoginFailureRow)
            .where(LoginFailureRow.client == client, LoginFailureRow.failed_at >= since)
        )
        return int(count or 0)

    async def add_failure(self, client: str, now: datetime, keep_after: datetime) -> None:
        """Record a failed login; failures older than ``keep_after`` are dropped."""
        await self.session.execute(
            delete(LoginFailureRow).where(LoginFailureRow.failed_at < keep_after)
        )
        self.session.add(LoginFailureRow(client=client, failed_at=now))
        await self.session.flush()

    async def clear_failures(self, client: str) -> None:
        """Forget ``client``'s failures after it signed in."""
        await self.session.execute(delete(LoginFailureRow).where(LoginFailureRow.client == client))
