from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func

from vozagent.core.pagination import Page
from vozagent.storage.models import Assistant
from vozagent.storage.repositories.base import OrgScopedRepository


class AssistantRepository(OrgScopedRepository[Assistant]):
    model = Assistant

    async def filter(
        self, page: Page, *, is_active: bool | None = None, assistant_type: str | None = None
    ) -> Sequence[Assistant]:
        statement = self.scoped()
        if is_active is not None:
            statement = statement.where(Assistant.is_active == is_active)
        if assistant_type is not None:
            statement = statement.where(Assistant.assistant_type == assistant_type)
        return await self.list(statement, page)

    async def find_by_name(self, name: str) -> Sequence[Assistant]:
        """Case-insensitive exact match; several results mean the name is ambiguous."""
        statement = self.scoped().where(func.lower(Assistant.name) == name.lower()).limit(10)
        return (await self.session.execute(statement)).scalars().all()
