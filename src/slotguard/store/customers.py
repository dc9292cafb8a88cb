"""Customers: identification of the caller within one company."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.domain import Customer
from slotguard.store.sql import required, upsert_touching
from slotguard.store.tables import CustomerRow


def customer_from_row(row: CustomerRow) -> Customer:
    """Map a row to the domain value."""
    return Customer(row.id, row.company_id, row.name, row.phone_e164, row.email)


class CustomerRepository:
    """Finds or creates the caller within one company. Flushes only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_phone(self, company_id: int, phone: str, now: datetime) -> Customer:
        """The customer with this E.164 number, created on first contact (race-safe)."""
        statement = (
            upsert_touching(self.session, CustomerRow, ["company_id", "phone_e164"], "updated_at")
            .values(company_id=company_id, phone_e164=phone, created_at=now, updated_at=now)
            .returning(CustomerRow)
        )
        row = await self.session.scalar(statement, execution_options={"populate_existing": True})
        return customer_from_row(required(row, f"customer {phone!r} of company {company_id}"))

    async def by_email(self, company_id: int, email: str) -> Customer | None:
        """A customer without phone found by email (case-insensitive), if any."""
        row = await self.session.scalar(
            select(CustomerRow)
            .where(
                CustomerRow.company_id == company_id,
                func.lower(CustomerRow.email) == email.lower(),
            )
            .order_by(CustomerRow.id)
            .limit(1)
        )
        return None if row is None else customer_from_row(row)

    async def get(self, customer_id: int) -> Customer | None:
        """One customer by id."""
        row = await self.session.get(CustomerRow, customer_id)
        return None if row is None else customer_from_row(row)

    async def create(
        self, company_id: int, name: str | None, email: str | None, now: datetime
    ) -> Customer:
        """A new customer without phone number."""
        row = CustomerRow(
            company_id=company_id, name=name, email=email, created_at=now, updated_at=now
        )
        self.session.add(row)
        await self.session.flush()
        return customer_from_row(row)

    async def update_contact(
        self, current: Customer, name: str | None, email: str | None, now: datetime
    ) -> None:
        """Fill in or correct the name and email the caller gave (no write when unchanged)."""
        values: dict[str, object] = {}
        if name and name != current.name:
            values["name"] = name
        if email and email != current.email:
            values["email"] = email
        if values:
            await self.session.execute(
                update(CustomerRow)
                .where(CustomerRow.id == current.id)
                .values(**values, updated_at=now)
            )
