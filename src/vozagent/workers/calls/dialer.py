"""The dialer: claims queued calls and hands them to their carrier.

Runs in every worker (inside ``serve``, or ``vozagent worker``). It wakes on NOTIFY when a
call is queued or a live call ends, and polls as a safety net. Claims are batched and
leased (see ``domain/calls/dialing.py``); the dial itself happens outside the claim's
transaction, so a slow carrier never holds the queue lock.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from vozagent.core.clock import Clock
from vozagent.core.secrets_box import SecretBox
from vozagent.domain.calls.dialing import ClaimedCall, DialBudget, DialPlanner
from vozagent.domain.calls.lifecycle import CallLifecycle
from vozagent.storage.db import Database
from vozagent.storage.repositories.call_runtime import CallRuntimeRepository
from vozagent.storage.repositories.dial_queue import DialQueue
from vozagent.telephony.carrier import CarrierError, DialRequest
from vozagent.workers.calls import accounts
from vozagent.workers.calls.runtime import CallRuntime, LiveCall
from vozagent.workers.wakeup import Wakeup

log = logging.getLogger(__name__)
# Carriers whose calls live inside our process: a call still "live" after its worker's
# lease ran out died with that worker.
IN_PROCESS_CARRIERS = ("sandbox", "sip", "browser")


@dataclass(frozen=True)
class DialerTuning:
    calls_per_second: Mapping[str, float] = field(default_factory=dict)
    default_calls_per_second: float = 10.0
    batch: int = 100
    poll_seconds: float = 1.0
    lease: timedelta = timedelta(seconds=60)
    retry_unreachable: timedelta = timedelta(seconds=30)
    ring_timeout_seconds: int = 30


class Dialer:
    def __init__(
        self,
        database: Database,
        box: SecretBox,
        clock: Clock,
        runtime: CallRuntime,
        tuning: DialerTuning,
        wakeup: Wakeup,
    ) -> None:
        self.database = database
        self.box = box
        self.clock = clock
        self.runtime = runtime
        self.tuning = tuning
        self.wakeup = wakeup
        self.worker_id = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._tokens: dict[str, float] = {}
        self._refilled_at = time.monotonic()
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wakeup.clear()
            try:
                claimed = await self.claim_round()
            except Exception:  # the database is away: keep the loop alive
                log.exception("dialer round failed")
                claimed = []
            for call in claimed:
                task = asyncio.create_task(self.dial(call), name=f"dial-{call.call_id}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if len(claimed) < self.tuning.batch:
                await self.wakeup.wait(self.tuning.poll_seconds, stop)
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def claim_round(self) -> list[ClaimedCall]:
        self._refill_tokens()
        now = self.clock.now()
        async with self.database.transaction() as session:
            lifecycle = CallLifecycle(session, clock=self.clock, rates=self.runtime.options.rates)
            planner = DialPlanner(
                session, lifecycle, worker_id=self.worker_id, lease=self.tuning.lease
            )
            for call_id in await DialQueue(session).abandoned(IN_PROCESS_CARRIERS, now):
                await lifecycle.fail(call_id, "worker-lost")
            budget = DialBudget(Counter({k: int(v) for k, v in self._tokens.items()}))
            claimed = await planner.claim(now, budget, self.tuning.batch)
            for call in claimed:
                self._tokens[call.carrier] = self._tokens.get(call.carrier, 0.0) - 1
        return claimed

    async def dial(self, claimed: ClaimedCall) -> None:
        carrier = self.runtime.carriers.get(claimed.carrier)
        if carrier is None:
            await self._fail(claimed.call_id, f"carrier-unavailable: {claimed.carrier}")
            return
        async with self.database.transaction() as session:
            account = await accounts.account_by_id(session, self.box, claimed.credentials_id)
        request = DialRequest(
            call_id=claimed.call_id,
            to=claimed.to,
            from_=claimed.from_,
            account=account,
            ring_timeout_seconds=self.tuning.ring_timeout_seconds,
            options={"sandbox_persona": claimed.sandbox_persona} if claimed.sandbox_persona else {},
        )
        live = LiveCall(claimed.call_id, claimed.carrier, None, account)
        self.runtime.track(live)
        try:
            reference = None
            if claimed.lost_claim_at is not None:
                reference = await carrier.find_call(request, claimed.lost_claim_at)
            if reference is None:
                reference = await carrier.place_call(request)
        except CarrierError as error:
            self.runtime.live.pop(claimed.call_id, None)
            await self._refused(claimed, error)
            return
        live.reference = live.reference or reference
        await self._remember(claimed.call_id, reference)

    async def _remember(self, call_id: str, reference: str) -> None:
        async with self.database.transaction() as session:
            repository = CallRuntimeRepository(session)
            call = await repository.lock(call_id)
            if call is not None and call.provider_call_id is None:
                call.provider_call_id = reference
                await repository.log(call, "dialed", {"reference": reference})

    async def _refused(self, claimed: ClaimedCall, error: CarrierError) -> None:
        if not error.retryable:
            await self._fail(claimed.call_id, error.reason)
            return
        log.warning("carrier %s unreachable; call will be dialled later", claimed.carrier)
        async with self.database.transaction() as session:
            lifecycle = CallLifecycle(session, clock=self.clock, rates=self.runtime.options.rates)
            planner = DialPlanner(
                session, lifecycle, worker_id=self.worker_id, lease=self.tuning.lease
            )
            await planner.release(claimed.call_id, self.clock.now() + self.tuning.retry_unreachable)

    async def _fail(self, call_id: str, reason: str) -> None:
        async with self.database.transaction() as session:
            lifecycle = CallLifecycle(session, clock=self.clock, rates=self.runtime.options.rates)
            await lifecycle.fail(call_id, reason)

    def _refill_tokens(self) -> None:
        """A token bucket per carrier: its calls-per-second rate, bursting to one second's
        worth. Each worker paces itself; with N workers the total is N times the rate."""
        now = time.monotonic()
        elapsed, self._refilled_at = now - self._refilled_at, now
        for name in self.runtime.carriers:
            rate = self.tuning.calls_per_second.get(name, self.tuning.default_calls_per_second)
            burst = max(1.0, rate)
            self._tokens[name] = min(burst, self._tokens.get(name, burst) + rate * elapsed)
