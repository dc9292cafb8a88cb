"""Erased people keep neither their household's number nor their folded name.

``customers forget`` cleared name, phone and email but left ``household_phone`` and
``name_key``: personal data, and a returning caller saying the same name then hit the unique
(company, household, name) key of their own erased row. Rows erased before are cleared here.

Revision ID: 0008_erased_households
Revises: 0007_resends
Create Date: 2026-11-29 17:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_erased_households"
down_revision: str | None = "0007_resends"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE customers SET household_phone = NULL, name_key = NULL"
        " WHERE forgotten_at IS NOT NULL"
    )


def downgrade() -> None:
    """Nothing to restore: erased data stays erased."""
