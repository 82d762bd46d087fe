"""Answering a call that arrives on one of our numbers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.clock import Clock
from vozagent.core.errors import InvalidRequest
from vozagent.core.ids import new_id
from vozagent.core.phone import to_e164
from vozagent.domain.calls import states
from vozagent.domain.calls.schemas import CallRead
from vozagent.domain.contacts.service import CallContactDetails, ContactService
from vozagent.domain.events.service import EventService
from vozagent.storage.models import Call
from vozagent.storage.repositories.call_runtime import CallRuntimeRepository


@dataclass(frozen=True, slots=True)
class InboundDecision:
    call_id: str | None
    refusal: str | None = None


async def open_inbound(
    session: AsyncSession,
    clock: Clock,
    *,
    provider: str,
    to: str,
    from_: str,
    reference: str,
    default_region: str,
) -> InboundDecision:
    """Create the inbound call, ringing, for the number's inbound assistant, or refuse."""
    repository = CallRuntimeRepository(session)
    try:
        number = await repository.number_by_e164(to_e164(to, default_region=default_region))
        caller = to_e164(from_, default_region=default_region)
    except InvalidRequest:
        return InboundDecision(None, "unknown-number")
    if number is None or number.provider != provider:
        return InboundDecision(None, "unknown-number")
    if number.status != "active" or number.assistant_id is None:
        return InboundDecision(None, "no-inbound-assistant")
    events = EventService(session, number.org_id, clock=clock)
    contacts = ContactService(session, number.org_id, default_region=default_region, events=events)
    contact, _ = await contacts.find_or_create_for_call(
        CallContactDetails(phone_number=caller, source="inbound-call")
    )
    call = Call(
        id=new_id("call"),
        org_id=number.org_id,
        contact_id=contact.id,
        assistant_id=number.assistant_id,
        phone_number_id=number.id,
        call_type="inbound",
        call_status=states.RINGING,
        customer_phone_number=caller,
        assistant_phone_number=number.phone_number,
        appointment_booked=False,
        carrier=provider,
        provider_call_id=reference,
        ringing_at=clock.now(),
    )
    session.add(call)
    await session.flush()
    await session.refresh(call)
    await events.publish("call.ringing", CallRead.model_validate(call).model_dump(mode="json"))
    return InboundDecision(call.id)
