"""Cal.com request budget per API key, shared slot windows, periodic calendar sync.

Revision ID: 0005_calcom_budget
Revises: 0004_owner_token
Create Date: 2026-11-29 11:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UNIX_TIME = sa.Float(precision=53)

revision: str = "0005_calcom_budget"
down_revision: str | None = "0004_owner_token"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calcom_keys",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("blocked_until", UNIX_TIME, nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("calcom_keys_pkey")),
    )
    op.create_table(
        "calcom_sends",
        sa.Column("id", ID, nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", UNIX_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("calcom_sends_pkey")),
    )
    op.create_index(
        "ix_calcom_sends_key_hash_sent_at", "calcom_sends", ["key_hash", "sent_at"], unique=False
    )
    op.create_table(
        "slot_window_versions",
        sa.Column("company_id", ID, nullable=False),
        sa.Column("window_start", sa.String(length=10), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("slot_window_versions_company_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "company_id", "window_start", name=op.f("slot_window_versions_pkey")
        ),
    )
    op.create_table(
        "slot_windows",
        sa.Column("company_id", ID, nullable=False),
        sa.Column("event_type_id", sa.BigInteger(), nullable=False),
        sa.Column("window_start", sa.String(length=10), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("fetched_at", UNIX_TIME, nullable=True),
        sa.Column("slots", sa.JSON(), nullable=True),
        sa.Column("lease_until", UNIX_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("slot_windows_company_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "company_id", "event_type_id", "window_start", name=op.f("slot_windows_pkey")
        ),
    )
    op.create_table(
        "calendar_syncs",
        sa.Column("company_id", ID, nullable=False),
        sa.Column("lease_until", UNIX_TIME, nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=32), nullable=True),
        sa.Column("last_findings", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("calendar_syncs_company_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("calendar_syncs_pkey")),
    )


def downgrade() -> None:
    op.drop_table("calendar_syncs")
    op.drop_table("slot_windows")
    op.drop_table("slot_window_versions")
    op.drop_index("ix_calcom_sends_key_hash_sent_at", table_name="calcom_sends")
    op.drop_table("calcom_sends")
    op.drop_table("calcom_keys")
