"""kill -9 of a worker process mid-delivery loses nothing; duplicates stay bounded."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiohttp import web
from fastapi import FastAPI

from tests.integration.webhooks.conftest import Receiver, create_endpoint, hooks_db
from tests.support import ApiClient
from vozagent.core.clock import SystemClock
from vozagent.domain.events.service import EventService

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = 1000
MAX_IN_FLIGHT = 64
VOZAGENT = Path(sys.executable).parent / "vozagent"


def _start_worker(database_url: str, secret_key: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VOZAGENT_SECRET_KEY": secret_key,
        "VOZAGENT_WEBHOOKS_ALLOW_HTTP": "true",
        "VOZAGENT_WEBHOOKS_ALLOW_PRIVATE": "true",
        "VOZAGENT_WEBHOOK_LEASE_SECONDS": "2",
        "VOZAGENT_WEBHOOK_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT),
        "VOZAGENT_WEBHOOK_PER_ENDPOINT_IN_FLIGHT": str(MAX_IN_FLIGHT),
        "VOZAGENT_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [str(VOZAGENT), "worker", "--database-url", database_url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _wait_for(condition: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def test_kill_9_mid_delivery_loses_no_event(
    hooks_app: FastAPI, hooks_database_url: str, hooks_api: ApiClient, receiver: Receiver
) -> None:
    async def slowish(_request: web.Request) -> web.Response:
        await asyncio.sleep(0.02)  # keeps plenty in flight when the kill lands
        return web.Response(status=200)

    await create_endpoint(hooks_api, receiver.on("/crash", slowish), ["contact.updated"])
    sent: set[str] = set()
    database = hooks_db(hooks_app)
    for _ in range(EVENTS // 100):
        async with database.transaction() as session:
            events = EventService(session, hooks_api.org_id, clock=SystemClock())
            for _ in range(100):
                event_id, _ = await events.publish("contact.updated", {"n": len(sent)})
                sent.add(event_id)

    secret_key = hooks_app.state.settings.secret_key.get_secret_value()
    first = _start_worker(hooks_database_url, secret_key)
    try:
        await _wait_for(lambda: len(receiver.at("/crash")) >= EVENTS // 3, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    at_kill = len(receiver.at("/crash"))
    assert EVENTS // 3 <= at_kill < EVENTS, "the kill must land mid-delivery"

    second = _start_worker(hooks_database_url, secret_key)
    try:
        await _wait_for(
            lambda: {r.headers["webhook-id"] for r in receiver.at("/crash")} >= sent, 90
        )
    finally:
        second.send_signal(signal.SIGTERM)
        # Wait without blocking the loop: the receiver must keep answering meanwhile.
        await asyncio.to_thread(second.wait, 30)
    ids = [r.headers["webhook-id"] for r in receiver.at("/crash")]
    assert sent - set(ids) == set()  # 0 lost
    duplicates = len(ids) - len(set(ids))
    assert duplicates <= MAX_IN_FLIGHT  # only what was in flight at the kill
    assert second.returncode == 0  # a clean stop after SIGTERM
