"""Appointments: the one-round-trip query behind Layers 1 and 2, the pending-row state machine."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from slotguard.domain import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    TimeRange,
)
from slotguard.domain.lifecycle import allowed_from, check_initial
from slotguard.store.driver import Lane, Named, SessionLane
from slotguard.store.sql import advisory_xact_lock, table_of
from slotguard.store.tables import AppointmentRow, ServiceRow

_ACTIVE = [s.value for s in ACTIVE_STATUSES]
# The longest appointment a calendar read must see reaching into its window from before it.
# Every appointment we book is one service long (tenants.MAX_SERVICE_MINUTES: 12 hours); a
# Cal.com company's own calendar answers for its longer events.
LONGEST_APPOINTMENT = timedelta(days=1)
# A pending create sent again at most this often (each after a lookup found nothing): a
# resend answered by a 500 or a timeout may be followed by another; the last absent fails.
MAX_RESENDS = 3


class ResendClaim(enum.Enum):
    """What :meth:`AppointmentRepository.mark_resent` found."""

    TAKEN = "taken"  # send it now
    TOO_SOON = "too_soon"  # an earlier resend may still land: look again next round
    USED_UP = "used_up"  # every resend was sent (or the row was settled meanwhile)


_APPOINTMENTS = table_of(AppointmentRow)
_SERVICES = table_of(ServiceRow)
# What to_domain reads, for the statements that select columns instead of ORM entities.
_DOMAIN_COLUMNS = (
    "id", "company_id", "customer_id", "service_id", "starts_at", "ends_at", "status",
    "reservation_key", "calcom_booking_uid", "calcom_booking_id", "deleted_at",
    "rescheduled_from_id", "staff_key",
)  # fmt: skip


def _build_for_rules() -> Select[Any]:
    a = _APPOINTMENTS.c
    return (
        select(*(a[name] for name in _DOMAIN_COLUMNS), _SERVICES.c.name.label("service_name"))
        .join_from(_APPOINTMENTS, _SERVICES, _SERVICES.c.id == a.service_id)
        .where(
            a.company_id == bindparam("company_id"),
            a.customer_id.in_(bindparam("customer_ids", expanding=True)),
            a.starts_at >= bindparam("window_start"),
            a.starts_at < bindparam("window_end"),
            a.status.in_(_ACTIVE),
            a.deleted_at.is_(None),
            a.duplicate_of_id.is_(None),
        )
        .order_by(a.starts_at)
    )


# Built once, values bound at execution: the Layer 1+2 query and the pending row's insert run
# on every collect or book, and building them anew cost more Python than running them (see
# BENCHMARKS.md, throughput). The insert is Core: no ORM flush for one row.
_FOR_RULES = _build_for_rules()
_INSERT = insert(_APPOINTMENTS).returning(*(_APPOINTMENTS.c[name] for name in _DOMAIN_COLUMNS))


@cache
def _calendar_busy(
    by_staff: bool, confirmed_only: bool, ignoring_uid: bool, with_host: bool = False
) -> Select[Any]:
    """Slot-holding appointments overlapping a window, with their service's rules (and their
    person's key first, ``with_host``).

    The start is bounded on both sides (``LONGEST_APPOINTMENT``), so the read scans the
    window's range of the (company, start) index, not every appointment of the company's
    past.
    """
    a = _APPOINTMENTS.c
    columns = (a.staff_key,) if with_host else ()
    query = (
        select(*columns, a.starts_at, a.ends_at, _SERVICES.c.rules)
        .join_from(_APPOINTMENTS, _SERVICES, _SERVICES.c.id == a.service_id)
        .where(
            a.company_id == bindparam("company_id"),
            a.starts_at < bindparam("window_end"),
            a.starts_at > bindparam("starts_after"),
            a.ends_at > bindparam("window_start"),
            a.status.in_(_ACTIVE),
            a.deleted_at.is_(None),
        )
    )
    if by_staff:
        query = query.where(a.staff_key == bindparam("staff_key"))
    if confirmed_only:
        query = query.where(a.calcom_booking_uid.is_not(None))
    if ignoring_uid:
        query = query.where(a.calcom_booking_uid != bindparam("ignore_uid"))
    return query


def _window(company_id: int, window: TimeRange) -> dict[str, Any]:
    """The parameters of a calendar read of ``window`` (see :func:`_calendar_busy`)."""
    return {
        "company_id": company_id,
        "window_start": window.start,
        "window_end": window.end,
        "starts_after": window.start - LONGEST_APPOINTMENT,
    }


async def for_rules_on(
    lane: Lane, company_id: int, customer_ids: int | Sequence[int], window: TimeRange
) -> list[Appointment]:
    """:meth:`AppointmentRepository.for_rules` on a lane (see store.driver)."""
    params = {
        "company_id": company_id,
        "customer_ids": [customer_ids] if isinstance(customer_ids, int) else list(customer_ids),
        "window_start": window.start,
        "window_end": window.end,
    }
    rows = await lane.rows(_FOR_RULES, params)
    return [to_domain(cast(Row[Any], Named(row)), row["service_name"]) for row in rows]


async def calendar_busy_by_host(
    lane: Lane, company_id: int, window: TimeRange
) -> list[tuple[str | None, TimeRange, dict[str, Any] | None]]:
    """Slot-holding appointments of every host of the company overlapping ``window``:
    (person's key, span, service rules), in one read."""
    params = _window(company_id, window)
    rows = await lane.rows(_calendar_busy(False, False, False, with_host=True), params)
    return [(row[0], TimeRange(row[1], row[2]), row[3]) for row in rows]


def to_domain(row: AppointmentRow | Row[Any], service_name: str | None = None) -> Appointment:
    """Map a row (and optionally its service name) to the domain value."""
    return Appointment(
        id=row.id,
        company_id=row.company_id,
        customer_id=row.customer_id,
        service_id=row.service_id,
        span=TimeRange(row.starts_at, row.ends_at),
        status=AppointmentStatus(row.status),
        reservation_key=row.reservation_key,
        calcom_booking_uid=row.calcom_booking_uid,
        calcom_booking_id=row.calcom_booking_id,
        service_name=service_name,
        deleted=row.deleted_at is not None,
        rescheduled_from_id=row.rescheduled_from_id,
        staff_key=row.staff_key,
    )


def _with_service() -> Select[AppointmentRow, str]:
    return select(AppointmentRow, ServiceRow.name).join(
        ServiceRow, ServiceRow.id == AppointmentRow.service_id
    )


def _holds_slot() -> list[ColumnElement[bool]]:
    return [
        AppointmentRow.status.in_(_ACTIVE),
        AppointmentRow.deleted_at.is_(None),
        AppointmentRow.duplicate_of_id.is_(None),
    ]


class AppointmentRepository:
    """All appointment SQL. Flushes only; the use case owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_customer(self, company_id: int, customer_id: int) -> None:
        """Serialize check-and-reserve for one customer until the transaction ends.

        Two requests of the same caller can then never both pass Layer 2; requests of other
        callers are not blocked (on PostgreSQL; SQLite has one writer at a time anyway).
        """
        await advisory_xact_lock(self.session, "slotguard.customer", company_id, customer_id)

    async def lock_company_calendar(self, company_id: int) -> None:
        """Serialize the local calendar of one company (one host: one booking per slot)."""
        await advisory_xact_lock(self.session, "slotguard.local_calendar", company_id)

    async def for_rules(
        self, company_id: int, customer_ids: int | Sequence[int], window: TimeRange
    ) -> list[Appointment]:
        """These people's slot-holding appointments starting inside ``window``: one query.

        Served by ix_appointments_company_id_customer_id_starts_at; this is everything the
        pure rules of Layers 1 and 2 need for one request.
        """
        return await for_rules_on(SessionLane(self.session), company_id, customer_ids, window)

    async def insert(
        self,
        *,
        company_id: int,
        customer_id: int,
        service_id: int,
        span: TimeRange,
        reservation_key: str,
        now: datetime,
        status: AppointmentStatus = AppointmentStatus.PENDING,
        source: AppointmentSource = AppointmentSource.AGENT,
        call_row_id: int | None = None,
        calcom_booking_uid: str | None = None,
        calcom_booking_id: int | None = None,
        rescheduled_from_id: int | None = None,
        duplicate_of_id: int | None = None,
        staff_key: str | None = None,
    ) -> Appointment:
        """Insert one row; the unique index and exclusion constraint may refuse it."""
        check_initial(status)
        values = {
            "company_id": company_id,
            "customer_id": customer_id,
            "service_id": service_id,
            "starts_at": span.start,
            "ends_at": span.end,
            "status": status.value,
            "reservation_key": reservation_key,
            "source": source.value,
            "call_id": call_row_id,
            "calcom_booking_uid": calcom_booking_uid,
            "calcom_booking_id": calcom_booking_id,
            "rescheduled_from_id": rescheduled_from_id,
            "duplicate_of_id": duplicate_of_id,
            "staff_key": staff_key,
            "reconcile_attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        return to_domain((await self.session.execute(_INSERT, values)).one())

    async def get(self, appointment_id: int) -> Appointment | None:
        """One appointment by id, with its service name."""
        return await self._one(_with_service().where(AppointmentRow.id == appointment_id))

    async def by_reservation_key(self, key: str) -> Appointment | None:
        """The row we inserted before calling the calendar."""
        return await self._one(_with_service().where(AppointmentRow.reservation_key == key))

    async def by_calcom_uid(self, uid: str) -> Appointment | None:
        """The row mirroring a calendar booking uid."""
        return await self._one(_with_service().where(AppointmentRow.calcom_booking_uid == uid))

    async def mark_booked(
        self,
        appointment_id: int,
        uid: str | None,
        booking_id: int | None,
        now: datetime,
        *,
        only_from: frozenset[AppointmentStatus] = frozenset({AppointmentStatus.PENDING}),
    ) -> bool:
        """pending → booked with the calendar's uid; False when the row was no longer pending.

        ``only_from`` must be legal origins of ``booked`` (domain.lifecycle).
        """
        origins = allowed_from(AppointmentStatus.BOOKED, only_from)
        result = await self.session.execute(
            update(AppointmentRow)
            .where(
                AppointmentRow.id == appointment_id,
                AppointmentRow.status.in_([s.value for s in origins]),
            )
            .values(
                status=AppointmentStatus.BOOKED.value,
                calcom_booking_uid=uid,
                calcom_booking_id=booking_id,
                updated_at=now,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_status(
        self,
        appointment_id: int,
        status: AppointmentStatus,
        now: datetime,
        *,
        only_from: frozenset[AppointmentStatus] | None = None,
        reason: str | None = None,
    ) -> bool:
        """Move a row to ``status``; True if it moved.

        Only from the lifecycle's legal origins of ``status``, narrowed to ``only_from`` when
        given (each of which must be legal: domain.lifecycle raises IllegalTransition).
        """
        origins = allowed_from(status, only_from)
        query = update(AppointmentRow).where(
            AppointmentRow.id == appointment_id,
            AppointmentRow.status.in_([s.value for s in origins]),
        )
        values: dict[str, object] = {"status": status.value, "updated_at": now}
        if reason is not None:
            values["failure_reason"] = reason[:200]
        result = await self.session.execute(query.values(**values))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def upcoming(self, company_id: int, customer_id: int, now: datetime) -> list[Appointment]:
        """The customer's slot-holding appointments that have not ended yet, soonest first."""
        return await self.upcoming_of(company_id, [customer_id], now)

    async def upcoming_of(
        self, company_id: int, customer_ids: Sequence[int], now: datetime
    ) -> list[Appointment]:
        """The slot-holding, not yet ended appointments of these people, soonest first."""
        return await self._upcoming(
            company_id, AppointmentRow.customer_id.in_(list(customer_ids)), now
        )

    async def upcoming_of_call(
        self, company_id: int, call_row_id: int, now: datetime
    ) -> list[Appointment]:
        """The slot-holding, not yet ended appointments made during one call, soonest first."""
        return await self._upcoming(company_id, AppointmentRow.call_row_id == call_row_id, now)

    async def _upcoming(
        self, company_id: int, whose: ColumnElement[bool], now: datetime
    ) -> list[Appointment]:
        query = _with_service().where(
            AppointmentRow.company_id == company_id,
            whose,
            AppointmentRow.ends_at > now,
            *_holds_slot(),
        )
        rows = await self.session.execute(query.order_by(AppointmentRow.starts_at).limit(50))
        return [to_domain(row, name) for row, name in rows]

    async def calendar_busy(
        self,
        company_id: int,
        window: TimeRange,
        *,
        staff_key: str | None,
        confirmed_only: bool = False,
        ignore_uid: str | None = None,
    ) -> list[tuple[TimeRange, dict[str, Any] | None]]:
        """Slot-holding appointments of one host (a person, or the whole company when
        ``staff_key`` is None) overlapping ``window``, each with its service's rules.
        ``confirmed_only`` keeps the ones the calendar has confirmed (they carry a uid).
        """
        query = _calendar_busy(staff_key is not None, confirmed_only, ignore_uid is not None)
        params = {**_window(company_id, window), "staff_key": staff_key, "ignore_uid": ignore_uid}
        rows = await self.session.execute(query, params)
        return [(TimeRange(start, end), rules) for start, end, rules in rows]

    async def confirm_in_calendar(
        self, reservation_key: str, uid: str, staff_key: str | None = None
    ) -> bool:
        """Local calendar: stamp the calendar uid (and the person) on our pending row;
        False if it is gone."""
        result = await self.session.execute(
            update(AppointmentRow)
            .where(
                AppointmentRow.reservation_key == reservation_key,
                AppointmentRow.status == AppointmentStatus.PENDING.value,
            )
            .values(calcom_booking_uid=uid, staff_key=staff_key)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def lease_stale_pending(
        self, older_than: datetime, now: datetime, limit: int
    ) -> list[Appointment]:
        """Lease up to ``limit`` pending rows untouched since ``older_than`` to this reconciler.

        ``FOR UPDATE SKIP LOCKED`` lets several reconcilers pick rows at once without taking
        the same one; stamping ``updated_at`` keeps the lease after commit, so the network
        lookup that follows runs with no transaction open. SQLite has one writer anyway.
        """
        query = (
            _with_service()
            .where(
                AppointmentRow.status == AppointmentStatus.PENDING.value,
                AppointmentRow.updated_at < older_than,
            )
            .order_by(AppointmentRow.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=AppointmentRow)
        )
        leased = [to_domain(row, name) for row, name in await self.session.execute(query)]
        if leased:
            await self.session.execute(
                update(AppointmentRow)
                .where(AppointmentRow.id.in_([a.id for a in leased]))
                .values(updated_at=now, reconcile_attempts=AppointmentRow.reconcile_attempts + 1)
            )
        return leased

    async def mark_resent(
        self, appointment_id: int, now: datetime, *, landed_by: datetime
    ) -> ResendClaim:
        """Claim a resend of a pending row's create.

        ``TOO_SOON`` while an earlier resend (after ``landed_by``) may still land: another
        reconciler that leased the row meanwhile must not send it a second time. ``USED_UP``
        after ``MAX_RESENDS``, or when the row is no longer pending.
        """
        result = await self.session.execute(
            update(AppointmentRow)
            .where(
                AppointmentRow.id == appointment_id,
                AppointmentRow.status == AppointmentStatus.PENDING.value,
                AppointmentRow.resends < MAX_RESENDS,
                or_(AppointmentRow.resent_at.is_(None), AppointmentRow.resent_at < landed_by),
            )
            .values(resent_at=now, updated_at=now, resends=AppointmentRow.resends + 1)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            return ResendClaim.TAKEN
        row = (
            await self.session.execute(
                select(AppointmentRow.status, AppointmentRow.resends).where(
                    AppointmentRow.id == appointment_id
                )
            )
        ).first()
        if row is None or row[0] != AppointmentStatus.PENDING.value or row[1] >= MAX_RESENDS:
            return ResendClaim.USED_UP
        return ResendClaim.TOO_SOON

    async def unmark_resent(self, appointment_id: int) -> None:
        """The resend was never sent (no connection, no budget): it is still to come."""
        await self.session.execute(
            update(AppointmentRow)
            .where(AppointmentRow.id == appointment_id, AppointmentRow.resends > 0)
            .values(resends=AppointmentRow.resends - 1, resent_at=None)
        )

    async def mark_needs_callback(self, appointment_id: int) -> None:
        """The caller heard "being confirmed" and the booking failed: the salon calls back."""
        await self.session.execute(
            update(AppointmentRow)
            .where(AppointmentRow.id == appointment_id)
            .values(needs_callback=True)
        )

    async def callbacks_needed(self, company_id: int | None = None) -> list[Appointment]:
        """Failed bookings promised as "being confirmed" and not yet called back, oldest first."""
        query = _with_service().where(
            AppointmentRow.needs_callback.is_(True), AppointmentRow.called_back_at.is_(None)
        )
        if company_id is not None:
            query = query.where(AppointmentRow.company_id == company_id)
        rows = await self.session.execute(query.order_by(AppointmentRow.updated_at).limit(200))
        return [to_domain(row, name) for row, name in rows]

    async def count_callbacks_needed(self) -> int:
        """How many failed-after-pending bookings wait for a call back (for the gauge)."""
        query = select(func.count()).where(
            AppointmentRow.needs_callback.is_(True), AppointmentRow.called_back_at.is_(None)
        )
        return int(await self.session.scalar(query) or 0)

    async def mark_called_back(self, appointment_id: int, now: datetime) -> bool:
        """The salon called the caller back; False when there was nothing to call back."""
        result = await self.session.execute(
            update(AppointmentRow)
            .where(AppointmentRow.id == appointment_id, AppointmentRow.needs_callback.is_(True))
            .values(called_back_at=func.coalesce(AppointmentRow.called_back_at, now))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def successor_of(self, appointment_id: int) -> Appointment | None:
        """The pending or failed row that is to replace ``appointment_id`` (a reschedule)."""
        query = _with_service().where(
            AppointmentRow.rescheduled_from_id == appointment_id,
            AppointmentRow.status.in_(
                [AppointmentStatus.PENDING.value, AppointmentStatus.FAILED.value]
            ),
        )
        return await self._one(query.order_by(AppointmentRow.id.desc()).limit(1))

    async def call_row_of(self, appointment_id: int) -> int | None:
        """The id of the call that made the appointment, if any."""
        query = select(AppointmentRow.call_row_id).where(AppointmentRow.id == appointment_id)
        return await self.session.scalar(query)

    async def pending_stats(self, now: datetime) -> tuple[int, float]:
        """(number of pending rows, age in seconds of the oldest) for the metrics gauges."""
        query = select(func.count(), func.min(AppointmentRow.created_at)).where(
            AppointmentRow.status == AppointmentStatus.PENDING.value
        )
        count, oldest = (await self.session.execute(query)).one()
        age = 0.0
        if isinstance(oldest, datetime):
            age = max(0.0, (now - oldest.replace(tzinfo=now.tzinfo)).total_seconds())
        return int(count), age

    async def find_matching(
        self, company_id: int, customer_id: int, span: TimeRange
    ) -> Appointment | None:
        """A slot-holding appointment of the customer overlapping ``span`` (Layer 3 collisions)."""
        query = _with_service().where(
            AppointmentRow.company_id == company_id,
            AppointmentRow.customer_id == customer_id,
            and_(AppointmentRow.starts_at < span.end, AppointmentRow.ends_at > span.start),
            *_holds_slot(),
        )
        return await self._one(query.order_by(AppointmentRow.starts_at).limit(1))

    async def _one(self, query: Select[AppointmentRow, str]) -> Appointment | None:
        row = (await self.session.execute(query)).first()
        return None if row is None else to_domain(row[0], row[1])
