"""``vozagent serve``: migrations, first-start seed, then the API on uvicorn."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from vozagent.cli.database import build_settings
from vozagent.cli.worker import warn_if_private_targets_allowed
from vozagent.config import Settings
from vozagent.core.logging import configure as configure_logging
from vozagent.domain.organizations.seed import SeedResult, seed_default_organization
from vozagent.server import create_app
from vozagent.storage.db import Database
from vozagent.storage.embedded import DataDirBusy, EmbeddedPostgres, ServeLock
from vozagent.storage.migrate import upgrade


async def prepare_database(url: str, settings: Settings) -> SeedResult | None:
    """Apply migrations and, on a brand-new database, create the default organization."""
    await upgrade(url)
    database = Database(url, pool="null")
    try:
        async with database.transaction() as session:
            return await seed_default_organization(session, region=settings.default_region)
    finally:
        await database.dispose()


def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", envvar="VOZAGENT_DATA_DIR")] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", envvar="VOZAGENT_DATABASE_URL")
    ] = None,
    no_workers: Annotated[
        bool, typer.Option("--no-workers", help="API only; run `vozagent worker` elsewhere")
    ] = False,
) -> None:
    """Start the API server (embedded PostgreSQL unless --database-url is given)."""
    settings = build_settings(data_dir, database_url)
    if no_workers:
        settings = settings.model_copy(update={"workers_enabled": False})
    warn_if_private_targets_allowed(settings)
    lock: ServeLock | None = None
    embedded: EmbeddedPostgres | None = None
    try:
        if settings.database_url:
            url = settings.database_url
        else:
            lock = ServeLock(settings.data_dir)
            lock.acquire()
            embedded = EmbeddedPostgres(settings.data_dir)
            url = embedded.start()
        seeded = asyncio.run(prepare_database(url, settings))
        settings = settings.model_copy(update={"host": host, "port": port})
        app = create_app(settings, url)
        _banner(host, port, settings, seeded)
        _absorb_replayed_signals()
        configure_logging(settings.log_level)
        config = uvicorn.Config(
            app, host=host, port=port, access_log=False, log_config=None, log_level="info"
        )
        uvicorn.Server(config).run()
    except DataDirBusy as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    finally:
        if embedded is not None:
            embedded.stop()
        if lock is not None:
            lock.release()


def _absorb_replayed_signals() -> None:
    """After a graceful shutdown uvicorn re-raises SIGINT/SIGTERM to the handlers that were
    installed before it ran. Default handlers would kill us before the ``finally`` block
    stops the embedded PostgreSQL, so install no-op ones: the shutdown already happened."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _signum, _frame: None)


def _banner(host: str, port: int, settings: Settings, seeded: SeedResult | None) -> None:
    base = f"http://{host}:{port}"
    where = (
        "external PostgreSQL"
        if settings.database_url
        else f"embedded PostgreSQL in {settings.data_dir}"
    )
    typer.echo(f"vozagent is starting on {base} ({where})")
    typer.echo(f"  dashboard: {base}/   API: {base}/v1   OpenAPI: {base}/v1/openapi.json")
    if seeded is not None:
        typer.echo("First start: created the default organization and its API key.")
        typer.echo("Store this key now; it is not shown again:")
        typer.echo(f"  export VOZAGENT_API_KEY={seeded.api_key}")
        typer.echo(f'  curl -H "Authorization: Bearer $VOZAGENT_API_KEY" {base}/v1/assistants')
