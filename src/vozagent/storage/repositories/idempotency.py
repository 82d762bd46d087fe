"""Idempotency records: insert-first so that concurrent duplicates serialise on the key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.storage.models import IdempotencyKey


class IdempotencyRepository:
    def __init__(self, session: AsyncSession, org_id: str) -> None:
        self.session = session
        self.org_id = org_id

    async def claim(self, key: str, fingerprint: str) -> bool:
        """Insert a pending record; ``False`` when the key already exists.

        A concurrent transaction holding the same key makes this wait until it
        commits (then ``False``) or rolls back (then ``True``): PostgreSQL's unique
        index does the serialisation, so duplicates never both run.
        """
        statement = (
            insert(IdempotencyKey)
            .values(
                org_id=self.org_id,
                key=key,
                fingerprint=fingerprint,
                response_status=0,
                response_body={},
            )
            .on_conflict_do_nothing(index_elements=["org_id", "key"])
            .returning(IdempotencyKey.key)
        )
        return (await self.session.execute(statement)).first() is not None

    async def get(self, key: str) -> IdempotencyKey | None:
        statement = select(IdempotencyKey).where(
            IdempotencyKey.org_id == self.org_id, IdempotencyKey.key == key
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def complete(self, key: str, status: int, body: Any) -> None:
        statement = (
            update(IdempotencyKey)
            .where(IdempotencyKey.org_id == self.org_id, IdempotencyKey.key == key)
            .values(response_status=status, response_body=body)
        )
        await self.session.execute(statement)

    async def forget(self, key: str) -> None:
        statement = delete(IdempotencyKey).where(
            IdempotencyKey.org_id == self.org_id, IdempotencyKey.key == key
        )
        await self.session.execute(statement)

    @staticmethod
    async def purge_older_than(session: AsyncSession, cutoff: datetime) -> int:
        result = await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0))
