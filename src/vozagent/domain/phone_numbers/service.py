from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.ids import new_id
from vozagent.core.pagination import Page
from vozagent.core.phone import to_e164
from vozagent.domain.assistants.errors import AssistantNotFound
from vozagent.domain.phone_numbers.errors import PhoneNumberInUse, PhoneNumberNotFound
from vozagent.domain.phone_numbers.schemas import PhoneNumberCreate, PhoneNumberUpdate
from vozagent.domain.telephony_credentials.errors import (
    CredentialsProviderMismatch,
    TelephonyCredentialNotFound,
)
from vozagent.storage.models import PhoneNumber
from vozagent.storage.repositories.assistants import AssistantRepository
from vozagent.storage.repositories.organizations import OrganizationRepository
from vozagent.storage.repositories.phone_numbers import PhoneNumberRepository
from vozagent.storage.repositories.telephony_credentials import TelephonyCredentialRepository

_PHONE_FIELDS = ("fallback_number", "caller_id_override")
_ASSISTANT_SLOTS = ("assistant_id", "outbound_assistant_id")


class PhoneNumberService:
    def __init__(self, session: AsyncSession, org_id: str, *, default_region: str) -> None:
        self.session = session
        self.org_id = org_id
        self.default_region = default_region
        self.repository = PhoneNumberRepository(session, org_id)
        # Slot targets are only checked for existence in this organization.
        self._assistants = AssistantRepository(session, org_id)
        self._credentials = TelephonyCredentialRepository(session, org_id)

    async def list(
        self, page: Page, *, status: str | None = None, provider: str | None = None
    ) -> Sequence[PhoneNumber]:
        return await self.repository.filter(page, status=status, provider=provider)

    async def get(self, phone_number_id: str, *, field: str | None = None) -> PhoneNumber:
        number = await self.repository.get(phone_number_id)
        if number is None:
            raise PhoneNumberNotFound(phone_number_id, field=field)
        return number

    async def create(self, data: PhoneNumberCreate) -> PhoneNumber:
        fields = await self._clean(data.model_dump())
        await self._check_credentials(fields.get("credentials_id"), data.provider)
        phone = to_e164(data.phone_number, default_region=self.default_region)
        if await self.repository.number_taken(phone):
            raise PhoneNumberInUse(phone)
        fields.pop("phone_number")
        number = PhoneNumber(
            id=new_id("phone_number"),
            org_id=self.org_id,
            phone_number=phone,
            monthly_cost_cents=0,
            **fields,
        )
        try:
            async with self.session.begin_nested():
                return await self.repository.add(number)
        except IntegrityError:
            raise PhoneNumberInUse(phone) from None

    async def update(self, phone_number_id: str, data: PhoneNumberUpdate) -> PhoneNumber:
        number = await self.repository.get(phone_number_id, for_update=True)
        if number is None:
            raise PhoneNumberNotFound(phone_number_id)
        changes = await self._clean(data.provided())
        await self._check_credentials(changes.get("credentials_id"), number.provider)
        for name in ("status", "sms_enabled"):
            if name in changes and changes[name] is None:
                changes.pop(name)  # not nullable: null means "leave as is"
        if changes:
            for name, value in changes.items():
                setattr(number, name, value)
            await self.repository.touch(number)
        return number

    async def delete(self, phone_number_id: str) -> PhoneNumber:
        number = await self.get(phone_number_id)
        await self.repository.delete(phone_number_id)
        # The setting has no foreign key (migration 0003): never leave it on a deleted number.
        await OrganizationRepository(self.session).forget_default_number(
            self.org_id, phone_number_id
        )
        return number

    async def assign(self, phone_number_id: str, assistant_id: str, slot: str) -> None:
        """Put an assistant in a number's inbound or outbound slot."""
        number = await self.repository.get(phone_number_id, for_update=True)
        if number is None:
            raise PhoneNumberNotFound(phone_number_id, field="phone_number_id")
        setattr(number, slot, assistant_id)
        await self.repository.touch(number)

    async def release(self, assistant_id: str) -> None:
        for number in await self.repository.linked_to([assistant_id]):
            for slot in _ASSISTANT_SLOTS:
                if getattr(number, slot) == assistant_id:
                    setattr(number, slot, None)
            await self.repository.touch(number)

    async def linked_numbers(self, assistant_ids: Sequence[str]) -> Sequence[PhoneNumber]:
        return await self.repository.linked_to(assistant_ids)

    async def _check_credentials(self, credentials_id: str | None, provider: str) -> None:
        """Credentials must be this organization's, for the number's own provider."""
        if not credentials_id:
            return
        credentials = await self._credentials.get(credentials_id)
        if credentials is None:
            raise TelephonyCredentialNotFound(credentials_id, field="credentials_id")
        if credentials.provider != provider:
            raise CredentialsProviderMismatch(credentials.provider, provider)

    async def _clean(self, fields: dict[str, Any]) -> dict[str, Any]:
        for name in _PHONE_FIELDS:
            if fields.get(name):
                fields[name] = to_e164(fields[name], default_region=self.default_region, field=name)
        for slot in _ASSISTANT_SLOTS:
            if fields.get(slot) and await self._assistants.get(fields[slot]) is None:
                raise AssistantNotFound(fields[slot], field=slot)
        return fields
