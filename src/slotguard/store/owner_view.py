"""Queries behind a salon owner's page: who to call back, names, calls, the last webhook."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.store.tables import AppointmentRow, CallRow, CustomerRow, ServiceRow, WebhookEventRow

# The reconciler's verdict on a booking Cal.com never confirmed (booking/pending.py).
ABSENT_IN_CALENDAR = "absent in the calendar"


@dataclass(frozen=True)
class CallBack:
    """Someone the salon should phone: their booking failed after they were told "pending",
    or they called anonymously and nothing was booked."""

    at: datetime
    name: str | None
    phone: str | None
    email: str | None
    service: str | None
    starts_at: datetime | None
    why: str  # "failed_after_pending" | "anonymous_not_booked"


class OwnerViewRepository:
    """Read-only queries for the owner's page of one company."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def customer_names(self, ids: Iterable[int | None]) -> dict[int, str | None]:
        """Names of the given customers (None for an erased one)."""
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(CustomerRow.id, CustomerRow.name).where(CustomerRow.id.in_(wanted))
        )
        return {int(i): name for i, name in rows}

    async def staff_keys(self, ids: Iterable[int]) -> dict[int, str]:
        """The person (staff key) each of the given appointments is with, where one is."""
        wanted = set(ids)
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(AppointmentRow.id, AppointmentRow.staff_key).where(
                AppointmentRow.id.in_(wanted), AppointmentRow.staff_key.is_not(None)
            )
        )
        return {int(i): str(key) for i, key in rows}

    async def call_backs(self, company_id: int, since: datetime) -> list[CallBack]:
        """Failed-after-pending bookings and anonymous calls without a booking, newest first."""
        a = AppointmentRow
        failed = await self.session.execute(
            select(a.updated_at, CustomerRow, ServiceRow.name, a.starts_at)
            .join(CustomerRow, CustomerRow.id == a.customer_id)
            .join(ServiceRow, ServiceRow.id == a.service_id)
            .where(
                a.company_id == company_id,
                a.status == "failed",
                a.updated_at >= since,
                or_(a.reconcile_attempts > 0, a.failure_reason == ABSENT_IN_CALENDAR),
            )
        )
        found = [
            CallBack(at, c.name, c.phone_e164, c.email, service, start, "failed_after_pending")
            for at, c, service, start in failed
        ]
        anonymous = await self.session.execute(
            select(CallRow.created_at, CustomerRow)
            .outerjoin(CustomerRow, CustomerRow.id == CallRow.customer_id)
            .where(
                CallRow.company_id == company_id,
                CallRow.created_at >= since,
                CallRow.from_number.is_(None),
                CallRow.appointment_id.is_(None),
            )
        )
        for at, c in anonymous:
            name, email = (c.name, c.email) if c is not None else (None, None)
            found.append(CallBack(at, name, None, email, None, None, "anonymous_not_booked"))
        return sorted(found, key=lambda item: item.at, reverse=True)

    async def calls_since(self, company_id: int, since: datetime) -> int:
        """Retell calls the company received since ``since``."""
        query = select(func.count()).where(
            CallRow.company_id == company_id, CallRow.created_at >= since
        )
        return int(await self.session.scalar(query) or 0)

    async def last_webhook(self, company_id: int) -> datetime | None:
        """When the company's last Cal.com webhook arrived."""
        query = (
            select(WebhookEventRow.received_at)
            .where(WebhookEventRow.company_id == company_id, WebhookEventRow.provider == "calcom")
            .order_by(WebhookEventRow.received_at.desc())
            .limit(1)
        )
        return await self.session.scalar(query)
