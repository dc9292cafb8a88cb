"""GDPR erasure of one caller: ``slotguard customers forget --phone …``.

The customer rows stay (their ids hold appointments and decisions together), but name, phone
and email are removed and ``forgotten_at`` is set; the caller's number is masked on their
calls and blanked out of applied webhook bodies. Running it again changes nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from slotguard.booking.resolve import normalise_phone
from slotguard.observability import mask_phone
from slotguard.store.privacy import PrivacyRepository

# Area codes (and mobile prefixes) without the leading 0 have two to five digits.
AREA_CODE_DIGITS = (2, 5)

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class ForgetError(ValueError):
    """The erasure cannot start: an unusable phone number or an unknown company."""


@dataclass(frozen=True)
class Erasure:
    """What one erasure did, for the operator's record."""

    phone: str
    companies: list[str]
    customers: list[tuple[int, str, int, int]] = field(default_factory=list)
    calls_masked: int = 0
    events_redacted: int = 0

    def lines(self) -> list[str]:
        """One line per thing done, with the phone number masked."""
        shown = mask_phone(self.phone)
        done = [
            f"customer {cid} ({slug}): name, phone and email erased; "
            f"kept {appointments} appointments and {decisions} decisions"
            for cid, slug, appointments, decisions in self.customers
        ]
        if self.calls_masked:
            done.append(f"masked the caller's number on {self.calls_masked} calls")
        if self.events_redacted:
            done.append(f"blanked the number out of {self.events_redacted} stored webhook bodies")
        scope = ", ".join(self.companies) or "no companies"
        if not done:
            return [f"nothing to erase for {shown} in {scope} (already forgotten or never known)"]
        return [*done, f"erased {shown} in {scope}"]


def e164(phone: str) -> str:
    """The E.164 form of ``phone``; raises ForgetError when it is not a phone number."""
    normal = normalise_phone(phone)
    if normal is None and _E164.match(phone.strip()):
        normal = phone.strip()  # well-formed but unassigned: still what may be stored
    if normal is None:
        raise ForgetError(f"{phone!r} is not a phone number; use E.164, e.g. +4915112345678")
    return normal


def spoken_forms(number: str) -> list[str]:
    """``number`` as callers and agents write it: E.164, digits only, and national or
    international with one space after the area code, however long that code is
    ("+4915112345678", "015112345678", "0151 12345678", "+49 151 12345678", …)."""
    parsed = phonenumbers.parse(number)
    country, rest = str(parsed.country_code), str(parsed.national_number)
    forms = {number, number.lstrip("+"), "0" + rest}
    for split in range(AREA_CODE_DIGITS[0], AREA_CODE_DIGITS[1] + 1):
        forms |= {f"0{rest[:split]} {rest[split:]}", f"+{country} {rest[:split]} {rest[split:]}"}
    return sorted(forms)


async def forget_customer(
    sessions: async_sessionmaker[AsyncSession], phone: str, company: str | None, now: datetime
) -> Erasure:
    """Erase the customer(s) with ``phone`` in ``company`` (every company when None)."""
    number = e164(phone)
    async with sessions() as session, session.begin():
        repo = PrivacyRepository(session)
        companies = await repo.company_ids(company)
        if company is not None and not companies:
            raise ForgetError(f"unknown company {company!r}")
        ids = await repo.customers_with_phone(list(companies), number)
        customers = []
        for customer_id, company_id in ids:
            kept = await repo.history(customer_id)
            customers.append((customer_id, companies[company_id], *kept))
        customer_ids = [cid for cid, _ in ids]
        scope = None if company is None else list(companies)
        forms = spoken_forms(number)
        needles = [
            *forms,
            *await repo.contacts(customer_ids),
            *await repo.earlier_emails(scope, customer_ids, forms),
        ]
        await repo.erase_customers([cid for cid, _ in ids], now)
        calls = await repo.mask_calls(list(companies), number, now)
        events = await repo.redact_events(scope, needles)
    return Erasure(number, sorted(companies.values()), customers, calls, events)
