"""A salon owner's dashboard login: the sha256 of the company's owner token.

Revision ID: 0004_owner_token
Revises: 0003_dashboard_sessions
Create Date: 2026-11-29 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_owner_token"
down_revision: str | None = "0003_dashboard_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("owner_token_hash", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("companies_owner_token_hash_key", ["owner_token_hash"])


def downgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.drop_constraint("companies_owner_token_hash_key", type_="unique")
        batch.drop_column("owner_token_hash")
