from __future__ import annotations

from collections.abc import Sequence

from vozagent.core.pagination import Page
from vozagent.storage.models import DncEntry
from vozagent.storage.repositories.base import OrgScopedRepository, storable


class DncRepository(OrgScopedRepository[DncEntry]):
    model = DncEntry

    async def filter(self, page: Page, *, phone_number: str | None = None) -> Sequence[DncEntry]:
        statement = self.scoped()
        if phone_number is not None:
            statement = statement.where(DncEntry.phone_number == phone_number)
        return await self.list(statement, page)

    async def by_number(self, phone_number: str) -> DncEntry | None:
        if not storable(phone_number):
            return None
        statement = self.scoped().where(DncEntry.phone_number == phone_number)
        return (await self.session.execute(statement)).scalar_one_or_none()
