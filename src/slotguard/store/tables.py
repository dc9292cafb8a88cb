"""SQLAlchemy 2 tables: the schema of docs/architecture.md §4. Row classes end in ``Row`` and live
only here."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from slotguard.domain import ACTIVE_STATUSES, AppointmentSource, AppointmentStatus
from slotguard.store.types import BigIntPK, UTCDateTime

# PostgreSQL's own default names, so integrity.py can match a violated constraint by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}

ACTIVE_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in sorted(ACTIVE_STATUSES)))
# Rows that hold a slot: active, not soft-deleted, not a kept external duplicate.
HOLDS_SLOT_SQL = f"{ACTIVE_SQL} AND deleted_at IS NULL AND duplicate_of_id IS NULL"
ACTIVE_SLOT_INDEX = "appointments_active_slot_key"
NO_OVERLAP_CONSTRAINT = "appointments_no_overlap_excl"
HOUSEHOLD_PERSON_INDEX = "customers_household_person_key"


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


def _now_default() -> Any:
    return text("CURRENT_TIMESTAMP")


class CompanyRow(Base):
    """A tenant, upserted from the tenants file by slug."""

    __tablename__ = "companies"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    max_appointments_per_day: Mapped[int] = mapped_column(Integer, default=3)
    same_service_window_days: Mapped[int] = mapped_column(Integer, default=30)
    calendar: Mapped[str] = mapped_column(String(16), default="local")
    calcom_api_key_env: Mapped[str | None] = mapped_column(String(128))
    calcom_webhook_secret_env: Mapped[str | None] = mapped_column(String(128))
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # notice, buffer, horizon, grid, holidays, closures and staff, as in the tenants file
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # sha256 (hex) of the owner's dashboard token; set by `slotguard owners token`
    owner_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=_now_default())
    updated_at: Mapped[datetime] = mapped_column(server_default=_now_default())


class AgentRouteRow(Base):
    """Maps a Retell agent id or a called number to a company."""

    __tablename__ = "agent_routes"
    __table_args__ = (UniqueConstraint("kind", "value"),)
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "agent_id" | "phone_number"
    value: Mapped[str] = mapped_column(String(128))


class ServiceRow(Base):
    """A bookable service of one company."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("company_id", "name"),)
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    calcom_event_type_id: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # notice, buffer, grid overrides


class CustomerRow(Base):
    """A person of one company; the people sharing a phone number form its household.

    ``phone_e164`` (unique per company) is set on the household's first person only, so a
    first contact is created race-free; every person of the household carries the number in
    ``household_phone`` and is told apart by ``name_key`` (the folded name).
    """

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("company_id", "phone_e164"),
        Index("ix_customers_company_id_email", "company_id", "email"),
        Index(HOUSEHOLD_PERSON_INDEX, "company_id", "household_phone", "name_key", unique=True),
    )
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(200))
    name_key: Mapped[str | None] = mapped_column(String(200))
    phone_e164: Mapped[str | None] = mapped_column(String(32))
    household_phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    forgotten_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=_now_default())
    updated_at: Mapped[datetime] = mapped_column(server_default=_now_default())


class CallRow(Base):
    """One Retell call, linked to its caller and the appointment it produced."""

    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(128), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    agent_id: Mapped[str | None] = mapped_column(String(128))
    from_number: Mapped[str | None] = mapped_column(String(32))
    to_number: Mapped[str | None] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    # No foreign key: calls and appointments reference each other, and the appointment side
    # (appointments.call_id) is the one the database enforces.
    appointment_id: Mapped[int | None] = mapped_column(BigInteger)
    appointment_link_status: Mapped[str] = mapped_column(String(16), default="none")
    call_status: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=_now_default())
    updated_at: Mapped[datetime] = mapped_column(server_default=_now_default())


class AppointmentRow(Base):
    """The local mirror of a booking; the indexes below are the database's own duplicate guard."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{s}'" for s in AppointmentStatus)),
            name="status",
        ),
        CheckConstraint(
            "source IN ({})".format(", ".join(f"'{s}'" for s in AppointmentSource)),
            name="source",
        ),
        CheckConstraint("ends_at > starts_at", name="span"),
        Index(
            ACTIVE_SLOT_INDEX,
            "customer_id",
            "service_id",
            "starts_at",
            unique=True,
            sqlite_where=text(HOLDS_SLOT_SQL),
            postgresql_where=text(HOLDS_SLOT_SQL),
        ),
        Index(
            "ix_appointments_company_id_customer_id_starts_at",
            "company_id",
            "customer_id",
            "starts_at",
        ),
        Index("ix_appointments_company_id_starts_at", "company_id", "starts_at"),
        Index(
            "ix_appointments_pending_updated_at",
            "updated_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    calcom_booking_id: Mapped[int | None] = mapped_column(BigInteger)
    calcom_booking_uid: Mapped[str | None] = mapped_column(String(128), unique=True)
    reservation_key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    # calls.id (column call_id); not Retell's call id, which is calls.call_id
    call_row_id: Mapped[int | None] = mapped_column(
        "call_id", ForeignKey("calls.id", ondelete="SET NULL")
    )
    rescheduled_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    staff_key: Mapped[str | None] = mapped_column(String(100))  # the person who serves it
    reconcile_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the reconciler sent a create again that verifiably never reached the calendar.
    resent_at: Mapped[datetime | None] = mapped_column()
    # Creates sent again after a lookup by our key found nothing (bounded: MAX_RESENDS).
    resends: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # A booking that failed after the caller heard "being confirmed": the salon calls back.
    needs_callback: Mapped[bool] = mapped_column(Boolean, default=False)
    called_back_at: Mapped[datetime | None] = mapped_column()
    deleted_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=_now_default())
    updated_at: Mapped[datetime] = mapped_column(server_default=_now_default())


class DuplicateDecisionRow(Base):
    """Audit trail of every Layer 1/2/3 outcome; the source of metrics and false-positive review."""

    __tablename__ = "duplicate_decisions"
    __table_args__ = (
        Index("ix_duplicate_decisions_company_id_created_at", "company_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    # calls.id (column call_id); not Retell's call id, which is calls.call_id
    call_row_id: Mapped[int | None] = mapped_column(
        "call_id", ForeignKey("calls.id", ondelete="SET NULL")
    )
    function: Mapped[str] = mapped_column(String(64))
    layer: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="SET NULL"))
    requested_start: Mapped[datetime | None] = mapped_column()
    requested_end: Mapped[datetime | None] = mapped_column()
    existing_appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    false_positive: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=_now_default())


class IdempotencyKeyRow(Base):
    """Stripe-style idempotency record for one function call; the reply is replayed verbatim."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("scope", "key"),
        CheckConstraint("state IN ('in_progress', 'done')", name="state"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
        Index("ix_idempotency_keys_scope_call_id", "scope", "call_id"),
    )
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    reply: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    locked_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    # Retell's call id and the function: a later change in the same call ends a replay.
    call_id: Mapped[str | None] = mapped_column(String(128))
    function: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column()


class WebhookEventRow(Base):
    """A received webhook, stored before it is applied so nothing is lost on a crash."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "dedupe_key"),)
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))  # "calcom" | "retell"
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(64))
    raw_body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column()
    processed_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class DashboardSessionRow(Base):
    """A signed-in dashboard session; the cookie is a random value, only its hash is stored.

    Logout deletes the row, so a copied cookie dies with it; every worker reads the same rows.
    """

    __tablename__ = "dashboard_sessions"
    __table_args__ = (Index("ix_dashboard_sessions_expires_at", "expires_at"),)
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    cookie_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(80))
    # HMAC of the cookie keyed by the credential used: a changed token ends the session.
    credential_check: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()


class LoginFailureRow(Base):
    """One failed dashboard login, per client address, for throttling across workers."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_client_failed_at", "client", "failed_at"),)
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column()


class CalcomKeyRow(Base):
    """One Cal.com API key (by sha256): the lock of its budget and Cal.com's block, if any."""

    __tablename__ = "calcom_keys"
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    blocked_until: Mapped[float] = mapped_column(Float(precision=53), default=0.0)


class CalcomSendRow(Base):
    """One request sent (or about to be) on a key; it counts against the budget for a window.

    ``sent_at`` is Unix time: while the request is in flight it lies in the future (the
    latest moment it may still reach Cal.com), and the answer moves it to when it came.
    """

    __tablename__ = "calcom_sends"
    __table_args__ = (Index("ix_calcom_sends_key_hash_sent_at", "key_hash", "sent_at"),)
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[float] = mapped_column(Float(precision=53))


class SlotWindowVersionRow(Base):
    """A company's calendar days ``[window_start, +7 d)``: bumped by every change we learn of."""

    __tablename__ = "slot_window_versions"
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[str] = mapped_column(String(10), primary_key=True)  # local ISO date
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class SlotWindowRow(Base):
    """Cal.com's free slots of one event type in one window, shared by every process.

    Fresh while ``version`` equals the window's version and ``fetched_at`` is within the TTL;
    ``lease_until`` (Unix time) marks the one lookup in flight for it (single flight).
    """

    __tablename__ = "slot_windows"
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    event_type_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    window_start: Mapped[str] = mapped_column(String(10), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    fetched_at: Mapped[float | None] = mapped_column(Float(precision=53))
    slots: Mapped[list[str] | None] = mapped_column(JSON)
    lease_until: Mapped[float] = mapped_column(Float(precision=53), default=0.0)


class CalendarSyncRow(Base):
    """The periodic sync of one company: who runs it (lease), when it last ran, what it found."""

    __tablename__ = "calendar_syncs"
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    lease_until: Mapped[float] = mapped_column(Float(precision=53), default=0.0)
    last_run_at: Mapped[datetime | None] = mapped_column()
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    last_findings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
