"""Running the background workers beside the API (``serve``) or alone (``worker``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from vozagent.config import Settings
from vozagent.core.clock import Clock
from vozagent.core.secrets_box import SecretBox
from vozagent.storage.db import Database, plain_dsn
from vozagent.webhooks.sender import WebhookSender
from vozagent.workers.calls.telephony import TelephonyRoutes, running_telephony
from vozagent.workers.wakeup import ListeningWakeup
from vozagent.workers.webhook_delivery import DeliveryTuning, WebhookDeliveryWorker

log = logging.getLogger(__name__)
# How long a stopping worker waits for attempts in flight before leaving them to the lease.
DRAIN_SECONDS = 20.0


def delivery_tuning(settings: Settings) -> DeliveryTuning:
    return DeliveryTuning(
        max_in_flight=settings.webhook_max_in_flight,
        per_endpoint=settings.webhook_per_endpoint_in_flight,
        lease=timedelta(seconds=settings.webhook_lease_seconds),
    )


@contextlib.asynccontextmanager
async def running_workers(
    settings: Settings,
    database: Database,
    box: SecretBox,
    clock: Clock,
    *,
    routes: TelephonyRoutes | None = None,
    dial: bool = True,
) -> AsyncIterator[None]:
    """Webhook delivery and the call machinery (dialer when ``dial``; media routes when
    this process serves HTTP)."""
    async with running_telephony(settings, database, box, clock, routes=routes, dial=dial):
        async with _delivering(settings, database, box, clock):
            yield


@contextlib.asynccontextmanager
async def _delivering(
    settings: Settings, database: Database, box: SecretBox, clock: Clock
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    wakeup = ListeningWakeup(plain_dsn(database.url))
    sender = WebhookSender(
        allow_private=settings.webhooks_allow_private,
        timeout_seconds=settings.webhook_timeout_seconds,
    )
    async with sender:
        worker = WebhookDeliveryWorker(
            database, box, clock, sender, tuning=delivery_tuning(settings), wakeup=wakeup
        )
        task = asyncio.create_task(worker.run(stop), name="webhook-delivery")
        log.info("webhook delivery worker %s started", worker.worker_id)
        try:
            yield
        finally:
            stop.set()
            try:
                await asyncio.wait_for(task, DRAIN_SECONDS)
            except TimeoutError:
                log.warning("webhook worker did not drain in time; leases will hand work on")
            await wakeup.close()
