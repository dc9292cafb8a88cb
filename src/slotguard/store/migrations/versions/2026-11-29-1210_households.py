"""Households (the people sharing a phone number, told apart by their folded name) and the
call and function of each idempotency key (a later change in the same call ends a replay),
and what the salon needs to call back a caller whose confirmed-soon booking failed.

Revision ID: 0006_households
Revises: 0005_calcom_budget
Create Date: 2026-11-29 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from slotguard.domain import name_key

revision: str = "0006_households"
down_revision: str | None = "0005_calcom_budget"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "customers_household_person_key"


def upgrade() -> None:
    op.add_column("customers", sa.Column("name_key", sa.String(length=200), nullable=True))
    op.add_column("customers", sa.Column("household_phone", sa.String(length=32), nullable=True))
    customers = sa.table(
        "customers",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("name_key", sa.String()),
        sa.column("phone_e164", sa.String()),
        sa.column("household_phone", sa.String()),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(customers.c.id, customers.c.name, customers.c.phone_e164))
    for row_id, name, phone in rows.all():
        connection.execute(
            customers.update()
            .where(customers.c.id == row_id)
            .values(name_key=name_key(name), household_phone=phone)
        )
    op.create_index(INDEX, "customers", ["company_id", "household_phone", "name_key"], unique=True)
    op.add_column("idempotency_keys", sa.Column("call_id", sa.String(length=128), nullable=True))
    op.add_column("idempotency_keys", sa.Column("function", sa.String(length=64), nullable=True))
    op.add_column(
        "idempotency_keys", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_idempotency_keys_scope_call_id", "idempotency_keys", ["scope", "call_id"])
    op.add_column("appointments", sa.Column("resent_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "appointments",
        sa.Column("needs_callback", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "appointments", sa.Column("called_back_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    for column in ("called_back_at", "needs_callback", "resent_at"):
        op.drop_column("appointments", column)
    op.drop_index("ix_idempotency_keys_scope_call_id", table_name="idempotency_keys")
    for column in ("finished_at", "function", "call_id"):
        op.drop_column("idempotency_keys", column)
    op.drop_index(INDEX, table_name="customers")
    op.drop_column("customers", "household_phone")
    op.drop_column("customers", "name_key")
