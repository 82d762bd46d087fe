from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.errors import InvalidRequest
from vozagent.core.ids import new_id
from vozagent.core.pagination import Page
from vozagent.core.phone import to_e164
from vozagent.domain.contacts.errors import ContactExists, ContactNotFound
from vozagent.domain.contacts.schemas import ContactCreate, ContactRead, ContactUpdate
from vozagent.domain.events.service import EventService
from vozagent.storage.models import Contact
from vozagent.storage.repositories.contacts import ContactRepository


@dataclass(frozen=True, slots=True)
class CallContactDetails:
    """What an outbound-call request says about the person being called."""

    phone_number: str
    first_name: str | None = None
    last_name: str | None = None
    source: str | None = None
    tags: tuple[str, ...] = ()


class ContactService:
    def __init__(
        self, session: AsyncSession, org_id: str, *, default_region: str, events: EventService
    ) -> None:
        self.repository = ContactRepository(session, org_id)
        self.session = session
        self.org_id = org_id
        self.default_region = default_region
        self.events = events

    async def list(
        self, page: Page, *, search: str | None = None, tags: list[str] | None = None
    ) -> Sequence[Contact]:
        return await self.repository.search(page, search=search, tags=tags)

    async def get(self, contact_id: str) -> Contact:
        contact = await self.repository.get(contact_id)
        if contact is None:
            raise ContactNotFound(contact_id)
        return contact

    async def create(self, data: ContactCreate) -> Contact:
        phone = to_e164(data.phone_number, default_region=self.default_region)
        fields = data.model_dump(exclude={"phone_number"})
        fields["tags"] = _unique(fields["tags"])
        contact = Contact(id=new_id("contact"), org_id=self.org_id, phone_number=phone, **fields)
        return await self._insert(contact)

    async def update(self, contact_id: str, data: ContactUpdate) -> Contact:
        contact = await self.repository.get(contact_id, for_update=True)
        if contact is None:
            raise ContactNotFound(contact_id)
        changes = data.provided()
        if not changes:
            return contact
        if "phone_number" in changes:
            if changes["phone_number"] is None:
                raise InvalidRequest(
                    "'phone_number' cannot be cleared", details={"invalid_fields": ["phone_number"]}
                )
            changes["phone_number"] = to_e164(
                changes["phone_number"], default_region=self.default_region
            )
            await self._ensure_phone_free(changes["phone_number"], contact.id)
        if "tags" in changes:
            changes["tags"] = _unique(changes["tags"] or [])
        for name, value in changes.items():
            setattr(contact, name, value)
        await self.repository.touch(contact)
        await self._announce("contact.updated", contact)
        return contact

    async def delete(self, contact_id: str) -> Contact:
        contact = await self.get(contact_id)
        await self.repository.delete(contact_id)
        await self._announce("contact.deleted", contact)
        return contact

    async def find_or_create_for_call(self, details: CallContactDetails) -> tuple[Contact, bool]:
        """Upsert on the normalised number; returns the contact and whether it is new.

        Merge rule: blanks are filled, existing names are kept, tags are unioned.
        """
        existing = await self.repository.get_by_phone(details.phone_number, for_update=True)
        if existing is None:
            contact = Contact(
                id=new_id("contact"),
                org_id=self.org_id,
                phone_number=details.phone_number,
                first_name=details.first_name,
                last_name=details.last_name,
                source=details.source,
                tags=_unique(list(details.tags)),
            )
            try:
                return await self._insert(contact), True
            except ContactExists:  # a concurrent request created it first
                existing = await self.repository.get_by_phone(details.phone_number, for_update=True)
                assert existing is not None
        changed = _merge_call_details(existing, details)
        if changed:
            await self.repository.touch(existing)
            await self._announce("contact.updated", existing)
        return existing, False

    async def _insert(self, contact: Contact) -> Contact:
        await self._ensure_phone_free(contact.phone_number, None)
        try:
            async with self.session.begin_nested():
                contact = await self.repository.add(contact)
        except IntegrityError:
            existing = await self.repository.get_by_phone(contact.phone_number)
            raise ContactExists(contact.phone_number, existing.id if existing else "") from None
        await self._announce("contact.created", contact)
        return contact

    async def _announce(self, event_type: str, contact: Contact) -> None:
        await self.events.publish(
            event_type, ContactRead.model_validate(contact).model_dump(mode="json")
        )

    async def _ensure_phone_free(self, phone_number: str, own_id: str | None) -> None:
        existing = await self.repository.get_by_phone(phone_number)
        if existing is not None and existing.id != own_id:
            raise ContactExists(phone_number, existing.id)


def _merge_call_details(contact: Contact, details: CallContactDetails) -> bool:
    changed = False
    for name in ("first_name", "last_name", "source"):
        value = getattr(details, name)
        if value and not getattr(contact, name):
            setattr(contact, name, value)
            changed = True
    merged = _unique([*contact.tags, *details.tags])
    if merged != list(contact.tags):
        contact.tags = merged
        changed = True
    return changed


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
