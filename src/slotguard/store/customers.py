"""Customers: identification of the caller within one company."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import cast

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.domain import Customer, name_key, pick
from slotguard.store.driver import Lane, Named, SessionLane
from slotguard.store.sql import insert_ignore, required, table_of, upsert_touching
from slotguard.store.tables import CustomerRow


def customer_from_row(row: CustomerRow) -> Customer:
    """Map a row to the domain value; a person's phone is their household's number."""
    phone = row.phone_e164 or row.household_phone
    return Customer(row.id, row.company_id, row.name, phone, row.email)


_CUSTOMERS = table_of(CustomerRow)
_PERSON = ("id", "company_id", "name", "phone_e164", "household_phone", "email")
_HOUSEHOLD = (
    select(*(_CUSTOMERS.c[name] for name in _PERSON))
    .where(
        _CUSTOMERS.c.company_id == bindparam("company_id"),
        _CUSTOMERS.c.household_phone == bindparam("phone"),
        _CUSTOMERS.c.forgotten_at.is_(None),
    )
    .order_by(_CUSTOMERS.c.id)
)
_SAME_EMAIL = select(_CUSTOMERS.c.id).where(
    _CUSTOMERS.c.company_id == bindparam("company_id"),
    func.lower(_CUSTOMERS.c.email) == bindparam("email"),
)


async def household_on(
    lane: Lane, company_id: int, phone: str
) -> tuple[Customer | None, list[Customer]]:
    """:meth:`CustomerRepository.household` on a lane (see store.driver): one read."""
    first: Customer | None = None
    people: list[Customer] = []
    for row in await lane.rows(_HOUSEHOLD, {"company_id": company_id, "phone": phone}):
        person = customer_from_row(cast(CustomerRow, Named(row)))
        people.append(person)
        if row["phone_e164"] == phone:
            first = person
    return first, people


async def same_email_on(lane: Lane, company_id: int, email: str) -> list[int]:
    """:meth:`CustomerRepository.same_email` on a lane (see store.driver)."""
    params = {"company_id": company_id, "email": email.strip().lower()}
    return [row[0] for row in await lane.rows(_SAME_EMAIL, params)]


class CustomerRepository:
    """Finds or creates the people calling one company. Flushes only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_phone(self, company_id: int, phone: str, now: datetime) -> tuple[Customer, bool]:
        """(the household's first person for this E.164 number, whether created just now).

        Race-safe: the number is unique per company on the first person. An existing row is
        only touched (``updated_at``), so its ``created_at`` differs from ``updated_at``.
        """
        statement = (
            upsert_touching(self.session, CustomerRow, ["company_id", "phone_e164"], "updated_at")
            .values(
                company_id=company_id,
                phone_e164=phone,
                household_phone=phone,
                created_at=now,
                updated_at=now,
            )
            .returning(CustomerRow)
        )
        row = await self.session.scalar(statement, execution_options={"populate_existing": True})
        found = required(row, f"customer {phone!r} of company {company_id}")
        return customer_from_row(found), found.created_at == found.updated_at

    async def household(
        self, company_id: int, phone: str
    ) -> tuple[Customer | None, list[Customer]]:
        """(the first person of ``phone`` if not forgotten, everyone of the household by id)."""
        return await household_on(SessionLane(self.session), company_id, phone)

    async def name_first_person(self, customer_id: int, name: str, key: str, now: datetime) -> bool:
        """Give a nameless person their first name; False when someone named them meanwhile."""
        result = await self.session.execute(
            update(CustomerRow)
            .where(CustomerRow.id == customer_id, CustomerRow.name_key.is_(None))
            .values(name=name, name_key=key, updated_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def add_to_household(
        self, company_id: int, phone: str, name: str, key: str, email: str | None, now: datetime
    ) -> Customer:
        """The person ``key`` of the household of ``phone``, added when new (race-safe)."""
        await self.session.execute(
            insert_ignore(
                self.session, CustomerRow, ["company_id", "household_phone", "name_key"]
            ).values(
                company_id=company_id,
                name=name,
                name_key=key,
                household_phone=phone,
                email=email,
                created_at=now,
                updated_at=now,
            )
        )
        row = await self.session.scalar(
            select(CustomerRow).where(
                CustomerRow.company_id == company_id,
                CustomerRow.household_phone == phone,
                CustomerRow.name_key == key,
            )
        )
        return customer_from_row(required(row, f"household person {key}"))

    async def same_email(self, company_id: int, email: str) -> list[int]:
        """Ids of every person who gave ``email`` (case-insensitive): for duplicate checks only."""
        return await same_email_on(SessionLane(self.session), company_id, email)

    async def person(
        self, company_id: int, phone: str, name: str | None, email: str | None, now: datetime
    ) -> tuple[Customer, list[Customer]]:
        """(the person ``name`` picks in the household of ``phone``, the whole household).

        A name nobody in the household has adds a person; it never renames one. Without a name
        the household's first person answers.
        """
        # A known number costs one read; the first contact one upsert (its household is new).
        first, people = await self.household(company_id, phone)
        if first is None:
            first, created = await self.by_phone(company_id, phone, now)
            # Alone in a new household, unless the number's first person was erased and
            # others of the household still call from it.
            alone = created and not people
            people = [first] if alone else (await self.household(company_id, phone))[1]
        chosen = pick([(p.name, p) for p in people], name) if name else first
        key = name_key(name)
        if chosen is None and name is not None and key is not None:
            if first.name is None and await self.name_first_person(first.id, name, key, now):
                chosen = replace(first, name=name)
            else:
                chosen = await self.add_to_household(company_id, phone, name, key, email, now)
        chosen = chosen or first
        if name:
            chosen = await self.update_email(chosen, email, now)
        others = [p for p in people if p.id != chosen.id]
        return chosen, sorted([*others, chosen], key=lambda p: p.id)

    async def by_email(self, company_id: int, email: str) -> Customer | None:
        """The oldest person who gave ``email`` (any case): for mirroring, never for access."""
        row = await self.session.scalar(
            select(CustomerRow)
            .where(
                CustomerRow.company_id == company_id,
                func.lower(CustomerRow.email) == email.strip().lower(),
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
        """A new person without phone number."""
        row = CustomerRow(
            company_id=company_id,
            name=name,
            name_key=name_key(name),
            email=email,
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return customer_from_row(row)

    async def update_email(self, current: Customer, email: str | None, now: datetime) -> Customer:
        """Record the email this person gave (no write when unchanged); names never change."""
        if not email or email == current.email:
            return current
        await self.session.execute(
            update(CustomerRow)
            .where(CustomerRow.id == current.id)
            .values(email=email, updated_at=now)
        )
        return replace(current, email=email)
