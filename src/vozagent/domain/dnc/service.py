"""The organization's do-not-call list: numbers outbound calls must never ring."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.errors import InvalidRequest
from vozagent.core.ids import new_id
from vozagent.core.pagination import Page
from vozagent.core.phone import to_e164
from vozagent.domain.dnc.errors import DncEntryExists, DncEntryNotFound, NumberOnDncList
from vozagent.domain.dnc.schemas import DncEntryCreate
from vozagent.storage.models import DncEntry
from vozagent.storage.repositories.dnc import DncRepository


class DncService:
    def __init__(self, session: AsyncSession, org_id: str, *, default_region: str) -> None:
        self.session = session
        self.org_id = org_id
        self.default_region = default_region
        self.repository = DncRepository(session, org_id)

    async def list(self, page: Page, *, phone_number: str | None = None) -> Sequence[DncEntry]:
        if phone_number is not None:
            # Like other list filters, a value that cannot match anything matches nothing.
            try:
                phone_number = to_e164(phone_number, default_region=self.default_region)
            except InvalidRequest:
                return []
        return await self.repository.filter(page, phone_number=phone_number)

    async def get(self, entry_id: str) -> DncEntry:
        entry = await self.repository.get(entry_id)
        if entry is None:
            raise DncEntryNotFound(entry_id)
        return entry

    async def create(self, data: DncEntryCreate) -> DncEntry:
        phone = to_e164(data.phone_number, default_region=self.default_region)
        existing = await self.repository.by_number(phone)
        if existing is not None:
            raise DncEntryExists(phone, existing.id)
        entry = DncEntry(
            id=new_id("dnc_entry"), org_id=self.org_id, phone_number=phone, reason=data.reason
        )
        try:
            async with self.session.begin_nested():
                return await self.repository.add(entry)
        except IntegrityError:
            # A concurrent request added the same number between our check and insert.
            winner = await self.repository.by_number(phone)
            raise DncEntryExists(phone, winner.id if winner else "") from None

    async def delete(self, entry_id: str) -> DncEntry:
        entry = await self.get(entry_id)
        await self.repository.delete(entry_id)
        return entry

    async def refuse_listed(self, e164: str) -> None:
        """Raise ``NumberOnDncList`` if the (normalised) number is on the list."""
        entry = await self.repository.by_number(e164)
        if entry is not None:
            raise NumberOnDncList(e164, entry.id)
