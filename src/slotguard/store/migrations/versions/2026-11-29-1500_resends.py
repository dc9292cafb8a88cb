"""How often a pending row's create was sent again (``resends``), so a resend that got no
clear answer either can be followed by another, up to a bound, instead of failing the booking.

Revision ID: 0007_resends
Revises: 0006_households
Create Date: 2026-11-29 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_resends"
down_revision: str | None = "0006_households"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "appointments",
        sa.Column("resends", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.execute("UPDATE appointments SET resends = 1 WHERE resent_at IS NOT NULL")


def downgrade() -> None:
    op.drop_column("appointments", "resends")
