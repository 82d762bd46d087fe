"""Reading carrier credentials for the carriers (decrypted in memory only)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.secrets_box import SecretBox
from vozagent.storage.models import Call, PhoneNumber, TelephonyCredential
from vozagent.telephony.carrier import CarrierAccount


async def account_by_id(
    session: AsyncSession, box: SecretBox, credentials_id: str | None
) -> CarrierAccount | None:
    if credentials_id is None:
        return None
    entry = await session.get(TelephonyCredential, credentials_id)
    if entry is None:
        return None
    return CarrierAccount(
        provider=entry.provider,
        credentials=json.loads(box.decrypt(entry.credentials_encrypted)),
        api_base_url=entry.api_base_url,
    )


async def account_for_call(
    session: AsyncSession, box: SecretBox, call_id: str
) -> CarrierAccount | None:
    statement = (
        select(PhoneNumber.credentials_id)
        .join(Call, Call.phone_number_id == PhoneNumber.id)
        .where(Call.id == call_id)
    )
    return await account_by_id(session, box, await session.scalar(statement))


async def account_for_number(
    session: AsyncSession, box: SecretBox, provider: str, number: str
) -> CarrierAccount | None:
    statement = select(PhoneNumber.credentials_id).where(
        PhoneNumber.phone_number == number, PhoneNumber.provider == provider
    )
    return await account_by_id(session, box, await session.scalar(statement))
