"""First start: a default organization with a demo outbound assistant named "Voz".

It makes the spec's curl examples (``"assistant_name": "Voz"``) work right after
``make run``: the assistant calls from a sandbox number that needs no carrier.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.domain.assistants.schemas import AssistantCreate
from vozagent.domain.assistants.service import AssistantService
from vozagent.domain.organizations.service import OrganizationService
from vozagent.domain.phone_numbers.schemas import PhoneNumberCreate
from vozagent.domain.phone_numbers.service import PhoneNumberService

SANDBOX_NUMBER = "+15550100000"


@dataclass(frozen=True, slots=True)
class SeedResult:
    org_id: str
    api_key: str


async def seed_default_organization(session: AsyncSession, *, region: str) -> SeedResult | None:
    """Create the default organization once; ``None`` when one already exists."""
    organizations = OrganizationService(session)
    if await organizations.first_organization() is not None:
        return None
    org = await organizations.create_organization("Default organization")
    numbers = PhoneNumberService(session, org.id, default_region=region)
    assistants = AssistantService(session, org.id, numbers=numbers)
    number = await numbers.create(
        PhoneNumberCreate(phone_number=SANDBOX_NUMBER, label="Sandbox line", provider="sandbox")
    )
    await assistants.create(
        AssistantCreate(
            name="Inbound Receptionist",
            role="receptionist",
            assistant_type="inbound",
            voice_id="sarah",
            first_message="Hello! Thanks for calling. How can I help you today?",
            personality="friendly, professional",
            phone_number_id=number.id,
        )
    )
    await assistants.create(
        AssistantCreate(
            name="Voz",
            role="sales",
            assistant_type="outbound",
            voice_id="joe",
            first_message="Hi, this is Voz calling on behalf of our team. Is now a good time?",
            personality="warm, concise",
            phone_number_id=number.id,
        )
    )
    created = await organizations.create_key(
        org.id, "Default key", description="Created on first start"
    )
    return SeedResult(org_id=org.id, api_key=created.plaintext)
