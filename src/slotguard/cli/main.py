"""The ``slotguard`` command. Each command builds Settings once and passes them down."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from slotguard import tenants
from slotguard.observability import configure_logging, get_logger
from slotguard.settings import Settings, SettingsError, load_settings
from slotguard.store.companies import ApplyResult, CompanyRepository
from slotguard.store.db import DatabaseUrlError, create_engine, session_factory
from slotguard.store.migrate import upgrade

app = typer.Typer(
    name="slotguard",
    help="Booking backend for AI phone agents: Retell functions, Cal.com, duplicate prevention.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
tenants_app = typer.Typer(help="Manage companies, services and routes from a tenants file.")
app.add_typer(tenants_app, name="tenants")
log = get_logger("cli")


class CliError(Exception):
    """An expected failure: printed as one line, exit status 2."""


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


@app.command()
def migrate() -> None:
    """Upgrade the database (SLOTGUARD_DATABASE_URL) to the newest schema."""
    settings = _settings()

    async def _run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(_run())
    typer.echo("database is at the newest schema")


@tenants_app.command("apply")
def tenants_apply(
    file: Annotated[Path, typer.Argument(help="tenants file (TOML), see README")],
) -> None:
    """Validate FILE and upsert its companies, services and routes; safe to run repeatedly."""
    settings = _settings()
    spec = tenants.load(file)
    result = asyncio.run(_apply_tenants(settings, spec))
    typer.echo(
        f"{file}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    )


async def _apply_tenants(settings: Settings, spec: tenants.TenantsSpec) -> ApplyResult:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await CompanyRepository(session).apply_tenants(spec)
    finally:
        await engine.dispose()


@app.command()
def serve(
    workers: Annotated[
        int, typer.Option(min=1, help="worker processes (use >1 only on PostgreSQL)")
    ] = 1,
) -> None:
    """Apply the tenants file and serve HTTP on SLOTGUARD_HOST:SLOTGUARD_PORT."""
    import uvicorn

    settings = _settings()
    problem = settings.serving_problem()
    if problem is not None:
        raise SettingsError(problem)
    if workers > 1 and settings.database_url.startswith("sqlite"):
        raise CliError("--workers > 1 needs PostgreSQL; SQLite serves one process")
    spec = tenants.load(settings.config)
    asyncio.run(_apply_tenants(settings, spec))
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
        access_log=False,
    )


def main() -> None:
    """Entry point: expected errors become one line on stderr and exit status 2."""
    try:
        app(standalone_mode=True)
    except (SettingsError, tenants.TenantsFileError, DatabaseUrlError, CliError) as error:
        print(f"slotguard: error: {error}", file=sys.stderr)
        sys.exit(2)
