from __future__ import annotations

from collections.abc import Sequence

from vozagent.core.pagination import Page
from vozagent.storage.models import Call
from vozagent.storage.repositories.base import OrgScopedRepository, storable


class CallRepository(OrgScopedRepository[Call]):
    model = Call

    async def filter(
        self,
        page: Page,
        *,
        status: str | None = None,
        contact_id: str | None = None,
        assistant_id: str | None = None,
        call_type: str | None = None,
    ) -> Sequence[Call]:
        if not storable(contact_id, assistant_id):
            return []
        statement = self.scoped()
        if status is not None:
            statement = statement.where(Call.call_status == status)
        if contact_id is not None:
            statement = statement.where(Call.contact_id == contact_id)
        if assistant_id is not None:
            statement = statement.where(Call.assistant_id == assistant_id)
        if call_type is not None:
            statement = statement.where(Call.call_type == call_type)
        return await self.list(statement, page)
