"""The ``slotguard`` command. Each command builds Settings once and passes them down."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import httpx
import typer
from sqlalchemy.exc import InterfaceError, OperationalError

from slotguard import __version__, tenants
from slotguard.booking import reconcile as reconcile_use_case
from slotguard.booking.offer import event_type_uses
from slotguard.booking.privacy import Erasure, ForgetError, forget_customer
from slotguard.booking.sync import NotACalcomCompany, sync_company
from slotguard.calendar import CalendarUnreachable
from slotguard.calendar.calcom import CalcomCalendar, CalcomClient
from slotguard.calendar.slot_cache import calcom_of
from slotguard.observability import MULTIPROC_ENV, configure_logging, get_logger
from slotguard.retell.tools import tool_definitions
from slotguard.runtime import open_context
from slotguard.settings import Settings, SettingsError, load_settings
from slotguard.store.companies import ApplyResult, CompanyRepository
from slotguard.store.db import DatabaseUrlError
from slotguard.store.migrate import SchemaState, schema_state, upgrade
from slotguard.store.owners import new_token, set_owner_token
from slotguard.testing.seed import DatabaseNotEmpty, SeedPlan, SeedReport, fill, start_of_today

app = typer.Typer(
    name="slotguard",
    help="Booking backend for AI phone agents: Retell functions, Cal.com, duplicate prevention.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
tenants_app = typer.Typer(help="Manage companies, services and routes from a tenants file.")
app.add_typer(tenants_app, name="tenants")
calcom_app = typer.Typer(help="Cal.com: backfill bookings, list event types.", no_args_is_help=True)
app.add_typer(calcom_app, name="calcom")
customers_app = typer.Typer(help="Customers: GDPR erasure.", no_args_is_help=True)
app.add_typer(customers_app, name="customers")
owners_app = typer.Typer(help="Salon owners: their dashboard login.", no_args_is_help=True)
app.add_typer(owners_app, name="owners")
log = get_logger("cli")
WORKER_HEALTHCHECK_SECONDS = 60


class CliError(Exception):
    """An expected failure: printed as one line, exit status 2."""


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slotguard {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """Booking backend for AI phone agents: Retell functions, Cal.com, duplicate prevention."""


@app.command()
def migrate() -> None:
    """Upgrade the database (SLOTGUARD_DATABASE_URL) to the newest schema; says what it did."""
    settings = _settings()

    async def _run() -> tuple[SchemaState, SchemaState]:
        async with open_context(settings) as ctx:
            before = await schema_state(ctx.engine)
            await upgrade(ctx.engine)
            return before, await schema_state(ctx.engine)

    before, after = asyncio.run(_run())
    if before.current == after.current:
        typer.echo(f"database is already at the newest schema ({after.current}); nothing to do")
    elif before.current is None:
        typer.echo(f"empty database: created the schema at revision {after.current}")
    else:
        typer.echo(f"upgraded the database from revision {before.current} to {after.current}")


@tenants_app.command("apply")
def tenants_apply(
    file: Annotated[Path, typer.Argument(help="tenants file (TOML), see README")],
    check_calcom: Annotated[
        bool,
        typer.Option(
            "--check-calcom",
            help="ask each Cal.com account for its event types first; refuse the file when a "
            "service's duration differs from its event type's length",
        ),
    ] = False,
) -> None:
    """Validate FILE and upsert its companies, services and routes; safe to run repeatedly."""
    settings = _settings()
    spec = tenants.load(file)
    if check_calcom:
        problems = asyncio.run(_calcom_length_problems(settings, spec))
        if problems:
            raise CliError("nothing applied:\n" + "\n".join(problems))
    result = asyncio.run(_apply_tenants(settings, spec))
    typer.echo(
        f"{file}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    )


async def _calcom_length_problems(settings: Settings, spec: tenants.TenantsSpec) -> list[str]:
    """Every service whose duration its Cal.com event type does not share (or cannot be read)."""
    problems: list[str] = []
    async with httpx.AsyncClient(
        base_url=settings.calcom_base_url, timeout=settings.calcom_timeout_seconds
    ) as http:
        for company in spec.companies:
            if company.calendar != "calcom":
                continue
            key = os.environ.get(company.calcom_api_key_env or "", "")
            try:
                types = await CalcomCalendar(CalcomClient(http), key).event_types()
            except CalendarUnreachable as problem:
                problems.append(f"{company.slug}: event types unreadable: {problem}")
                continue
            lengths = {t.id: t.length_in_minutes for t in types}
            problems += tenants.length_mismatches(company, lengths)
    return problems


async def _apply_tenants(settings: Settings, spec: tenants.TenantsSpec) -> ApplyResult:
    async with open_context(settings) as ctx:
        state = await schema_state(ctx.engine)
        if not state.at_head:
            at = "has no schema" if state.current is None else f"is at {state.current}"
            raise CliError(
                f"the database {at}, the newest is {state.head}: run `slotguard migrate` first"
            )
        async with ctx.sessions() as session, session.begin():
            return await CompanyRepository(session).apply_tenants(spec)


@app.command()
def serve(
    workers: Annotated[
        int, typer.Option(min=1, help="worker processes (use >1 only on PostgreSQL)")
    ] = 1,
    host: Annotated[
        str | None, typer.Option(help="address to listen on [default: SLOTGUARD_HOST]")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="port to listen on [default: SLOTGUARD_PORT]"),
    ] = None,
) -> None:
    """Apply the tenants file and serve HTTP on SLOTGUARD_HOST:SLOTGUARD_PORT (or --host/--port)."""
    import uvicorn

    from slotguard.api.server import NoDelayHttpToolsProtocol

    if host is not None:
        os.environ["SLOTGUARD_HOST"] = host  # the workers read their settings from here
    if port is not None:
        os.environ["SLOTGUARD_PORT"] = str(port)
    settings = _settings()
    problem = settings.serving_problem()
    if problem is not None:
        raise SettingsError(problem)
    if workers > 1 and settings.database_url.startswith("sqlite"):
        raise CliError("--workers > 1 needs PostgreSQL; SQLite serves one process")
    spec = tenants.load(settings.config)
    asyncio.run(_apply_tenants(settings, spec))
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        # Workers are spawned after this, so they all write their metrics to this folder.
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="slotguard-metrics-")
    log.info(
        "serving",
        host=settings.host,
        port=settings.port,
        workers=workers,
        tenants=str(settings.config or "built-in demo tenant"),
    )
    uvicorn.run(
        "slotguard.api.app:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level,
        log_config=None,  # uvicorn's lines go through our JSON logging (configure_logging)
        access_log=False,  # RequestContext writes one line per request, with its request id
        http=NoDelayHttpToolsProtocol,
        loop="auto",  # uvloop where installed (not on Windows)
        # A worker imports the whole app before it can answer the supervisor's health ping;
        # on a busy machine that takes longer than uvicorn's 5 s, and the worker is killed.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


@app.command()
def reconcile(
    grace: Annotated[
        float, typer.Option(help="settle pending rows untouched for this many seconds")
    ] = 120.0,
) -> None:
    """Run one reconciler round now: settle stale pending appointments, re-apply events."""
    settings = _settings()

    async def _run() -> reconcile_use_case.Report:
        async with open_context(settings) as ctx:
            return await reconcile_use_case.run_once(ctx, grace=timedelta(seconds=grace))

    report = asyncio.run(_run())
    for line in report.details:
        typer.echo(line)
    typer.echo(
        f"settled {report.booked} booked, {report.failed} failed; "
        f"{report.unreachable} calendar unreachable; {report.events_applied} events re-applied"
    )


@app.command()
def emulator(
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8787,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    webhook_url: Annotated[
        str | None, typer.Option(help="deliver signed webhooks here, e.g. …/calcom/webhook/SLUG")
    ] = None,
    webhook_secret: Annotated[str | None, typer.Option(help="secret that signs them")] = None,
) -> None:
    """Serve a local Cal.com API v2 emulator (event types 1001/1002/1003, key cal_test_emulator).

    Like Cal.com it allows the key 120 requests per 60 s and answers 429 beyond that.
    """
    from slotguard.testing import EmulatorConfig, WebhookSubscription, run_emulator

    hooks = () if webhook_url is None else (WebhookSubscription(webhook_url, webhook_secret),)
    typer.echo(f"Cal.com emulator on http://{host}:{port} (API key cal_test_emulator)", err=True)
    run_emulator(host, port, EmulatorConfig(webhooks=hooks))


@app.command()
def seed(
    companies: Annotated[int, typer.Option(min=1, help="companies (mixed time zones)")] = 50,
    customers: Annotated[int, typer.Option(min=1, help="customers, spread over them")] = 100_000,
    appointments: Annotated[
        int, typer.Option(min=0, help="appointments within ±180 days of --now")
    ] = 1_000_000,
    seed: Annotated[int, typer.Option(help="random seed: same seed, same rows")] = 1,
    now: Annotated[
        str | None, typer.Option(help="reference instant (ISO 8601); default: today 00:00 UTC")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="database to fill; default: SLOTGUARD_DATABASE_URL")
    ] = None,
    append: Annotated[
        bool, typer.Option(help="add to a database that already has appointments")
    ] = False,
) -> None:
    """Fill the database fast with realistic, deterministic data for benchmarks (COPY)."""
    settings = _settings()
    try:
        plan = SeedPlan(companies, customers, appointments, seed, _instant(now))
    except ValueError as problem:
        raise CliError(str(problem)) from None

    target = (
        settings.model_copy(update={"database_url": database_url}) if database_url else settings
    )

    async def _run() -> SeedReport:
        async with open_context(target) as ctx:
            return await fill(ctx.engine, plan, append=append, progress=_stderr)

    try:
        report = asyncio.run(_run())
    except DatabaseNotEmpty as problem:
        raise CliError(str(problem)) from None
    typer.echo(
        f"seeded {report.companies} companies, {report.services} services, "
        f"{report.customers} customers, {report.appointments} appointments, "
        f"{report.decisions} decisions in {report.seconds:.1f} s "
        f"({report.appointments_per_second:,.0f} appointments/s)"
    )


def _stderr(line: str) -> None:
    typer.echo(line, err=True)


def _instant(value: str | None) -> datetime:
    if value is None:
        return start_of_today()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"--now {value!r} is not an ISO 8601 instant") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@app.command("retell-tools")
def retell_tools(
    base_url: Annotated[str, typer.Option(help="public URL of this slotguard, e.g. https://…")],
    language: Annotated[str, typer.Option(help="language of the descriptions: de or en")] = "de",
) -> None:
    """Print the Retell custom-tool definitions (JSON) for every function."""
    if language not in ("de", "en"):
        raise CliError("--language must be de or en")
    parsed = urlsplit(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise CliError(
            f"--base-url {base_url!r} needs a scheme and a host, e.g. https://slotguard.example.com"
        )
    typer.echo(json.dumps(tool_definitions(base_url, language), indent=2, ensure_ascii=False))


@calcom_app.command("sync")
def calcom_sync(
    company: Annotated[str, typer.Option(help="company slug from the tenants file")],
    since: Annotated[
        str | None, typer.Option(help="first day (YYYY-MM-DD); default: 30 days ago")
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="how many days from --since")] = 400,
) -> None:
    """Backfill and reconcile COMPANY's Cal.com bookings; idempotent, with progress."""
    settings = _settings()
    start = _since(since)
    asyncio.run(_sync(settings, company, start, start + timedelta(days=days)))


async def _sync(settings: Settings, slug: str, start: datetime, end: datetime) -> None:
    async with open_context(settings) as ctx:
        async with ctx.sessions() as session:
            target = await CompanyRepository(session).by_slug(slug)
        if target is None:
            raise CliError(f"unknown company {slug!r}")
        seen = 0

        def progress(outcome: str) -> None:
            nonlocal seen
            seen += 1
            if seen % 50 == 0:
                typer.echo(f"… {seen} bookings", err=True)

        try:
            outcomes = await sync_company(ctx, target, start, end, progress)
        except (NotACalcomCompany, CalendarUnreachable) as problem:
            raise CliError(str(problem)) from None
    summary = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "no bookings"
    typer.echo(f"{slug}: {sum(outcomes.values())} bookings: {summary}")


@calcom_app.command("event-types")
def calcom_event_types(
    company: Annotated[str, typer.Option(help="company slug (its Cal.com API key is used)")],
) -> None:
    """List the Cal.com event types (id, length, slug, title) and what each books here.

    The last column names the service (and person) the tenants file maps to the event type,
    or "unused": fill calcom_event_type_id (and staff calcom_event_type_ids) from it.
    """
    settings = _settings()

    async def _run() -> list[tuple[int, int | None, str, str, str]]:
        async with open_context(settings) as ctx:
            async with ctx.sessions() as session:
                target = await CompanyRepository(session).by_slug(company)
            if target is None:
                raise CliError(f"unknown company {company!r}")
            calendar = calcom_of(ctx.calendar(target))
            if calendar is None:
                raise CliError(f"company {company!r} does not use Cal.com")
            types = await calendar.event_types()
            async with ctx.sessions() as session:
                services = await CompanyRepository(session).services(target.id)
            uses = event_type_uses(target, services)
            return [
                (t.id, t.length_in_minutes, t.slug, t.title, "; ".join(uses.get(t.id, ["unused"])))
                for t in types
            ]

    try:
        rows = asyncio.run(_run())
    except CalendarUnreachable as problem:
        raise CliError(f"Cal.com unreachable: {problem}") from None
    for event_id, length, slug, title, used in rows:
        typer.echo(f"{event_id}\t{length or '?'} min\t{slug}\t{title}\t→ {used}")


@customers_app.command("forget")
def customers_forget(
    phone: Annotated[str, typer.Option(help="the caller's number, e.g. +4915112345678")],
    company: Annotated[
        str | None, typer.Option(help="only this company (slug); default: every company")
    ] = None,
) -> None:
    """Erase a caller's name, phone and email (GDPR); appointments and decisions stay."""
    settings = _settings()

    async def _run() -> Erasure:
        async with open_context(settings) as ctx:
            return await forget_customer(ctx.sessions, phone, company, ctx.clock())

    try:
        erasure = asyncio.run(_run())
    except ForgetError as problem:
        raise CliError(str(problem)) from None
    for line in erasure.lines():
        typer.echo(line)


@owners_app.command("token")
def owners_token(
    company: Annotated[str, typer.Option(help="company slug from the tenants file")],
) -> None:
    """Create COMPANY's owner login token (replacing any earlier one) and print it once.

    The owner signs in at /dashboard with it and sees only their company; only its sha256
    is stored, so a lost token is replaced, not recovered. Replacing signs the owner out.
    """
    settings = _settings()
    token = new_token()

    async def _run() -> bool:
        async with open_context(settings) as ctx, ctx.sessions() as session, session.begin():
            return await set_owner_token(session, company, token)

    if not asyncio.run(_run()):
        raise CliError(f"unknown company {company!r}")
    typer.echo(token)


def _since(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC) - timedelta(days=30)
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise CliError(f"--since {value!r} is not a date like 2026-01-31") from None


def main() -> None:
    """Entry point: expected errors become one line on stderr and exit status 2."""
    try:
        app(standalone_mode=True)
    except (SettingsError, tenants.TenantsFileError, DatabaseUrlError, CliError) as error:
        print(f"slotguard: error: {error}", file=sys.stderr)
        sys.exit(2)
    except (OSError, OperationalError, InterfaceError) as error:
        print(f"slotguard: error: cannot reach the database: {_first_line(error)}", file=sys.stderr)
        sys.exit(2)


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else 'no detail'}"
