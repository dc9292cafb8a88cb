"""Initial schema: every table of docs/architecture.md §4 and the database's own duplicate guards.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 17:31:47.038895
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

HOLDS_SLOT = (
    "status IN ('booked', 'confirmed', 'pending', 'scheduled') "
    "AND deleted_at IS NULL AND duplicate_of_id IS NULL"
)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "companies",
        sa.Column("id", ID, nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("max_appointments_per_day", sa.Integer(), nullable=False),
        sa.Column("same_service_window_days", sa.Integer(), nullable=False),
        sa.Column("calendar", sa.String(length=16), nullable=False),
        sa.Column("calcom_api_key_env", sa.String(length=128), nullable=True),
        sa.Column("calcom_webhook_secret_env", sa.String(length=128), nullable=True),
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("companies_pkey")),
        sa.UniqueConstraint("slug", name=op.f("companies_slug_key")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", ID, nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reply", sa.JSON(), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('in_progress', 'done')", name=op.f("idempotency_keys_state_check")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("idempotency_keys_pkey")),
        sa.UniqueConstraint("scope", "key", name=op.f("idempotency_keys_scope_key_key")),
    )
    op.create_index(
        "ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"], unique=False
    )

    op.create_table(
        "agent_routes",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("agent_routes_company_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("agent_routes_pkey")),
        sa.UniqueConstraint("kind", "value", name=op.f("agent_routes_kind_value_key")),
    )
    op.create_table(
        "customers",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("phone_e164", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("customers_company_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("customers_pkey")),
        sa.UniqueConstraint(
            "company_id", "phone_e164", name=op.f("customers_company_id_phone_e164_key")
        ),
    )
    op.create_index(
        "ix_customers_company_id_email", "customers", ["company_id", "email"], unique=False
    )

    op.create_table(
        "services",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("calcom_event_type_id", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("services_company_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("services_pkey")),
        sa.UniqueConstraint("company_id", "name", name=op.f("services_company_id_name_key")),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("company_id", ID, nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("raw_body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("webhook_events_company_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("webhook_events_pkey")),
        sa.UniqueConstraint(
            "provider", "dedupe_key", name=op.f("webhook_events_provider_dedupe_key_key")
        ),
    )
    op.create_table(
        "calls",
        sa.Column("id", ID, nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("agent_id", sa.String(length=128), nullable=True),
        sa.Column("from_number", sa.String(length=32), nullable=True),
        sa.Column("to_number", sa.String(length=32), nullable=True),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("appointment_id", ID, nullable=True),
        sa.Column("appointment_link_status", sa.String(length=16), nullable=False),
        sa.Column("call_status", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("calls_company_id_fkey"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("calls_customer_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("calls_pkey")),
        sa.UniqueConstraint("call_id", name=op.f("calls_call_id_key")),
    )
    op.create_table(
        "appointments",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("service_id", ID, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("calcom_booking_id", sa.BigInteger(), nullable=True),
        sa.Column("calcom_booking_uid", sa.String(length=128), nullable=True),
        sa.Column("reservation_key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("call_id", ID, nullable=True),
        sa.Column("rescheduled_from_id", ID, nullable=True),
        sa.Column("duplicate_of_id", ID, nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("reconcile_attempts", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "source IN ('agent', 'webhook', 'import', 'admin')",
            name=op.f("appointments_source_check"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'scheduled', 'confirmed', 'booked', 'cancelled', 'rescheduled', 'no_show', 'completed', 'failed')",
            name=op.f("appointments_status_check"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("appointments_span_check")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("appointments_call_id_fkey"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("appointments_company_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("appointments_customer_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["appointments.id"],
            name=op.f("appointments_duplicate_of_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rescheduled_from_id"],
            ["appointments.id"],
            name=op.f("appointments_rescheduled_from_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("appointments_service_id_fkey"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("appointments_pkey")),
        sa.UniqueConstraint("calcom_booking_uid", name=op.f("appointments_calcom_booking_uid_key")),
        sa.UniqueConstraint("reservation_key", name=op.f("appointments_reservation_key_key")),
    )
    op.create_index(
        "appointments_active_slot_key",
        "appointments",
        ["customer_id", "service_id", "starts_at"],
        unique=True,
        sqlite_where=sa.text(HOLDS_SLOT),
        postgresql_where=sa.text(HOLDS_SLOT),
    )
    op.create_index(
        "ix_appointments_company_id_customer_id_starts_at",
        "appointments",
        ["company_id", "customer_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        "ix_appointments_company_id_starts_at",
        "appointments",
        ["company_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        "ix_appointments_pending_updated_at",
        "appointments",
        ["updated_at"],
        unique=False,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )

    op.create_table(
        "duplicate_decisions",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("call_id", ID, nullable=True),
        sa.Column("function", sa.String(length=64), nullable=False),
        sa.Column("layer", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("service_id", ID, nullable=True),
        sa.Column("requested_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("existing_appointment_id", ID, nullable=True),
        sa.Column("false_positive", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("duplicate_decisions_call_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("duplicate_decisions_company_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("duplicate_decisions_customer_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["existing_appointment_id"],
            ["appointments.id"],
            name=op.f("duplicate_decisions_existing_appointment_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("duplicate_decisions_service_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("duplicate_decisions_pkey")),
    )
    op.create_index(
        "ix_duplicate_decisions_company_id_created_at",
        "duplicate_decisions",
        ["company_id", "created_at"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        # No two slot-holding appointments of one customer may overlap, even for different
        # services: the last line behind Layer 2 when two requests race past the checks.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE appointments ADD CONSTRAINT appointments_no_overlap_excl "
            "EXCLUDE USING gist (customer_id WITH =, "
            "tstzrange(starts_at, ends_at, '[)') WITH &&) "
            f"WHERE ({HOLDS_SLOT})"
        )


def downgrade() -> None:
    for table in (
        "duplicate_decisions",
        "appointments",
        "calls",
        "webhook_events",
        "services",
        "customers",
        "agent_routes",
        "idempotency_keys",
        "companies",
    ):
        op.drop_table(table)
