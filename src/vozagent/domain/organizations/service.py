"""Organizations, API keys and authentication of a presented key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core import api_keys
from vozagent.core.errors import InvalidRequest, NotFound, Unauthorized
from vozagent.core.ids import new_id
from vozagent.core.scopes import ALL_SCOPES
from vozagent.storage.models import ApiKey, Organization
from vozagent.storage.repositories.organizations import (
    LAST_USED_RESOLUTION,
    ApiKeyRepository,
    OrganizationRepository,
)

PLANS = ("essential", "growth", "advanced", "enterprise")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key, its organization and what it may do."""

    org_id: str
    key_id: str
    scopes: frozenset[str]
    plan: str


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    plaintext: str


class OrganizationService:
    def __init__(self, session: AsyncSession) -> None:
        self.organizations = OrganizationRepository(session)
        self.keys = ApiKeyRepository(session)

    async def create_organization(self, name: str, plan: str = "essential") -> Organization:
        if plan not in PLANS:
            raise InvalidRequest(
                f"Unknown plan '{plan}'",
                details={"invalid_fields": ["plan"], "valid_choices": list(PLANS)},
            )
        return await self.organizations.add(
            Organization(id=new_id("organization"), name=name, plan=plan)
        )

    async def get_organization(self, org_id: str) -> Organization:
        organization = await self.organizations.get(org_id)
        if organization is None:
            raise NotFound("organization", org_id)
        return organization

    async def first_organization(self) -> Organization | None:
        return await self.organizations.first()

    async def create_key(
        self,
        org_id: str,
        name: str,
        *,
        scopes: list[str] | None = None,
        description: str | None = None,
    ) -> CreatedKey:
        await self.get_organization(org_id)
        generated = api_keys.generate()
        key = ApiKey(
            id=new_id("api_key"),
            org_id=org_id,
            name=name,
            description=description,
            public_id=generated.public_id,
            key_hash=generated.key_hash,
            last_four=generated.last_four,
            scopes=list(scopes) if scopes else list(ALL_SCOPES),
        )
        await self.keys.add(key)
        return CreatedKey(key=key, plaintext=generated.plaintext)

    async def authenticate(self, presented: str, now: datetime) -> Principal:
        """Resolve a bearer key; any failure is the same 401 (no hint which part was wrong)."""
        public_id = api_keys.parse_public_id(presented)
        if public_id is None:  # malformed or bad checksum: no database query at all
            raise _invalid_key()
        found = await self.keys.by_public_id(public_id)
        if found is None:
            raise _invalid_key()
        key, organization = found
        if not secrets.compare_digest(key.key_hash, api_keys.hash_key(presented)):
            raise _invalid_key()
        if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
            raise _invalid_key()
        # The repository's UPDATE is guarded too; checking here first saves a round trip on
        # almost every request (last_used_at only moves once a minute).
        if key.last_used_at is None or key.last_used_at < now - LAST_USED_RESOLUTION:
            await self.keys.mark_used(key.id, now)
        return Principal(
            org_id=key.org_id, key_id=key.id, scopes=frozenset(key.scopes), plan=organization.plan
        )

    async def revoke_key(self, org_id: str, key_id: str, now: datetime) -> None:
        if not await self.keys.revoke(org_id, key_id, now):
            raise NotFound("api_key", key_id)

    async def list_keys(self, org_id: str) -> list[ApiKey]:
        return list(await self.keys.list_for_org(org_id))


def _invalid_key() -> Unauthorized:
    return Unauthorized("Invalid API key", details={"scheme": "Bearer"})
