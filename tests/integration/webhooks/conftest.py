"""Webhook delivery tests: their own database (so a worker sees only their deliveries),
an app that accepts http/loopback URLs, real loopback receivers and a virtual clock."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from fastapi import FastAPI

from tests.conftest import BASE_URL, make_settings
from tests.support import ApiClient, external_database
from vozagent.core.clock import SystemClock
from vozagent.domain.organizations.service import OrganizationService
from vozagent.server import create_app
from vozagent.storage.db import Database
from vozagent.storage.migrate import upgrade
from vozagent.webhooks.sender import WebhookSender
from vozagent.workers.webhook_delivery import DeliveryTuning, WebhookDeliveryWorker


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


Behaviour = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _ok(_request: web.Request) -> web.StreamResponse:
    return web.Response(status=204)


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that records every request it gets."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    behaviours: dict[str, Behaviour] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str, behaviour: Behaviour) -> str:
        self.behaviours[path] = behaviour
        return self.url(path)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.received.append(Received(request.path, dict(request.headers), body, time.time()))
        return await self.behaviours.get(request.path, _ok)(request)


class VirtualClock:
    """Starts a minute ahead, so rows the API writes meanwhile are already due, while
    signatures stay inside the verifier's 5-minute tolerance."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC) + timedelta(seconds=60)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


@pytest.fixture(scope="session")
async def hooks_database_url(database_url: str) -> AsyncIterator[str]:
    async with external_database(database_url) as url:
        await upgrade(url)
        yield url


@pytest.fixture(scope="session")
async def hooks_app(tmp_data_dir: Path, hooks_database_url: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(tmp_data_dir, webhooks_allow_http=True, webhooks_allow_private=True)
    application = create_app(settings, hooks_database_url)
    yield application
    await application.state.container.database.dispose()


@pytest.fixture
async def hooks_api(hooks_app: FastAPI) -> AsyncIterator[ApiClient]:
    container = hooks_app.state.container
    async with container.database.transaction() as session:
        service = OrganizationService(session)
        org = await service.create_organization(f"hooks-{secrets.token_hex(4)}")
        created = await service.create_key(org.id, "hooks key")
    async with ApiClient(
        transport=httpx.ASGITransport(app=hooks_app),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {created.plaintext}"},
        org_id=org.id,
        key=created.plaintext,
        key_id=created.key.id,
    ) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", state.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    state.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


WorkerFactory = Callable[..., Any]


@pytest.fixture
def delivery_worker(hooks_app: FastAPI) -> WorkerFactory:
    """``async with delivery_worker(clock=...) as worker`` — a worker on the hooks database."""
    container = hooks_app.state.container

    @asynccontextmanager
    async def factory(
        *, clock: Any = None, send_timeout: float = 5.0, **tuning: Any
    ) -> AsyncIterator[WebhookDeliveryWorker]:
        async with WebhookSender(allow_private=True, timeout_seconds=send_timeout) as sender:
            yield WebhookDeliveryWorker(
                container.database,
                container.secret_box,
                clock or SystemClock(),
                sender,
                tuning=DeliveryTuning(**tuning),
            )

    return factory


async def run_until(
    worker: WebhookDeliveryWorker, done: Callable[[], bool], *, rounds: int = 50
) -> None:
    """Run worker rounds until ``done()`` (bounded)."""
    for _ in range(rounds):
        await worker.run_once()
        if done():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the worker did not finish in time")


async def create_endpoint(
    api: ApiClient, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    return await api.create("/v1/webhooks", {"name": "hook", "url": url, "events": events or ["*"]})


async def create_contact(api: ApiClient, **fields: Any) -> dict[str, Any]:
    from tests.support import unique_phone

    return await api.create("/v1/contacts", {"phone_number": unique_phone(), **fields})


def hooks_db(app: FastAPI) -> Database:
    database: Database = app.state.container.database
    return database
