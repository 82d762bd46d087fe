from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.clock import Clock, SystemClock
from vozagent.core.errors import InvalidRequest
from vozagent.core.ids import new_id
from vozagent.core.pagination import Page
from vozagent.core.phone import to_e164
from vozagent.domain.assistants.service import AssistantService
from vozagent.domain.calls.calling_hours import NoCallingWindow, next_allowed_time
from vozagent.domain.calls.errors import (
    AssistantChoiceConflict,
    AssistantChoiceMissing,
    AssistantNameAmbiguous,
    AssistantNameNotFound,
    AssistantUnavailable,
    CallNotFound,
    NoCallerId,
    OutsideEveryCallingWindow,
    SubscriptionInactive,
)
from vozagent.domain.calls.schemas import CallRead, OutboundCallCreate
from vozagent.domain.contacts.service import CallContactDetails, ContactService
from vozagent.domain.dnc.errors import NumberOnDncList
from vozagent.domain.events.service import EventService
from vozagent.storage.models import Assistant, Call, Contact, Organization, PhoneNumber
from vozagent.storage.repositories.calls import CallRepository
from vozagent.storage.repositories.dnc import DncRepository
from vozagent.storage.repositories.phone_numbers import PhoneNumberRepository


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
        clock: Clock | None = None,
    ) -> None:
        self.repository = CallRepository(session, org_id)
        self.clock = clock or SystemClock()
        self._dnc = DncRepository(session, org_id)
        self._numbers = PhoneNumberRepository(session, org_id)
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
        await self._refuse_dnc(phone)
        assistant = await self._resolve_assistant(data)
        number = await self._caller_id(assistant, organization)
        if data.sandbox_persona is not None and number.provider != "sandbox":
            raise InvalidRequest(
                "'sandbox_persona' is only for calls from a sandbox number",
                details={"invalid_fields": ["sandbox_persona"], "provider": number.provider},
            )
        dial_after = self._dial_after(phone, organization)
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
            dial_after=dial_after,
            carrier=number.provider,
            sandbox_persona=(
                data.sandbox_persona.model_dump(exclude_none=True)
                if data.sandbox_persona is not None
                else None
            ),
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

    async def _refuse_dnc(self, phone: str) -> None:
        entry = await self._dnc.by_number(phone)
        if entry is not None:
            raise NumberOnDncList(phone, entry.id)

    async def _caller_id(self, assistant: Assistant, organization: Organization) -> PhoneNumber:
        """The number in the assistant's outbound slot, else the organization's default
        outbound number, else one the assistant answers on."""
        numbers = [
            n
            for n in await self.assistants.numbers.linked_numbers([assistant.id])
            if n.status == "active"
        ]
        for number in numbers:
            if number.outbound_assistant_id == assistant.id:
                return number
        default = await self._default_number(organization)
        if default is not None:
            return default
        for number in numbers:
            if number.assistant_id == assistant.id:
                return number
        raise NoCallerId(assistant.id)

    async def _default_number(self, organization: Organization) -> PhoneNumber | None:
        if not organization.default_outbound_number_id:
            return None
        number = await self._numbers.get(organization.default_outbound_number_id)
        return number if number is not None and number.status == "active" else None

    def _dial_after(self, phone: str, organization: Organization) -> Any:
        """The database's own clock when the callee may be rung now (so the row orders
        with its neighbours), else the opening of the callee's calling window."""
        now = self.clock.now()
        try:
            allowed = next_allowed_time(
                now, phone, organization.calling_hours_start, organization.calling_hours_end
            )
        except NoCallingWindow as exc:
            raise OutsideEveryCallingWindow(phone, [z.key for z in exc.zones]) from None
        return func.clock_timestamp() if allowed == now else allowed
