"""Organizations and API keys: lookups that find the tenant, so not tenant-scoped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.storage.models import ApiKey, Organization

# last_used_at is written at most once a minute per key (no write per request).
LAST_USED_RESOLUTION = timedelta(seconds=60)


class OrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, organization: Organization) -> Organization:
        self.session.add(organization)
        await self.session.flush()
        await self.session.refresh(organization)
        return organization

    async def get(self, org_id: str) -> Organization | None:
        return await self.session.get(Organization, org_id)

    async def get_for_update(self, org_id: str) -> Organization | None:
        return await self.session.get(
            Organization, org_id, with_for_update=True, populate_existing=True
        )

    async def forget_default_number(self, org_id: str, phone_number_id: str) -> None:
        """Unset the organization's default caller id if it is this (deleted) number."""
        statement = (
            update(Organization)
            .where(
                Organization.id == org_id,
                Organization.default_outbound_number_id == phone_number_id,
            )
            .values(default_outbound_number_id=None)
        )
        await self.session.execute(statement)

    async def first(self) -> Organization | None:
        statement = select(Organization).order_by(Organization.created_at, Organization.id)
        return (await self.session.execute(statement.limit(1))).scalar_one_or_none()


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def by_public_id(self, public_id: str) -> tuple[ApiKey, Organization] | None:
        statement = (
            select(ApiKey, Organization)
            .join(Organization, Organization.id == ApiKey.org_id)
            .where(ApiKey.public_id == public_id)
        )
        row = (await self.session.execute(statement)).first()
        return (row[0], row[1]) if row else None

    async def mark_used(self, key_id: str, now: datetime) -> None:
        statement = (
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                or_(
                    ApiKey.last_used_at.is_(None),
                    ApiKey.last_used_at < now - LAST_USED_RESOLUTION,
                ),
            )
            .values(last_used_at=now)
        )
        await self.session.execute(statement)

    async def list_for_org(self, org_id: str) -> Sequence[ApiKey]:
        statement = (
            select(ApiKey)
            .where(ApiKey.org_id == org_id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
        )
        return (await self.session.execute(statement)).scalars().all()

    async def revoke(self, org_id: str, key_id: str, now: datetime) -> bool:
        statement = (
            update(ApiKey)
            .where(ApiKey.org_id == org_id, ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))
