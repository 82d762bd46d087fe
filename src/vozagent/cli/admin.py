"""Organization and key administration behind the CLI commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import typer

from vozagent.config import Settings
from vozagent.core.api_keys import mask
from vozagent.core.errors import VozError
from vozagent.core.scopes import parse_scopes
from vozagent.domain.organizations.seed import seed_default_organization
from vozagent.domain.organizations.service import OrganizationService
from vozagent.storage.db import Database
from vozagent.storage.migrate import upgrade


@dataclass(frozen=True, slots=True)
class CreatedKeyOutput:
    key_id: str
    org_id: str
    scopes: list[str]
    plaintext: str


async def _database(url: str) -> Database:
    await upgrade(url)
    return Database(url, pool="null")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


async def _org_id(service: OrganizationService, settings: Settings, org: str | None) -> str:
    if org is not None:
        return org
    first = await service.first_organization()
    if first is not None:
        return first.id
    # A fresh database: create the default organization as `serve` would.
    seeded = await seed_default_organization(
        service.organizations.session, region=settings.default_region
    )
    assert seeded is not None
    return seeded.org_id


async def create_key(
    settings: Settings,
    url: str,
    name: str,
    org: str | None,
    scopes: str | None,
    description: str | None,
) -> CreatedKeyOutput:
    try:
        scope_list = parse_scopes(scopes)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    database = await _database(url)
    try:
        async with database.transaction() as session:
            service = OrganizationService(session)
            org_id = await _org_id(service, settings, org)
            created = await service.create_key(
                org_id, name, scopes=scope_list, description=description
            )
    except VozError as exc:
        raise _fail(exc.message) from None
    finally:
        await database.dispose()
    return CreatedKeyOutput(created.key.id, org_id, scope_list, created.plaintext)


async def list_keys(settings: Settings, url: str, org: str | None) -> list[str]:
    database = await _database(url)
    try:
        async with database.transaction() as session:
            service = OrganizationService(session)
            org_id = await _org_id(service, settings, org)
            keys = await service.list_keys(org_id)
    finally:
        await database.dispose()
    return [
        f"{k.id}\t{k.name}\t{mask(k.last_four)}\t{'revoked' if k.revoked_at else 'active'}"
        f"\t{k.created_at:%Y-%m-%d}\t{','.join(k.scopes)}"
        for k in keys
    ]


async def revoke_key(settings: Settings, url: str, key_id: str, org: str | None) -> None:
    database = await _database(url)
    try:
        async with database.transaction() as session:
            service = OrganizationService(session)
            org_id = await _org_id(service, settings, org)
            await service.revoke_key(org_id, key_id, datetime.now(UTC))
    except VozError as exc:
        raise _fail(exc.message) from None
    finally:
        await database.dispose()


async def create_org(url: str, name: str, plan: str) -> str:
    database = await _database(url)
    try:
        async with database.transaction() as session:
            org = await OrganizationService(session).create_organization(name, plan)
    except VozError as exc:
        raise _fail(exc.message) from None
    finally:
        await database.dispose()
    return org.id
