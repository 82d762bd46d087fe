"""``vozagent worker``: the background workers without the API, for scale-out."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from vozagent.cli.database import build_settings, database_url_for
from vozagent.config import Settings
from vozagent.core.clock import SystemClock
from vozagent.core.logging import configure as configure_logging
from vozagent.core.secrets_box import SecretBox
from vozagent.server import load_master_key
from vozagent.storage.db import Database
from vozagent.storage.migrate import upgrade
from vozagent.workers.runner import running_workers


def worker(
    data_dir: Annotated[Path | None, typer.Option("--data-dir", envvar="VOZAGENT_DATA_DIR")] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", envvar="VOZAGENT_DATABASE_URL")
    ] = None,
) -> None:
    """Run the webhook delivery worker until SIGINT/SIGTERM (no API)."""
    settings = build_settings(data_dir, database_url)
    configure_logging(settings.log_level)
    warn_if_private_targets_allowed(settings)
    with database_url_for(settings) as url:
        asyncio.run(_run(settings, url))


async def _run(settings: Settings, url: str) -> None:
    await upgrade(url)
    database = Database(url, pool_size=4, max_overflow=4)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    typer.echo("vozagent worker started; stop it with Ctrl-C", err=True)
    try:
        box = SecretBox(load_master_key(settings))
        async with running_workers(settings, database, box, SystemClock()):
            await stopping.wait()
    finally:
        await database.dispose()
    typer.echo("vozagent worker stopped", err=True)


def warn_if_private_targets_allowed(settings: Settings) -> None:
    if settings.webhooks_allow_private:
        typer.echo(
            "WARNING: VOZAGENT_WEBHOOKS_ALLOW_PRIVATE is on: webhooks may target loopback and "
            "private addresses (local development only; never in production).",
            err=True,
        )
