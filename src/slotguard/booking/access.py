"""Whose appointments a caller may see and change: their phone's household, or this call's.

A phone number is the only key: an email is spoken, never verified, so it never opens anyone's
appointments. A caller whose number is withheld sees only what this very call booked.
"""

from __future__ import annotations

from slotguard.booking.context import Context
from slotguard.booking.resolve import Caller
from slotguard.domain import Appointment
from slotguard.store.appointments import AppointmentRepository


async def visible_upcoming(ctx: Context, caller: Caller) -> list[Appointment]:
    """The upcoming slot-holding appointments the caller may list, cancel or move."""
    async with ctx.sessions() as session:
        repo = AppointmentRepository(session)
        if caller.household:
            people = [person.id for person in caller.household]
            return await repo.upcoming_of(caller.company.id, people, ctx.clock())
        return await repo.upcoming_of_call(caller.company.id, caller.call_row_id, ctx.clock())


def named_people(caller: Caller) -> list[str]:
    """The names of the household's people, first caller first."""
    return [person.name for person in caller.household if person.name]
