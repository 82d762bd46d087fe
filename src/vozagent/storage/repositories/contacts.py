from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_

from vozagent.core.pagination import Page
from vozagent.storage.models import Contact
from vozagent.storage.repositories.base import OrgScopedRepository, storable


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ContactRepository(OrgScopedRepository[Contact]):
    model = Contact

    async def search(
        self, page: Page, *, search: str | None = None, tags: list[str] | None = None
    ) -> Sequence[Contact]:
        if not storable(search, *(tags or ())):
            return []
        statement = self.scoped()
        if search:
            pattern = f"%{_escape_like(search)}%"
            full_name = Contact.first_name + " " + Contact.last_name
            statement = statement.where(
                or_(
                    Contact.first_name.ilike(pattern),
                    Contact.last_name.ilike(pattern),
                    full_name.ilike(pattern),
                    Contact.email.ilike(pattern),
                    Contact.phone_number.ilike(pattern),
                    Contact.company.ilike(pattern),
                )
            )
        if tags:
            # Any-of: a contact matches when it carries at least one of the tags.
            statement = statement.where(Contact.tags.overlap(tags))
        return await self.list(statement, page)

    async def get_by_phone(self, phone_number: str, *, for_update: bool = False) -> Contact | None:
        statement = self.scoped().where(Contact.phone_number == phone_number)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()
