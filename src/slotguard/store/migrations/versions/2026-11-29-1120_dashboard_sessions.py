"""Server-side dashboard sessions (deleted on logout) and failed logins for throttling.

Revision ID: 0003_dashboard_sessions
Revises: 0002_salon_rules
Create Date: 2026-11-29 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0003_dashboard_sessions"
down_revision: str | None = "0002_salon_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("id", ID, nullable=False),
        sa.Column("cookie_hash", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("credential_check", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("dashboard_sessions_pkey")),
        sa.UniqueConstraint("cookie_hash", name=op.f("dashboard_sessions_cookie_hash_key")),
    )
    op.create_index(
        "ix_dashboard_sessions_expires_at", "dashboard_sessions", ["expires_at"], unique=False
    )
    op.create_table(
        "login_failures",
        sa.Column("id", ID, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("login_failures_pkey")),
    )
    op.create_index(
        "ix_login_failures_client_failed_at",
        "login_failures",
        ["client", "failed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_login_failures_client_failed_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index("ix_dashboard_sessions_expires_at", table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
