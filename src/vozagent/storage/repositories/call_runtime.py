"""Calls as the dialer and the call runtime see them: by id, across organizations.

Carrier callbacks and media sockets carry a call id, not an API key; the organization is
read from the call row itself, and every write below stays inside that row's organization.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.storage.models import Assistant, Call, CallEvent, CallTurn, PhoneNumber

# Wakes the dialers: a call was queued, or a live call ended and freed a slot.
DIALER_CHANNEL = "vozagent_dialer"


class CallRuntimeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, call_id: str) -> Call | None:
        statement = select(Call).where(Call.id == call_id).with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get(self, call_id: str) -> Call | None:
        return await self.session.get(Call, call_id)

    async def by_reference(self, reference: str) -> Call | None:
        statement = select(Call).where(Call.provider_call_id == reference).limit(1)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def assistant(self, call: Call) -> Assistant | None:
        if call.assistant_id is None:
            return None
        return await self.session.get(Assistant, call.assistant_id)

    async def number(self, call: Call) -> PhoneNumber | None:
        if call.phone_number_id is None:
            return None
        return await self.session.get(PhoneNumber, call.phone_number_id)

    async def number_by_e164(self, phone_number: str) -> PhoneNumber | None:
        statement = select(PhoneNumber).where(PhoneNumber.phone_number == phone_number)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def log(self, call: Call, kind: str, data: dict[str, Any]) -> None:
        self.session.add(CallEvent(org_id=call.org_id, call_id=call.id, kind=kind, data=data))

    async def add_turn(
        self, call: Call, *, speaker: str, text: str, start_ms: int, end_ms: int, interrupted: bool
    ) -> None:
        seq = await self.session.scalar(
            select(func.coalesce(func.max(CallTurn.seq), 0) + 1).where(CallTurn.call_id == call.id)
        )
        self.session.add(
            CallTurn(
                org_id=call.org_id,
                call_id=call.id,
                seq=int(seq or 1),
                speaker=speaker,
                text=text,
                start_ms=start_ms,
                end_ms=end_ms,
                interrupted=interrupted,
            )
        )

    async def turns(self, call_id: str) -> Sequence[CallTurn]:
        statement = select(CallTurn).where(CallTurn.call_id == call_id).order_by(CallTurn.seq)
        return (await self.session.execute(statement)).scalars().all()

    async def hangups_requested(self, call_ids: Sequence[str]) -> list[str]:
        if not call_ids:
            return []
        statement = select(Call.id).where(
            Call.id.in_(call_ids), Call.hangup_requested_at.is_not(None)
        )
        return list((await self.session.execute(statement)).scalars())

    async def renew_leases(self, call_ids: Sequence[str], until: datetime) -> None:
        if call_ids:
            await self.session.execute(
                update(Call).where(Call.id.in_(call_ids)).values(claimed_until=until)
            )

    async def notify_dialers(self) -> None:
        await self.session.execute(text(f"SELECT pg_notify('{DIALER_CHANNEL}', '')"))
