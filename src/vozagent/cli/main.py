"""The ``vozagent`` command line."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from vozagent.cli import admin
from vozagent.cli.database import build_settings, database_url_for
from vozagent.cli.serve import serve
from vozagent.cli.worker import worker
from vozagent.storage.migrate import upgrade

app = typer.Typer(help="vozagent: the self-hosted VozAgent v1 API", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance", no_args_is_help=True)
keys_app = typer.Typer(help="API keys", no_args_is_help=True)
orgs_app = typer.Typer(help="Organizations", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(orgs_app, name="orgs")
app.command()(serve)
app.command()(worker)

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", envvar="VOZAGENT_DATA_DIR", help="Embedded data dir")
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="VOZAGENT_DATABASE_URL", help="External PostgreSQL"),
]


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Apply database migrations (``serve`` does this by itself)."""
    settings = build_settings(data_dir, database_url)
    with database_url_for(settings) as url:
        asyncio.run(upgrade(url))
    typer.echo("database is up to date")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="A name to recognise the key by")],
    org: Annotated[
        str | None, typer.Option("--org", help="Organization id (default: first)")
    ] = None,
    scopes: Annotated[
        str | None, typer.Option("--scopes", help="e.g. calls:read,calls:write")
    ] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key; the key is printed once, alone on the last line."""
    settings = build_settings(data_dir, database_url)
    with database_url_for(settings) as url:
        result = asyncio.run(admin.create_key(settings, url, name, org, scopes, description))
    typer.echo(
        f"Created key {result.key_id} for organization {result.org_id} "
        f"with scopes {','.join(result.scopes)}. Store it now: it is not shown again."
    )
    typer.echo(result.plaintext)


@keys_app.command("list")
def keys_list(
    org: Annotated[str | None, typer.Option("--org")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List an organization's keys (masked)."""
    settings = build_settings(data_dir, database_url)
    with database_url_for(settings) as url:
        for line in asyncio.run(admin.list_keys(settings, url, org)):
            typer.echo(line)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (key-…)")],
    org: Annotated[str | None, typer.Option("--org")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key at once."""
    settings = build_settings(data_dir, database_url)
    with database_url_for(settings) as url:
        asyncio.run(admin.revoke_key(settings, url, key_id, org))
    typer.echo(f"revoked {key_id}")


@orgs_app.command("create")
def orgs_create(
    name: Annotated[str, typer.Option("--name")],
    plan: Annotated[
        str, typer.Option("--plan", help="essential|growth|advanced|enterprise")
    ] = "essential",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an organization; its id is printed alone on the last line."""
    settings = build_settings(data_dir, database_url)
    with database_url_for(settings) as url:
        org_id = asyncio.run(admin.create_org(url, name, plan))
    typer.echo(org_id)
