"""The dialer's queries: queued calls are the dial jobs (architecture §2.2).

A claim runs under one transaction-scoped advisory lock, so the concurrency caps hold
exactly across any number of workers: two workers never both see a free slot.
Claiming itself is still ``FOR UPDATE SKIP LOCKED`` on the partial queue index.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.storage.models import Call, DncEntry, Organization, PhoneNumber

_DIALER_LOCK_ID = 815_042_302
_LIVE = or_(
    Call.call_status.in_(("ringing", "in-progress")),
    (Call.call_status == "queued") & Call.claimed_by.is_not(None),
)


class DialQueue:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self) -> None:
        await self.session.execute(text(f"SELECT pg_advisory_xact_lock({_DIALER_LOCK_ID})"))

    async def live_counts(self) -> tuple[Counter[str], Counter[str]]:
        """Live calls (ringing, answered, or claimed and being dialled) per org and number."""
        statement = (
            select(Call.org_id, Call.phone_number_id, func.count())
            .where(_LIVE)
            .group_by(Call.org_id, Call.phone_number_id)
        )
        by_org: Counter[str] = Counter()
        by_number: Counter[str] = Counter()
        for org_id, number_id, count in await self.session.execute(statement):
            by_org[org_id] += count
            if number_id is not None:
                by_number[number_id] += count
        return by_org, by_number

    async def due(self, now: datetime, limit: int) -> Sequence[Call]:
        statement = (
            select(Call)
            .where(Call.call_status == "queued", Call.dial_after <= now)
            .order_by(Call.dial_after)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def organizations(self, ids: Collection[str]) -> dict[str, Organization]:
        rows = await self.session.execute(select(Organization).where(Organization.id.in_(ids)))
        return {o.id: o for o in rows.scalars()}

    async def numbers(self, ids: Collection[str]) -> dict[str, PhoneNumber]:
        rows = await self.session.execute(select(PhoneNumber).where(PhoneNumber.id.in_(ids)))
        return {n.id: n for n in rows.scalars()}

    async def on_dnc(self, pairs: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (org, number) pairs are on their organization's do-not-call list."""
        if not pairs:
            return set()
        statement = select(DncEntry.org_id, DncEntry.phone_number).where(
            tuple_(DncEntry.org_id, DncEntry.phone_number).in_(list(pairs))
        )
        return {(org, number) for org, number in await self.session.execute(statement)}

    async def abandoned(self, carriers: Collection[str], before: datetime) -> Sequence[str]:
        """Live calls of in-process carriers whose owning worker stopped renewing them."""
        statement = select(Call.id).where(
            Call.call_status.in_(("ringing", "in-progress")),
            Call.carrier.in_(carriers),
            Call.claimed_until < before,
        )
        return list((await self.session.execute(statement)).scalars())
