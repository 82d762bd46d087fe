"""Choosing which queued calls to dial now, under the rules checked before every dial.

Per call, in order: the organization's do-not-call list (a number added after the call was
queued still stops it), the callee's local calling hours (a call outside them waits for the
next window; it is never dropped), the organization's and the number's concurrency caps and
the carrier's calls-per-second pace (extra calls stay queued). The claim writes a lease:
a worker that dies mid-dial leaves a claim that becomes due again, and the next worker
asks the carrier whether the call exists before dialling it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.domain.calls import states
from vozagent.domain.calls.calling_hours import next_allowed_time
from vozagent.domain.calls.lifecycle import CallLifecycle
from vozagent.storage.models import Call, Organization, PhoneNumber
from vozagent.storage.repositories.dial_queue import DialQueue

# A call held back by a full concurrency cap is looked at again this much later, so that
# one busy organization does not keep other organizations' calls behind it.
CAP_BACKOFF = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class ClaimedCall:
    call_id: str
    org_id: str
    carrier: str
    to: str
    from_: str
    credentials_id: str | None
    sandbox_persona: Mapping[str, Any] | None
    # Set when an earlier claim of this call was lost: ask the carrier before dialling.
    lost_claim_at: datetime | None


@dataclass
class DialBudget:
    """How many dials each carrier may start in this round (its calls-per-second pace)."""

    per_carrier: Counter[str]

    def take(self, carrier: str) -> bool:
        if self.per_carrier[carrier] <= 0:
            return False
        self.per_carrier[carrier] -= 1
        return True


class DialPlanner:
    def __init__(
        self, session: AsyncSession, lifecycle: CallLifecycle, *, worker_id: str, lease: timedelta
    ) -> None:
        self.session = session
        self.queue = DialQueue(session)
        self.lifecycle = lifecycle
        self.worker_id = worker_id
        self.lease = lease

    async def claim(self, now: datetime, budget: DialBudget, limit: int) -> list[ClaimedCall]:
        await self.queue.lock()
        live_by_org, live_by_number = await self.queue.live_counts()
        due = await self.queue.due(now, limit)
        if not due:
            return []
        organizations = await self.queue.organizations({c.org_id for c in due})
        numbers = await self.queue.numbers({c.phone_number_id for c in due if c.phone_number_id})
        blocked = await self.queue.on_dnc({(c.org_id, c.customer_phone_number) for c in due})
        claimed: list[ClaimedCall] = []
        for call in due:
            organization = organizations[call.org_id]
            number = numbers.get(call.phone_number_id or "")
            if (call.org_id, call.customer_phone_number) in blocked:
                await self._refuse(call, "do-not-call")
                continue
            if number is None or number.status != "active":
                await self._refuse(call, "caller-id-unavailable")
                continue
            allowed = _window_opens(now, call, organization)
            if allowed > now:
                call.dial_after = allowed
                continue
            if not _has_slot(organization, number, live_by_org, live_by_number):
                call.dial_after = now + CAP_BACKOFF
                continue
            carrier = call.carrier or number.provider
            if not budget.take(carrier):
                continue
            live_by_org[call.org_id] += 1
            live_by_number[number.id] += 1
            claimed.append(self._claim(call, number, carrier, now))
        return claimed

    def _claim(self, call: Call, number: PhoneNumber, carrier: str, now: datetime) -> ClaimedCall:
        lost_claim_at = None
        if call.claimed_by is not None and call.claimed_until is not None:
            lost_claim_at = call.claimed_until - self.lease
        else:
            call.attempts += 1
        call.carrier = carrier
        call.claimed_by = self.worker_id
        call.claimed_until = now + self.lease
        call.dial_after = now + self.lease
        return ClaimedCall(
            call_id=call.id,
            org_id=call.org_id,
            carrier=carrier,
            to=call.customer_phone_number,
            from_=call.assistant_phone_number or number.phone_number,
            credentials_id=number.credentials_id,
            sandbox_persona=call.sandbox_persona,
            lost_claim_at=lost_claim_at,
        )

    async def _refuse(self, call: Call, reason: str) -> None:
        await self.session.flush()
        await self.lifecycle.fail(call.id, reason)

    async def release(self, call_id: str, retry_at: datetime) -> None:
        """Give a claim back after the carrier could not be reached; dial again later."""
        call = await self.session.get(Call, call_id, with_for_update=True)
        if call is not None and call.call_status == states.QUEUED:
            call.claimed_by = None
            call.claimed_until = None
            call.dial_after = retry_at


def _window_opens(now: datetime, call: Call, organization: Organization) -> datetime:
    if organization.calling_hours_start == organization.calling_hours_end:
        return now  # an empty-looking window means "any time" (docs/telephony.md)
    return next_allowed_time(
        now,
        call.customer_phone_number,
        organization.calling_hours_start,
        organization.calling_hours_end,
    )


def _has_slot(
    organization: Organization,
    number: PhoneNumber,
    live_by_org: Counter[str],
    live_by_number: Counter[str],
) -> bool:
    if live_by_org[organization.id] >= organization.max_concurrent_calls:
        return False
    cap = number.max_concurrent_calls
    return cap is None or live_by_number[number.id] < cap
