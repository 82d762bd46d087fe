from __future__ import annotations

from sqlalchemy import select

from vozagent.storage.models import PhoneNumber, TelephonyCredential
from vozagent.storage.repositories.base import OrgScopedRepository


class TelephonyCredentialRepository(OrgScopedRepository[TelephonyCredential]):
    model = TelephonyCredential

    async def numbers_using(self, credentials_id: str, *, limit: int = 20) -> list[str]:
        """Ids of this organization's phone numbers that reference the credentials."""
        statement = (
            select(PhoneNumber.id)
            .where(PhoneNumber.org_id == self.org_id, PhoneNumber.credentials_id == credentials_id)
            .order_by(PhoneNumber.id)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())
