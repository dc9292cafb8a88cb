"""Salon owners' dashboard tokens: only their sha256 is stored, never the token."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.store.tables import CompanyRow


def token_hash(token: str) -> str:
    """The stored form of an owner token (sha256, hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh owner token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


async def set_owner_token(session: AsyncSession, slug: str, token: str) -> bool:
    """Store ``token`` (hashed) as the owner login of company ``slug``; False if unknown."""
    result = await session.execute(
        update(CompanyRow).where(CompanyRow.slug == slug).values(owner_token_hash=token_hash(token))
    )
    return bool(getattr(result, "rowcount", 0))


async def company_for_token(session: AsyncSession, token: str) -> str | None:
    """The slug of the company whose owner token this is, or None."""
    return await session.scalar(
        select(CompanyRow.slug).where(CompanyRow.owner_token_hash == token_hash(token))
    )


async def owner_key(session: AsyncSession, slug: str) -> str | None:
    """The stored hash for ``slug`` (keys its owner's session cookies), or None."""
    return await session.scalar(select(CompanyRow.owner_token_hash).where(CompanyRow.slug == slug))
