"""The call runtime: what carriers report to, and where conversations run.

It implements :class:`~vozagent.telephony.carrier.CarrierEvents`. Status reports become
lifecycle transitions; a media link becomes a conversation with the call's assistant,
recorded, with every turn stored as it ends. The runtime also keeps this process's live
calls: it renews their leases and carries out hang-ups requested through the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.clock import Clock
from vozagent.core.secrets_box import SecretBox
from vozagent.domain.calls import states
from vozagent.domain.calls.inbound import open_inbound
from vozagent.domain.calls.lifecycle import Applied, CallLifecycle, StatusReport
from vozagent.storage.db import Database
from vozagent.storage.repositories.call_runtime import CallRuntimeRepository
from vozagent.telephony.carrier import (
    CallHandle,
    Carrier,
    CarrierAccount,
    InboundAnswer,
    InboundCall,
    StatusUpdate,
)
from vozagent.voice.conversation import Agent
from vozagent.voice.media import MediaLink
from vozagent.workers.calls import accounts
from vozagent.workers.calls.conversation import Conversation

log = logging.getLogger(__name__)
WATCH_SECONDS = 1.0


@dataclass
class LiveCall:
    call_id: str
    carrier: str
    reference: str | None
    account: CarrierAccount | None
    link: MediaLink | None = None


@dataclass(frozen=True)
class RuntimeOptions:
    rates: Mapping[str, float]
    recordings_dir: Path
    default_region: str
    public_url: str = ""
    lease: timedelta = timedelta(seconds=60)


class CallRuntime:
    def __init__(
        self,
        database: Database,
        box: SecretBox,
        clock: Clock,
        options: RuntimeOptions,
        agent_factory: Callable[[], Agent],
    ) -> None:
        self.database = database
        self.box = box
        self.clock = clock
        self.options = options
        self.agent_factory = agent_factory
        self.carriers: dict[str, Carrier] = {}
        self.live: dict[str, LiveCall] = {}

    # -- CarrierEvents --------------------------------------------------------------------

    async def status(self, update: StatusUpdate) -> None:
        async with self.database.transaction() as session:
            applied = await self._lifecycle(session).apply(_report(update))
        live = self.live.get(update.call_id)
        if live is not None and live.reference is None:
            live.reference = update.reference
        if applied is not None:
            await self._after(applied)

    async def media(self, call_id: str, link: MediaLink) -> None:
        live = self.live.setdefault(call_id, LiveCall(call_id, "", None, None))
        live.link = link
        conversation = Conversation(self.database, self.clock, self.options, call_id)
        try:
            ended_by = await conversation.run(link, self.agent_factory())
        finally:
            live.link = None
        if ended_by not in ("customer", None):
            await self.hang_up(call_id)

    async def inbound(self, call: InboundCall) -> InboundAnswer:
        async with self.database.transaction() as session:
            decision = await open_inbound(
                session,
                self.clock,
                provider=call.provider,
                to=call.to,
                from_=call.from_,
                reference=call.reference,
                default_region=self.options.default_region,
            )
            account = (
                await accounts.account_for_call(session, self.box, decision.call_id)
                if decision.call_id
                else None
            )
        if decision.call_id is not None:
            self.live[decision.call_id] = LiveCall(
                decision.call_id, call.provider, call.reference, account
            )
        return InboundAnswer(decision.call_id, decision.refusal)

    async def account_for_call(self, call_id: str) -> CarrierAccount | None:
        async with self.database.transaction() as session:
            return await accounts.account_for_call(session, self.box, call_id)

    async def account_for_number(self, provider: str, number: str) -> CarrierAccount | None:
        async with self.database.transaction() as session:
            return await accounts.account_for_number(session, self.box, provider, number)

    # -- control ----------------------------------------------------------------------------

    def track(self, call: LiveCall) -> None:
        """The dialer placed a call: this process owns it until it ends."""
        self.live.setdefault(call.call_id, call)

    async def hang_up(self, call_id: str) -> None:
        live = self.live.get(call_id)
        if live is None:
            return
        carrier = self.carriers.get(live.carrier)
        if carrier is not None:
            await carrier.hang_up(CallHandle(call_id, live.reference, live.account))
        if live.link is not None and not live.link.closed:
            await live.link.close()

    async def watch(self, stop: asyncio.Event) -> None:
        """Renew the leases of live calls and act on hang-ups requested through the API."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WATCH_SECONDS)
            ids = list(self.live)
            if not ids:
                continue
            try:
                async with self.database.transaction() as session:
                    repository = CallRuntimeRepository(session)
                    requested = await repository.hangups_requested(ids)
                    await repository.renew_leases(ids, self.clock.now() + self.options.lease)
            except Exception:  # the database is away: try again next round
                log.exception("call watch failed")
                continue
            for call_id in requested:
                await self.hang_up(call_id)

    async def _after(self, applied: Applied) -> None:
        call_id = applied.call.id
        if applied.status == states.VOICEMAIL:
            # An answering machine: end the conversation and the call (no message is left).
            await self.hang_up(call_id)
        if applied.status in states.TERMINAL or applied.requeued:
            live = self.live.pop(call_id, None)
            if live is not None and live.link is not None and not live.link.closed:
                await live.link.close()

    def _lifecycle(self, session: AsyncSession) -> CallLifecycle:
        return CallLifecycle(session, clock=self.clock, rates=self.options.rates)


def _report(update: StatusUpdate) -> StatusReport:
    return StatusReport(
        call_id=update.call_id,
        status=update.status,
        reference=update.reference,
        occurred_at=update.occurred_at,
        sequence=update.sequence,
        end_reason=update.end_reason,
        answered_by=update.answered_by,
        duration_seconds=update.duration_seconds,
    )
