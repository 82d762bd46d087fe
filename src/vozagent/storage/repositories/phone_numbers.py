from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select

from vozagent.core.pagination import Page
from vozagent.storage.models import PhoneNumber
from vozagent.storage.repositories.base import OrgScopedRepository, storable


class PhoneNumberRepository(OrgScopedRepository[PhoneNumber]):
    model = PhoneNumber

    async def filter(
        self, page: Page, *, status: str | None = None, provider: str | None = None
    ) -> Sequence[PhoneNumber]:
        if not storable(provider):
            return []
        statement = self.scoped()
        if status is not None:
            statement = statement.where(PhoneNumber.status == status)
        if provider is not None:
            statement = statement.where(PhoneNumber.provider == provider)
        return await self.list(statement, page)

    async def number_taken(self, phone_number: str) -> bool:
        """Numbers are unique across organizations: each routes inbound calls to one."""
        statement = select(PhoneNumber.id).where(PhoneNumber.phone_number == phone_number)
        return (await self.session.execute(statement)).first() is not None

    async def linked_to(self, assistant_ids: Sequence[str]) -> Sequence[PhoneNumber]:
        if not assistant_ids:
            return []
        statement = self.scoped().where(
            or_(
                PhoneNumber.assistant_id.in_(assistant_ids),
                PhoneNumber.outbound_assistant_id.in_(assistant_ids),
            )
        )
        ordered = statement.order_by(PhoneNumber.created_at, PhoneNumber.id)
        return (await self.session.execute(ordered)).scalars().all()
