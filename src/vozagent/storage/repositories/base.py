"""Tenant-scoped repository base: every statement starts from ``org_id = :org``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.pagination import Page
from vozagent.storage.base import Base

M = TypeVar("M", bound=Base)


def storable(*values: str | None) -> bool:
    """PostgreSQL text cannot hold U+0000, so a lookup value containing it matches no
    row; callers answer "not found" / "no results" instead of sending it (a driver error)."""
    return not any(value is not None and "\x00" in value for value in values)


class OrgScopedRepository(Generic[M]):
    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession, org_id: str) -> None:
        self.session = session
        self.org_id = org_id

    def scoped(self) -> Select[M]:
        return select(self.model).where(self.model.org_id == self.org_id)

    async def get(self, entity_id: str, *, for_update: bool = False) -> M | None:
        if not storable(entity_id):
            return None
        statement = self.scoped().where(self.model.id == entity_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def list(self, statement: Select[M], page: Page) -> Sequence[M]:
        """Newest first, ties broken by id so pages never overlap or skip."""
        if page.limit == 0:
            return []
        ordered = statement.order_by(self.model.created_at.desc(), self.model.id.desc())
        result = await self.session.execute(ordered.limit(page.limit).offset(page.offset))
        return result.scalars().all()

    async def add(self, entity: M) -> M:
        self.session.add(entity)
        await self.session.flush()
        await self.session.refresh(entity)
        return entity

    async def delete(self, entity_id: str) -> bool:
        if not storable(entity_id):
            return False
        statement = delete(self.model).where(
            self.model.org_id == self.org_id, self.model.id == entity_id
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def count(self) -> int:
        statement = (
            select(func.count()).select_from(self.model).where(self.model.org_id == self.org_id)
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def touch(self, entity: M) -> None:
        """Flush pending changes and bump ``updated_at`` from the database clock."""
        entity.updated_at = func.clock_timestamp()  # type: ignore[attr-defined]
        await self.session.flush()
        await self.session.refresh(entity)
