from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.ids import new_id
from vozagent.core.pagination import Page
from vozagent.core.phone import to_e164
from vozagent.domain.assistants.service import AssistantService
from vozagent.domain.calls.errors import (
    AssistantChoiceConflict,
    AssistantChoiceMissing,
    AssistantNameAmbiguous,
    AssistantNameNotFound,
    AssistantUnavailable,
    CallNotFound,
    NoCallerId,
    SubscriptionInactive,
)
from vozagent.domain.calls.schemas import CallRead, OutboundCallCreate
from vozagent.domain.contacts.service import CallContactDetails, ContactService
from vozagent.domain.events.service import EventService
from vozagent.storage.models import Assistant, Call, Contact, Organization, PhoneNumber
from vozagent.storage.repositories.calls import CallRepository


@dataclass(frozen=True, slots=True)
class OutboundCallResult:
    call: Call
    contact: Contact
    is_new_contact: bool
    assistant: Assistant


class CallService:
    def __init__(
        self,
        session: AsyncSession,
        org_id: str,
        *,
        contacts: ContactService,
        assistants: AssistantService,
        default_region: str,
        events: EventService,
    ) -> None:
        self.repository = CallRepository(session, org_id)
        self.events = events
        self.org_id = org_id
        self.contacts = contacts
        self.assistants = assistants
        self.default_region = default_region

    async def list(
        self,
        page: Page,
        *,
        status: str | None = None,
        contact_id: str | None = None,
        assistant_id: str | None = None,
        call_type: str | None = None,
    ) -> Sequence[Call]:
        return await self.repository.filter(
            page,
            status=status,
            contact_id=contact_id,
            assistant_id=assistant_id,
            call_type=call_type,
        )

    async def get(self, call_id: str) -> Call:
        call = await self.repository.get(call_id)
        if call is None:
            raise CallNotFound(call_id)
        return call

    async def create_outbound(
        self, organization: Organization, data: OutboundCallCreate
    ) -> OutboundCallResult:
        """Record a queued outbound call; the dialer claims the row and places it."""
        if organization.subscription_status != "active":
            raise SubscriptionInactive()
        phone = to_e164(data.phone_number, default_region=self.default_region)
        assistant = await self._resolve_assistant(data)
        number = await self._caller_id(assistant)
        contact, is_new = await self.contacts.find_or_create_for_call(
            CallContactDetails(
                phone_number=phone,
                first_name=data.first_name,
                last_name=data.last_name,
                source=data.source,
                tags=tuple(data.tag_list()),
            )
        )
        call = Call(
            id=new_id("call"),
            org_id=self.org_id,
            contact_id=contact.id,
            assistant_id=assistant.id,
            assistant_name=assistant.name,
            phone_number_id=number.id,
            call_type="outbound",
            call_status="queued",
            customer_phone_number=phone,
            assistant_phone_number=number.caller_id_override or number.phone_number,
            notes=data.notes,
            source=data.source,
            appointment_booked=False,
            dial_after=func.clock_timestamp(),
        )
        call = await self.repository.add(call)
        await self.events.publish(
            "call.queued", CallRead.model_validate(call).model_dump(mode="json")
        )
        return OutboundCallResult(call, contact, is_new, assistant)

    async def _resolve_assistant(self, data: OutboundCallCreate) -> Assistant:
        if data.assistant_id:
            assistant = await self.assistants.get(data.assistant_id, field="assistant_id")
            if data.assistant_name and data.assistant_name.lower() != assistant.name.lower():
                raise AssistantChoiceConflict()
        elif data.assistant_name:
            matches = await self.assistants.find_by_name(data.assistant_name)
            if not matches:
                raise AssistantNameNotFound(data.assistant_name)
            if len(matches) > 1:
                raise AssistantNameAmbiguous(data.assistant_name, [a.id for a in matches])
            assistant = matches[0]
        else:
            raise AssistantChoiceMissing()
        if not assistant.is_active:
            raise AssistantUnavailable(
                "assistant_inactive",
                "This assistant is not active",
                {"assistant_id": assistant.id},
            )
        if assistant.assistant_type == "inbound":
            raise AssistantUnavailable(
                "assistant_wrong_type",
                "Inbound assistants cannot place outbound calls; use an outbound or custom one",
                {"assistant_id": assistant.id, "assistant_type": assistant.assistant_type},
            )
        return assistant

    async def _caller_id(self, assistant: Assistant) -> PhoneNumber:
        """The number in the assistant's outbound slot, else one it answers on."""
        numbers = [
            n
            for n in await self.assistants.numbers.linked_numbers([assistant.id])
            if n.status == "active"
        ]
        for slot in ("outbound_assistant_id", "assistant_id"):
            for number in numbers:
                if getattr(number, slot) == assistant.id:
                    return number
        raise NoCallerId(assistant.id)
