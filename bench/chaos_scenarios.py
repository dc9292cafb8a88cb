"""The chaos run's population: tenants, callers, slots, and the call patterns real lines produce.

``build_plan`` is pure and seeded: the same arguments give the same scenarios. Running them
(signed HTTP calls, bookings made "on the website") is ``play``'s job, through a ``Stage`` that
chaos.py provides. What the replies will be depends on timing and injected faults, so the
scripts decide as an agent would: stop on ``refused``/``unavailable``, ask on ``same_day``.

Each salon (tenant) is its own Cal.com account: its own API key (Cal.com's rate limit is per
key), its own webhook secret, its own days (so ``sync_company``'s list, which the one-account
emulator cannot scope by key, sees only that salon's bookings) and one host per service (one
stylist each), so a caller *could* hold two overlapping bookings in Cal.com: only slotguard
stands in the way.
"""

from __future__ import annotations

import asyncio
import enum
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from slotguard.testing import EventTypeConfig, HostConfig

ZONE_NAME = "Europe/Berlin"
ZONE = ZoneInfo(ZONE_NAME)
# (name, minutes): the salon's services; each has its own host, see the module docstring.
# Every length divides an hour: Cal.com offers slots on a grid of the event's length from the
# start of the working hours, so a 45-minute service would be "unavailable" at most full hours.
SERVICES = (("Herrenhaarschnitt", 30), ("Damenhaarschnitt", 60), ("Bartpflege", 20))
# Local start hours of the slot grid: an hour apart, so no two planned slots overlap whatever
# the service, and clear of the 02:00-03:00 hour that a DST switch removes or repeats.
HOURS = tuple(range(6, 22))
# Never plan "today" or "tomorrow": the servers use the real clock, the run may cross midnight.
FIRST_DAY_OFFSET = 2
# Cal.com allows 120 requests per minute per API key; a scenario costs ~3 calendar requests,
# so 20 calls per salon keep every key well under the limit for a run of a minute or more.
CALLS_PER_TENANT = 20
NAMES = (
    "Anna Berg",
    "Ben Kraus",
    "Clara Wolf",
    "David Roth",
    "Emma Lang",
    "Felix Vogel",
    "Hannah Seidel",
    "Jonas Frank",
    "Lea Brandt",
    "Max Müller",
    "Sophie Jäger",
)


class Kind(enum.StrEnum):
    """The call patterns of the run."""

    PLAIN = "plain"  # collect, then book
    REPEAT_CALLER = "repeat_caller"  # the same caller calls again (new call id)
    RETELL_RETRY = "retell_retry"  # Retell re-sends a slow book while the first is in flight
    BARGE_IN = "barge_in"  # the model repeats the book call after a barge-in (same call)
    RACE = "race"  # two callers want the same slot at the same time
    WEBSITE = "website"  # the caller also books directly in Cal.com
    RESCHEDULE = "reschedule"  # book, then call again to move it
    CANCEL = "cancel"  # book, then call again to cancel it


# Share of scenarios per kind, and how many phone calls (Retell call ids) each makes.
MIX = {
    Kind.PLAIN: (0.34, 1),
    Kind.REPEAT_CALLER: (0.12, 2),
    Kind.RETELL_RETRY: (0.12, 1),
    Kind.BARGE_IN: (0.08, 1),
    Kind.RACE: (0.10, 2),
    Kind.WEBSITE: (0.14, 1),
    Kind.RESCHEDULE: (0.05, 2),
    Kind.CANCEL: (0.05, 2),
}
VARIANTS = {
    Kind.REPEAT_CALLER: ("same_wish", "same_wish", "other_service_overlap", "same_day_other_time"),
    Kind.WEBSITE: (
        "website_first_same",
        "website_first_overlap",
        "agent_first_overlap",
        "agent_first_same",
    ),
}


@dataclass(frozen=True)
class Tenant:
    """One salon: its slug, Retell agent, Cal.com key, webhook secret and days."""

    index: int
    first_day: date
    days: int

    @property
    def slug(self) -> str:
        """The company slug (webhook URL)."""
        return f"chaos-{self.index:03d}"

    @property
    def agent_id(self) -> str:
        """The Retell agent routed to this salon."""
        return f"agent_chaos_{self.index:03d}"

    @property
    def api_key(self) -> str:
        """The salon's Cal.com API key."""
        return f"cal_chaos_{self.index:03d}"

    @property
    def secret(self) -> str:
        """The salon's Cal.com webhook secret."""
        return f"whsec_chaos_{self.index:03d}"

    @property
    def env(self) -> dict[str, str]:
        """The variables the tenants file names, with their values."""
        return {
            f"CALCOM_KEY_CHAOS_{self.index:03d}": self.api_key,
            f"CALCOM_SECRET_CHAOS_{self.index:03d}": self.secret,
        }

    def event_type_id(self, service: int) -> int:
        """The Cal.com event type of one service."""
        return 100_000 + 10 * self.index + service + 1

    def event_types(self) -> list[EventTypeConfig]:
        """The salon's event types in the emulator, one host (stylist) each, open all day."""
        types = []
        for service, (name, minutes) in enumerate(SERVICES):
            host_id = 1_000 + 3 * self.index + service
            host = HostConfig(
                id=host_id,
                name=f"Stylist {host_id}",
                email=f"stylist{host_id}@chaos.example",
                username=f"stylist-{host_id}",
            )
            slug = name.lower().replace("ä", "ae")
            types.append(EventTypeConfig(self.event_type_id(service), slug, minutes, name, host))
        return types

    def window(self) -> tuple[datetime, datetime]:
        """[first day 00:00, last day + 1 00:00) local, in UTC: where its bookings lie."""
        start = datetime.combine(self.first_day, datetime.min.time(), tzinfo=ZONE)
        end = datetime.combine(
            self.first_day + timedelta(days=self.days), datetime.min.time(), tzinfo=ZONE
        )
        return start.astimezone(UTC), end.astimezone(UTC)

    def toml(self) -> str:
        """This salon's entry of the tenants file."""
        keys = list(self.env)
        hours = "\n".join(
            f'{day} = "00:00-24:00"' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        )
        services = "\n".join(
            f'[[companies.services]]\nname = "{name}"\nduration_minutes = {minutes}\n'
            f"calcom_event_type_id = {self.event_type_id(i)}\n"
            for i, (name, minutes) in enumerate(SERVICES)
        )
        return (
            f'[[companies]]\nslug = "{self.slug}"\nname = "Chaos Salon {self.index}"\n'
            f'timezone = "{ZONE_NAME}"\nlanguage = "de"\n'
            f'retell_agent_ids = ["{self.agent_id}"]\ncalendar = "calcom"\n'
            f'calcom_api_key_env = "{keys[0]}"\ncalcom_webhook_secret_env = "{keys[1]}"\n\n'
            f"[companies.opening_hours]\n{hours}\n\n{services}"
        )


@dataclass(frozen=True)
class Slot:
    """One planned start: a salon and the n-th hour of its grid."""

    tenant: int
    ordinal: int


@dataclass(frozen=True)
class Wish:
    """What a caller asks for."""

    tenant: int
    caller: str  # E.164
    name: str
    service: int  # index into SERVICES
    slot: Slot
    confirm: bool = False


@dataclass(frozen=True)
class Scenario:
    """One pattern instance: its wishes and the choices drawn for it up front."""

    number: int
    kind: Kind
    variant: str
    wishes: tuple[Wish, ...]
    calls: int
    concurrent: bool = False  # repeat caller: both calls at once
    skip_collect: bool = False  # the model books without collecting first
    confirm_on_warning: bool = False  # the caller wants it anyway after a same_day warning
    delays: tuple[float, ...] = ()  # retry / website delays in seconds (before scaling)
    moves_to: Slot | None = None  # reschedule target


@dataclass
class Plan:
    """Tenants and scenarios of one run."""

    tenants: list[Tenant]
    scenarios: list[Scenario]

    @property
    def calls(self) -> int:
        """Phone calls (Retell call ids) the scenarios make."""
        return sum(s.calls for s in self.scenarios)

    def start(self, slot: Slot) -> datetime:
        """The slot's local start."""
        tenant = self.tenants[slot.tenant]
        day = tenant.first_day + timedelta(days=slot.ordinal // len(HOURS))
        hour = HOURS[slot.ordinal % len(HOURS)]
        return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)

    def args(self, wish: Wish) -> dict[str, Any]:
        """book_appointment / collect_appointment_data arguments of a wish."""
        start = self.start(wish.slot)
        args: dict[str, Any] = {
            "customer_name": wish.name,
            "service": SERVICES[wish.service][0],
            "date": start.date().isoformat(),
            "time": start.strftime("%H:%M"),
        }
        if wish.confirm:
            args["confirm_duplicate"] = True
        return args

    def secrets(self) -> dict[str, str]:
        """Every tenant's API key and webhook secret, by variable name."""
        return {k: v for tenant in self.tenants for k, v in tenant.env.items()}

    def tenants_toml(self) -> str:
        """The tenants file."""
        return "\n".join(tenant.toml() for tenant in self.tenants)

    def event_types(self) -> list[EventTypeConfig]:
        """Every event type of every salon, for the emulator."""
        return [et for tenant in self.tenants for et in tenant.event_types()]

    def tenant_of_event_type(self) -> dict[int, Tenant]:
        """Which salon an event type belongs to."""
        return {
            tenant.event_type_id(s): tenant for tenant in self.tenants for s in range(len(SERVICES))
        }


class _Slots:
    """Hands out each salon's grid hours in order; pairs stay on one day."""

    def __init__(self, tenants: int) -> None:
        self.used = [0] * tenants

    def next(self, tenant: int) -> Slot:
        slot = Slot(tenant, self.used[tenant])
        self.used[tenant] += 1
        return slot

    def pair(self, tenant: int) -> tuple[Slot, Slot]:
        if self.used[tenant] % len(HOURS) == len(HOURS) - 1:
            self.used[tenant] += 1
        return self.next(tenant), self.next(tenant)


def default_tenants(calls: int) -> int:
    """Enough salons to keep each Cal.com key under its rate limit."""
    return max(2, math.ceil(calls / CALLS_PER_TENANT))


def build_plan(calls: int, seed: int, tenants: int, today: date) -> Plan:
    """Scenarios until ``calls`` phone calls are planned, spread round-robin over the salons."""
    rng = random.Random(seed)
    slots = _Slots(tenants)
    kinds, weights = list(MIX), [share for share, _calls in MIX.values()]
    scenarios: list[Scenario] = []
    planned = 0
    while planned < calls:
        kind = rng.choices(kinds, weights)[0]
        scenario = _scenario(rng, len(scenarios), kind, len(scenarios) % tenants, slots)
        scenarios.append(scenario)
        planned += scenario.calls
    days = max(1, math.ceil(max(slots.used) / len(HOURS)))
    first = today + timedelta(days=FIRST_DAY_OFFSET)
    salons = [Tenant(i, first + timedelta(days=i * days), days) for i in range(tenants)]
    return Plan(salons, scenarios)


def _phone(number: int, who: int) -> str:
    return f"+49151{20_000_000 + 2 * number + who:08d}"


def _scenario(rng: random.Random, number: int, kind: Kind, tenant: int, slots: _Slots) -> Scenario:
    variant = rng.choice(VARIANTS.get(kind, (kind.value,)))
    service = rng.randrange(len(SERVICES))
    other = (service + 1 + rng.randrange(len(SERVICES) - 1)) % len(SERVICES)
    caller, name = _phone(number, 0), rng.choice(NAMES)
    if variant == "same_day_other_time":
        first_slot, second_slot = slots.pair(tenant)
    else:
        first_slot = slots.next(tenant)
        second_slot = first_slot
    first = Wish(tenant, caller, name, service, first_slot)
    second = {
        "same_wish": first,
        "other_service_overlap": replace(first, service=other),
        "same_day_other_time": replace(first, slot=second_slot),
        "website_first_overlap": replace(first, service=other),
        "agent_first_overlap": replace(first, service=other),
        "website_first_same": first,
        "agent_first_same": first,
    }.get(variant)
    if kind is Kind.RACE:
        second = Wish(tenant, _phone(number, 1), rng.choice(NAMES), service, first_slot)
    wishes = (first,) if second is None else (first, second)
    delays: tuple[float, ...] = ()
    if kind is Kind.RETELL_RETRY:  # Retell retries up to twice
        delays = tuple(rng.uniform(0.2, 1.0) for _ in range(rng.choice((1, 1, 2))))
    elif kind in (Kind.WEBSITE, Kind.RACE):
        delays = (rng.uniform(0.0, 1.0),)
    return Scenario(
        number=number,
        kind=kind,
        variant=variant,
        wishes=wishes,
        calls=MIX[kind][1],
        concurrent=kind is Kind.REPEAT_CALLER and rng.random() < 0.3,
        skip_collect=rng.random() < 0.2,
        confirm_on_warning=rng.random() < 0.5,
        delays=delays,
        moves_to=slots.next(tenant) if kind is Kind.RESCHEDULE else None,
    )


# -- playing a scenario -----------------------------------------------------------------------

Reply = dict[str, Any]


class Stage(Protocol):
    """What the scripts need from the harness."""

    plan: Plan
    scale: float  # multiplies every think time and retry delay (--fast shrinks them)

    async def call(
        self,
        function: str,
        args: dict[str, Any],
        *,
        call_id: str,
        wish: Wish,
        kind: Kind,
        repeat: bool = False,
    ) -> Reply:
        """One signed Retell function call; returns the reply JSON (status ``http_error`` too)."""

    def website(self, wish: Wish, kind: Kind) -> bool:
        """Book ``wish`` directly in Cal.com, as the caller would on the website; True if taken."""

    def repeat_answered(self, first: Reply, again: Reply, how: str) -> None:
        """Record how a repeated request was answered compared with the first."""


STOP = frozenset({"refused", "unavailable", "error", "http_error"})


async def converse(
    stage: Stage, s: Scenario, wish: Wish, call_id: str
) -> tuple[Reply, Wish | None]:
    """collect → book, as an agent would: stop when told no, ask the caller on ``same_day``.

    Returns the last reply and the wish of the last book call (None when it never got there).
    """
    if not s.skip_collect:
        reply = await _call(stage, s, "collect_appointment_data", wish, call_id)
        if reply["status"] in STOP:
            return reply, None
        if reply["status"] == "warning" and reply.get("reason") == "same_day":
            if not s.confirm_on_warning:
                return reply, None
            wish = replace(wish, confirm=True)
    reply = await _call(stage, s, "book_appointment", wish, call_id)
    if reply["status"] == "warning" and s.confirm_on_warning and not wish.confirm:
        wish = replace(wish, confirm=True)
        reply = await _call(stage, s, "book_appointment", wish, call_id)
    return reply, wish


async def _call(
    stage: Stage, s: Scenario, function: str, wish: Wish, call_id: str, repeat: bool = False
) -> Reply:
    args = stage.plan.args(wish)
    if function == "collect_appointment_data":
        args.pop("confirm_duplicate", None)
    return await stage.call(function, args, call_id=call_id, wish=wish, kind=s.kind, repeat=repeat)


def _call_id(s: Scenario, n: int) -> str:
    return f"chaos-{s.number:05d}-{n}"


async def _plain(stage: Stage, s: Scenario) -> None:
    await converse(stage, s, s.wishes[0], _call_id(s, 1))


async def _repeat_caller(stage: Stage, s: Scenario) -> None:
    first, again = s.wishes
    if s.concurrent:
        await asyncio.gather(
            converse(stage, s, first, _call_id(s, 1)), converse(stage, s, again, _call_id(s, 2))
        )
        return
    await converse(stage, s, first, _call_id(s, 1))
    await converse(stage, s, again, _call_id(s, 2))


async def _retell_retry(stage: Stage, s: Scenario) -> None:
    wish, call_id = s.wishes[0], _call_id(s, 1)
    if not s.skip_collect:
        reply = await _call(stage, s, "collect_appointment_data", wish, call_id)
        if reply["status"] in STOP or reply["status"] == "warning":
            return
    first = asyncio.create_task(_call(stage, s, "book_appointment", wish, call_id))
    retries = []
    for delay in s.delays:
        await asyncio.sleep(delay * stage.scale)
        how = "in_flight" if not first.done() else "after"
        retry = _call(stage, s, "book_appointment", wish, call_id, repeat=True)
        retries.append((how, asyncio.create_task(retry)))
    answer = await first
    for how, task in retries:
        stage.repeat_answered(answer, await task, how)


async def _barge_in(stage: Stage, s: Scenario) -> None:
    wish, call_id = s.wishes[0], _call_id(s, 1)
    answer, booked_with = await converse(stage, s, wish, call_id)
    if booked_with is not None:
        again = await _call(stage, s, "book_appointment", booked_with, call_id, repeat=True)
        stage.repeat_answered(answer, again, "sequential")


async def _race(stage: Stage, s: Scenario) -> None:
    async def second() -> None:
        await asyncio.sleep(s.delays[0] * 0.05 * stage.scale)
        await converse(stage, s, s.wishes[1], _call_id(s, 2))

    await asyncio.gather(converse(stage, s, s.wishes[0], _call_id(s, 1)), second())


async def _website(stage: Stage, s: Scenario) -> None:
    agent_wish, site_wish = s.wishes[1], s.wishes[0]
    if s.variant.startswith("website_first"):
        stage.website(site_wish, s.kind)
        await asyncio.sleep(s.delays[0] * stage.scale)
        await converse(stage, s, agent_wish, _call_id(s, 1))
        return
    await converse(stage, s, site_wish, _call_id(s, 1))
    await asyncio.sleep(s.delays[0] * stage.scale)
    stage.website(agent_wish, s.kind)


async def _reschedule(stage: Stage, s: Scenario) -> None:
    wish = s.wishes[0]
    answer, _ = await converse(stage, s, wish, _call_id(s, 1))
    if answer["status"] not in ("booked", "pending") or s.moves_to is None:
        return
    old, new = stage.plan.start(wish.slot), stage.plan.start(s.moves_to)
    args = {
        "date": old.date().isoformat(),
        "time": old.strftime("%H:%M"),
        "new_date": new.date().isoformat(),
        "new_time": new.strftime("%H:%M"),
    }
    await stage.call("reschedule_appointment", args, call_id=_call_id(s, 2), wish=wish, kind=s.kind)


async def _cancel(stage: Stage, s: Scenario) -> None:
    wish = s.wishes[0]
    answer, _ = await converse(stage, s, wish, _call_id(s, 1))
    if answer["status"] not in ("booked", "pending"):
        return
    start = stage.plan.start(wish.slot)
    args = {"date": start.date().isoformat(), "time": start.strftime("%H:%M")}
    await stage.call("cancel_appointment", args, call_id=_call_id(s, 2), wish=wish, kind=s.kind)


SCRIPTS: dict[Kind, Callable[[Stage, Scenario], Awaitable[None]]] = {
    Kind.PLAIN: _plain,
    Kind.REPEAT_CALLER: _repeat_caller,
    Kind.RETELL_RETRY: _retell_retry,
    Kind.BARGE_IN: _barge_in,
    Kind.RACE: _race,
    Kind.WEBSITE: _website,
    Kind.RESCHEDULE: _reschedule,
    Kind.CANCEL: _cancel,
}


async def play(stage: Stage, scenario: Scenario) -> None:
    """Run one scenario's calls against the stage."""
    await SCRIPTS[scenario.kind](stage, scenario)
