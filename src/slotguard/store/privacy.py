"""GDPR erasure in SQL: contact data goes, rows and ids stay, so history remains consistent."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.store.tables import (
    AppointmentRow,
    CallRow,
    CompanyRow,
    CustomerRow,
    DuplicateDecisionRow,
    WebhookEventRow,
)

# What replaces a phone number or an email address inside a stored webhook body.
ERASED = "[erased]"
# The shortest name blanked out of stored bodies; shorter ones are too likely inside words.
MIN_NAME_LENGTH = 4


def erased_phone(phone: str) -> str:
    """``+4915112345678`` → ``+49***********``: only the country code is left."""
    return phone[:3] + "*" * (len(phone) - 3)


class PrivacyRepository:
    """The erasure statements. Flushes only; the use case owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def company_ids(self, slug: str | None) -> dict[int, str]:
        """id → slug of the company named ``slug``, or of every company when None."""
        query = select(CompanyRow.id, CompanyRow.slug)
        if slug is not None:
            query = query.where(CompanyRow.slug == slug)
        return {row_id: s for row_id, s in await self.session.execute(query)}

    async def customers_with_phone(
        self, company_ids: Sequence[int], phone: str
    ) -> list[tuple[int, int]]:
        """(customer id, company id) of the customers with this number in these companies."""
        query = select(CustomerRow.id, CustomerRow.company_id).where(
            CustomerRow.company_id.in_(company_ids), CustomerRow.phone_e164 == phone
        )
        rows = await self.session.execute(query.order_by(CustomerRow.id))
        return [(customer_id, company_id) for customer_id, company_id in rows]

    async def history(self, customer_id: int) -> tuple[int, int]:
        """(appointments, decisions) that stay linked to the customer's id."""
        appointments = await self.session.scalar(
            select(func.count()).where(AppointmentRow.customer_id == customer_id)
        )
        decisions = await self.session.scalar(
            select(func.count()).where(DuplicateDecisionRow.customer_id == customer_id)
        )
        return int(appointments or 0), int(decisions or 0)

    async def erase_customers(self, customer_ids: Sequence[int], now: datetime) -> None:
        """Remove name, phone and email (with the household's number and the folded name
        kept beside them); stamp ``forgotten_at``. The row and its id stay."""
        await self.session.execute(
            update(CustomerRow)
            .where(CustomerRow.id.in_(customer_ids))
            .values(
                name=None,
                name_key=None,
                phone_e164=None,
                household_phone=None,
                email=None,
                forgotten_at=now,
                updated_at=now,
            )
        )

    async def mask_calls(self, company_ids: Sequence[int], phone: str, now: datetime) -> int:
        """Replace the caller's number on their calls; returns how many calls changed."""
        result = await self.session.execute(
            update(CallRow)
            .where(CallRow.company_id.in_(company_ids), CallRow.from_number == phone)
            .values(from_number=erased_phone(phone), updated_at=now)
        )
        return int(getattr(result, "rowcount", 0))

    async def redact_events(self, company_ids: Sequence[int] | None, needles: Sequence[str]) -> int:
        """Blank ``needles`` out of applied webhook bodies; returns the number of bodies changed.

        Only applied events: an unapplied one must stay as it arrived until the reconciler
        applies it (a second run of the erasure then catches it).
        """
        if not needles:
            return 0
        body: ColumnElement[str] = WebhookEventRow.raw_body.expression
        # Longest first: "+4915112345678" must go whole before "4915112345678" is looked for.
        needles = sorted(set(needles), key=len, reverse=True)
        for needle in needles:
            body = func.replace(body, needle, ERASED)
        result = await self.session.execute(
            update(WebhookEventRow)
            .where(
                _in_companies(company_ids),
                WebhookEventRow.processed_at.is_not(None),
                or_(*(WebhookEventRow.raw_body.contains(n, autoescape=True) for n in needles)),
            )
            .values(raw_body=body)
        )
        return int(getattr(result, "rowcount", 0))

    async def earlier_emails(
        self,
        company_ids: Sequence[int] | None,
        customer_ids: Sequence[int],
        phone_forms: Sequence[str],
    ) -> list[str]:
        """Emails the customers gave before their current one, as stored bodies hold them.

        Looked for in bodies that name the caller's number or one of their bookings' uids, and
        read from the fields that carry a caller's email (an attendee's, the function's
        ``customer_email``), never the organizer's: the salon's own address stays.
        """
        uids = await self.session.scalars(
            select(AppointmentRow.calcom_booking_uid).where(
                AppointmentRow.customer_id.in_(customer_ids),
                AppointmentRow.calcom_booking_uid.is_not(None),
            )
        )
        needles = [*phone_forms, *(u for u in uids if u)]
        if not needles:
            return []
        bodies = await self.session.scalars(
            select(WebhookEventRow.raw_body).where(
                _in_companies(company_ids),
                or_(*(WebhookEventRow.raw_body.contains(n, autoescape=True) for n in needles)),
            )
        )
        found: set[str] = set()
        for body in bodies:
            found |= _caller_emails(body)
        return sorted(found)

    async def contacts(self, customer_ids: Sequence[int]) -> list[str]:
        """The emails and names of these customers (to blank them out of stored bodies too).

        Names shorter than MIN_NAME_LENGTH are left: "Li" would erase parts of other words.
        """
        query = select(CustomerRow.email, CustomerRow.name).where(CustomerRow.id.in_(customer_ids))
        found: list[str] = []
        for email, name in await self.session.execute(query):
            found += [email] if email else []
            found += [name] if name and len(name) >= MIN_NAME_LENGTH else []
        return found


# Keys whose value is a caller's email; anything under "organizer" is the salon's own.
_EMAIL_KEYS = frozenset({"email", "customer_email", "attendeeEmail"})


def _caller_emails(body: str) -> set[str]:
    try:
        data = json.loads(body)
    except ValueError:
        return set()
    found: set[str] = set()
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "organizer":
                    continue
                if key in _EMAIL_KEYS and isinstance(value, str) and "@" in value:
                    found.add(value)
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _in_companies(company_ids: Sequence[int] | None) -> ColumnElement[bool]:
    if company_ids is None:
        return true()
    return WebhookEventRow.company_id.in_(company_ids)
