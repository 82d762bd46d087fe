"""The webhook delivery worker: claims due deliveries from PostgreSQL and sends them.

Many workers (in ``vozagent serve`` or ``vozagent worker``, on any number of hosts) share
the queue; see ``storage.repositories.delivery_queue`` for how claiming stays exclusive
and crash-safe. Each worker bounds what it has in flight overall and per endpoint, so a
hung endpoint only ever occupies its own share.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from vozagent.core.clock import Clock
from vozagent.core.secrets_box import SecretBox
from vozagent.domain.events.service import EventService
from vozagent.storage.db import Database
from vozagent.storage.repositories.delivery_queue import (
    AttemptOutcome,
    ClaimedDelivery,
    DeliveryQueue,
)
from vozagent.webhooks.payloads import WebhookDisabled
from vozagent.webhooks.retry import next_attempt_delay, parse_retry_after
from vozagent.webhooks.sender import SendResult, WebhookSender
from vozagent.webhooks.signing import secret_bytes, signed_headers
from vozagent.workers.wakeup import Wakeup

log = logging.getLogger(__name__)
# Finished attempts that wake the loop at once to record them and claim more.
RECORD_BATCH = 32
BATCH_WINDOW_SECONDS = 0.005


@dataclass(frozen=True, slots=True)
class DeliveryTuning:
    max_in_flight: int = 256
    per_endpoint: int = 32
    # Longer than the send timeout, so a live worker's claim never lapses mid-send.
    # (The send timeout itself belongs to the WebhookSender.)
    lease: timedelta = timedelta(seconds=60)
    idle_poll_seconds: float = 1.0
    disable_after: timedelta = timedelta(days=5)


class WebhookDeliveryWorker:
    def __init__(
        self,
        database: Database,
        box: SecretBox,
        clock: Clock,
        sender: WebhookSender,
        *,
        tuning: DeliveryTuning | None = None,
        worker_id: str | None = None,
        rng: random.Random | None = None,
        wakeup: Wakeup | None = None,
    ) -> None:
        self.database = database
        self.box = box
        self.clock = clock
        self.sender = sender
        self.tuning = tuning or DeliveryTuning()
        self.worker_id = worker_id or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.rng = rng or random.Random()
        self.wakeup = wakeup or Wakeup()
        self._in_flight: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._outcomes: list[AttemptOutcome] = []
        self._wake_pending = False
        self._keys = lru_cache(maxsize=4096)(self._decrypt)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, then finish what is in flight."""
        while not stop.is_set():
            try:
                busy = await self._step()
            except Exception:  # the database may be restarting: keep the worker alive
                log.exception("webhook delivery step failed")
                busy = False
            if not busy:
                await self.wakeup.wait(self.tuning.idle_poll_seconds, stop)
        await self.drain()

    async def run_once(self) -> int:
        """Claim what is due now, send it all and record the outcomes (tests, tools)."""
        started = await self._claim_and_start()
        await self.drain()
        return started

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._flush()

    async def _step(self) -> bool:
        """One round; True when there may be more to do right away."""
        self.wakeup.clear()
        await self._flush()
        # Finished but unrecorded attempts count too: everything claimed and not yet
        # recorded is what a crash would send twice, and that stays within max_in_flight.
        room = self.tuning.max_in_flight - len(self._tasks) - len(self._outcomes)
        if room <= 0:
            return False
        started = await self._claim_and_start(room)
        return started == room

    async def _claim_and_start(self, room: int | None = None) -> int:
        now = self.clock.now()
        limit = room if room is not None else self.tuning.max_in_flight
        busy = {e: self.tuning.per_endpoint - n for e, n in self._in_flight.items() if n > 0}
        async with self.database.transaction() as session:
            claimed = await DeliveryQueue(session).claim(
                worker=self.worker_id,
                now=now,
                lease_until=now + self.tuning.lease,
                limit=limit,
                per_endpoint=self.tuning.per_endpoint,
                busy=busy,
            )
        for delivery in claimed:
            self._in_flight[delivery.endpoint_id] += 1
            task = asyncio.create_task(self._deliver(delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(claimed)

    async def _deliver(self, delivery: ClaimedDelivery) -> None:
        try:
            outcome = await self._attempt(delivery)
        except Exception as exc:  # never lose the row: record the failure and retry it
            log.exception("webhook delivery %s crashed", delivery.id)
            outcome = self._outcome(delivery, SendResult(None, 0, None, None, repr(exc)[:300]))
        finally:
            self._in_flight[delivery.endpoint_id] -= 1
            if self._in_flight[delivery.endpoint_id] <= 0:
                del self._in_flight[delivery.endpoint_id]
        self._outcomes.append(outcome)
        # Wake the loop for a batch, not for every attempt: each round costs a claim and a
        # write, and claiming one slot at a time would make the database the bottleneck.
        # Attempts finishing within BATCH_WINDOW share one round.
        if len(self._outcomes) >= RECORD_BATCH:
            self.wakeup.set()
        elif not self._wake_pending:
            self._wake_pending = True
            asyncio.get_running_loop().call_later(BATCH_WINDOW_SECONDS, self._wake_for_batch)

    def _wake_for_batch(self) -> None:
        self._wake_pending = False
        self.wakeup.set()

    async def _attempt(self, delivery: ClaimedDelivery) -> AttemptOutcome:
        now = self.clock.now()
        if not delivery.endpoint_active:
            return AttemptOutcome(
                delivery.id, delivery.endpoint_id, False, "canceled", now, None,
                None, None, None, "the endpoint is paused",
            )  # fmt: skip
        keys = [self._keys(delivery.secret_encrypted)]
        expires = delivery.previous_secret_expires_at
        if delivery.previous_secret_encrypted and expires is not None and expires > now:
            keys.append(self._keys(delivery.previous_secret_encrypted))
        body = delivery.body.encode()
        headers = signed_headers(keys, delivery.event_id, int(now.timestamp()), body)
        result = await self.sender.send(delivery.url, body, headers)
        return self._outcome(delivery, result)

    def _outcome(self, delivery: ClaimedDelivery, result: SendResult) -> AttemptOutcome:
        now = self.clock.now()
        status, next_at = "succeeded", None
        if not result.succeeded:
            retry_after = None
            if result.status_code in (429, 503):
                retry_after = parse_retry_after(result.retry_after, now)
            delay = next_attempt_delay(delivery.attempts + 1, retry_after=retry_after, rng=self.rng)
            if result.status_code == 410 or delay is None:
                status = "failed"
            else:
                status, next_at = "pending", now + delay
        return AttemptOutcome(
            delivery_id=delivery.id,
            endpoint_id=delivery.endpoint_id,
            succeeded=result.succeeded,
            status=status,
            attempted_at=now,
            next_attempt_at=next_at,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            response_body=result.response_excerpt,
            error=result.error,
        )

    async def _flush(self) -> None:
        if not self._outcomes:
            return
        outcomes, self._outcomes = self._outcomes, []
        try:
            await self._record(outcomes)
        except BaseException:
            self._outcomes[:0] = outcomes  # try again on the next round
            raise

    async def _record(self, outcomes: list[AttemptOutcome]) -> None:
        now = self.clock.now()
        healthy = {o.endpoint_id for o in outcomes if o.succeeded}
        gone = {o.endpoint_id for o in outcomes if o.status_code == 410}
        failing = {
            o.endpoint_id for o in outcomes if not o.succeeded and o.status != "canceled"
        } - healthy
        async with self.database.transaction() as session:
            queue = DeliveryQueue(session)
            await queue.record(outcomes)
            await queue.mark_endpoints_healthy(sorted(healthy))
            stale = await queue.mark_endpoints_failing(
                sorted(failing - gone), now, now - self.tuning.disable_after
            )
            days = self.tuning.disable_after / timedelta(days=1)
            for endpoint_id in stale:
                await self._disable(queue, endpoint_id, f"every delivery failed for {days:g} days")
            for endpoint_id in sorted(gone):
                await self._disable(queue, endpoint_id, "the endpoint answered 410 Gone")

    async def _disable(self, queue: DeliveryQueue, endpoint_id: str, reason: str) -> None:
        disabled = await queue.disable_endpoint(endpoint_id, self.clock.now(), reason)
        if disabled is None:  # already off
            return
        org_id, url = disabled
        log.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)
        payload = WebhookDisabled(webhook_id=endpoint_id, url=url, reason=reason)
        await EventService(queue.session, org_id, clock=self.clock).publish(
            "webhook.disabled", payload.model_dump()
        )

    def _decrypt(self, token: str) -> bytes:
        return secret_bytes(self.box.decrypt(token))
