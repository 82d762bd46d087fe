"""Test fixtures: a real PostgreSQL (the embedded server), the app on httpx's ASGI transport.

Isolation comes from tenancy: every test gets fresh organizations, and every query
is scoped to one, so tests never see each other's rows and need no truncation.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.support import ApiClient, OrgFactory, external_database
from vozagent.config import Settings
from vozagent.core.secrets_box import SecretBox
from vozagent.domain.organizations.service import OrganizationService
from vozagent.server import create_app
from vozagent.storage.db import Database
from vozagent.storage.embedded import EmbeddedPostgres
from vozagent.storage.migrate import upgrade

BASE_URL = "http://testserver"


@pytest.fixture(scope="session")
def tmp_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Short path: PostgreSQL's unix socket path must stay under ~100 bytes.
    return Path(tmp_path_factory.mktemp("vz"))


@pytest.fixture(scope="session")
async def database_url(tmp_data_dir: Path) -> AsyncIterator[str]:
    """The embedded PostgreSQL server, migrated once per test session."""
    embedded = EmbeddedPostgres(tmp_data_dir / "data")
    url = embedded.start()
    await upgrade(url)
    yield url
    embedded.stop()


@pytest.fixture(scope="session")
async def external_database_url() -> AsyncIterator[str]:
    """A fresh database on VOZAGENT_TEST_DATABASE_URL's server (CI: the machine's PostgreSQL 15)."""
    server_url = os.environ.get("VOZAGENT_TEST_DATABASE_URL")
    if not server_url:
        pytest.skip("VOZAGENT_TEST_DATABASE_URL is not set")
    async with external_database(server_url) as url:
        await upgrade(url)
        yield url


def make_settings(tmp_data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_data_dir,
        "secret_key": SecretBox.generate_master_key(),
        "rate_limits": {
            p: "100000/second" for p in ("essential", "growth", "advanced", "enterprise")
        },
        "anonymous_rate_limit": "100000/second",
        # Tests that deliver webhooks start their own worker against loopback receivers.
        "workers_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(tmp_data_dir: Path) -> Settings:
    return make_settings(tmp_data_dir)


@pytest.fixture(scope="session")
async def app(settings: Settings, database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(settings, database_url)
    yield application
    await application.state.container.database.dispose()


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=5, max_overflow=5)
    yield database
    await database.dispose()


@pytest.fixture
async def new_org(app: FastAPI, db: Database) -> AsyncIterator[OrgFactory]:
    """Make an organization with one key; returns an ``ApiClient`` authenticated as it."""
    clients: list[ApiClient] = []

    async def factory(*, scopes: list[str] | None = None, plan: str = "essential") -> ApiClient:
        async with db.transaction() as session:
            service = OrganizationService(session)
            org = await service.create_organization(f"org-{secrets.token_hex(4)}", plan)
            created = await service.create_key(org.id, "test key", scopes=scopes)
        client = ApiClient(
            transport=httpx.ASGITransport(app=app),
            base_url=BASE_URL,
            headers={"Authorization": f"Bearer {created.plaintext}"},
            org_id=org.id,
            key=created.plaintext,
            key_id=created.key.id,
        )
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()


@pytest.fixture
async def api(new_org: OrgFactory) -> ApiClient:
    return await new_org()


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c
