"""Small keyword-override factories that write real rows (tests only)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.store.db import session_factory
from slotguard.store.tables import AppointmentRow, CompanyRow, CustomerRow, ServiceRow

WEEKDAY_HOURS = {d: "08:00-20:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


async def add(engine: AsyncEngine, row: Any) -> Any:
    """Insert one row in its own committed transaction and return it."""
    async with session_factory(engine)() as session, session.begin():
        session.add(row)
    return row


def company(**overrides: Any) -> CompanyRow:
    """A company row with sensible defaults (Berlin, German, limit 3)."""
    values: dict[str, Any] = {
        "slug": f"co-{uuid.uuid4().hex[:8]}",
        "name": "Salon Test",
        "timezone": "Europe/Berlin",
        "language": "de",
        "max_appointments_per_day": 3,
        "same_service_window_days": 30,
        "calendar": "local",
        "opening_hours": dict(WEEKDAY_HOURS),
    }
    values.update(overrides)
    return CompanyRow(**values)


def service(company_id: int, **overrides: Any) -> ServiceRow:
    """A 30-minute service row."""
    values: dict[str, Any] = {
        "company_id": company_id,
        "name": f"Service {uuid.uuid4().hex[:6]}",
        "aliases": [],
        "duration_minutes": 30,
        "active": True,
    }
    values.update(overrides)
    return ServiceRow(**values)


def customer(company_id: int, **overrides: Any) -> CustomerRow:
    """A customer row with a unique German mobile number."""
    values: dict[str, Any] = {
        "company_id": company_id,
        "name": "Max Müller",
        "phone_e164": f"+49151{uuid.uuid4().int % 10**8:08d}",
        "email": None,
    }
    values.update(overrides)
    return CustomerRow(**values)


def appointment(
    company_id: int,
    customer_id: int,
    service_id: int,
    start: datetime,
    minutes: int = 30,
    **overrides: Any,
) -> AppointmentRow:
    """An appointment row (booked by default) lasting ``minutes``."""
    values: dict[str, Any] = {
        "company_id": company_id,
        "customer_id": customer_id,
        "service_id": service_id,
        "starts_at": start,
        "ends_at": start + timedelta(minutes=minutes),
        "status": "booked",
        "reservation_key": uuid.uuid4().hex,
        "source": "agent",
        "reconcile_attempts": 0,
    }
    values.update(overrides)
    return AppointmentRow(**values)


async def world(engine: AsyncEngine, **company_overrides: Any) -> dict[str, Any]:
    """A company with two services and one customer, committed."""
    co = await add(engine, company(**company_overrides))
    cut = await add(engine, service(co.id, name="Herrenhaarschnitt", duration_minutes=30))
    color = await add(engine, service(co.id, name="Färben", duration_minutes=90))
    person = await add(engine, customer(co.id))
    return {"company": co, "cut": cut, "color": color, "customer": person}


async def count_active(engine: AsyncEngine) -> int:
    """Appointments holding a slot (pending or booked)."""
    async with session_factory(engine)() as s:
        query = (
            select(func.count())
            .select_from(AppointmentRow)
            .where(AppointmentRow.status.in_(["pending", "booked"]))
        )
        return int(await s.scalar(query) or 0)
