"""A salon's rules and staff: company and service rules, the person an appointment is with.

Revision ID: 0002_salon_rules
Revises: 0001
Create Date: 2026-11-29 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_salon_rules"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("rules", sa.JSON(), nullable=True))
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("rules", sa.JSON(), nullable=True))
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("staff_key", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("staff_key")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("rules")
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("rules")
