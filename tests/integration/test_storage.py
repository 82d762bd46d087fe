"""The storage layer on the embedded server and, when configured, an external PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from vozagent.core.pagination import Page
from vozagent.domain.organizations.service import OrganizationService
from vozagent.storage.db import Database
from vozagent.storage.migrate import alembic_config, upgrade
from vozagent.storage.models import Contact
from vozagent.storage.repositories.contacts import ContactRepository
from vozagent.storage.repositories.idempotency import IdempotencyRepository

pytestmark = pytest.mark.integration


@pytest.fixture(params=["embedded", "external"])
def storage_url(request: pytest.FixtureRequest) -> str:
    fixture = "database_url" if request.param == "embedded" else "external_database_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
async def database(storage_url: str) -> AsyncIterator[Database]:
    db = Database(storage_url, pool_size=5, max_overflow=5)
    yield db
    await db.dispose()


async def _org(database: Database) -> str:
    async with database.transaction() as session:
        org = await OrganizationService(session).create_organization("storage test")
        return org.id


async def test_migrations_are_at_head_and_rerunnable(database: Database) -> None:
    await upgrade(database.url)  # a second run is a no-op
    async with database.transaction() as session:
        version = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        server = (await session.execute(text("SHOW server_version_num"))).scalar()
    assert version == ScriptDirectory.from_config(alembic_config(database.url)).get_current_head()
    assert int(str(server)) >= 150000


async def test_phone_is_unique_per_org_at_the_database(database: Database) -> None:
    org = await _org(database)
    async with database.transaction() as session:
        session.add(Contact(id="c-1-" + org, org_id=org, phone_number="+15550001111", tags=[]))
    with pytest.raises(IntegrityError):
        async with database.transaction() as session:
            session.add(Contact(id="c-2-" + org, org_id=org, phone_number="+15550001111", tags=[]))
    other = await _org(database)
    async with database.transaction() as session:  # another org may hold the same number
        session.add(Contact(id="c-3-" + other, org_id=other, phone_number="+15550001111", tags=[]))


async def test_repositories_only_see_their_org(database: Database) -> None:
    mine, theirs = await _org(database), await _org(database)
    async with database.transaction() as session:
        session.add(Contact(id="m-" + mine, org_id=mine, phone_number="+15550002222", tags=["a"]))
        session.add(
            Contact(id="t-" + theirs, org_id=theirs, phone_number="+15550002222", tags=["a"])
        )
    async with database.transaction() as session:
        repository = ContactRepository(session, mine)
        assert [c.id for c in await repository.search(Page(), tags=["a"])] == ["m-" + mine]
        assert await repository.get("t-" + theirs) is None
        assert not await repository.delete("t-" + theirs)
    async with database.transaction() as session:
        assert await ContactRepository(session, theirs).get("t-" + theirs) is not None


async def test_idempotency_claim_serialises_concurrent_transactions(database: Database) -> None:
    org = await _org(database)
    order: list[str] = []

    async def first() -> None:
        async with database.transaction() as session:
            assert await IdempotencyRepository(session, org).claim("k", "fp")
            order.append("first claimed")
            await asyncio.sleep(0.3)
            order.append("first commits")

    async def second() -> None:
        await asyncio.sleep(0.05)
        async with database.transaction() as session:
            claimed = await IdempotencyRepository(session, org).claim("k", "fp")
            order.append(f"second claimed={claimed}")

    await asyncio.gather(first(), second())
    assert order == ["first claimed", "first commits", "second claimed=False"]
