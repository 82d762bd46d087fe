"""The Telnyx carrier mounted in a real uvicorn on loopback, facing the Telnyx simulator."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from tests.integration.telephony.telnyx.simulator import TelnyxSimulator
from vozagent.telephony.carrier import (
    CarrierAccount,
    CarrierContext,
    InboundAnswer,
    InboundCall,
    StatusUpdate,
)
from vozagent.telephony.telnyx.carrier import TelnyxCarrier
from vozagent.voice.media import MediaLink

SIGNING_KEY = b"media-signing-key-for-tests"
OUR_NUMBER = "+15550001000"
WAIT = 10.0


@dataclass
class FakeEvents:
    """The call runtime's side, recording what the carrier reports."""

    account: CarrierAccount
    statuses: list[StatusUpdate] = field(default_factory=list)
    inbound_calls: list[InboundCall] = field(default_factory=list)
    media_calls: list[str] = field(default_factory=list)
    inbound_answer: InboundAnswer = field(default_factory=lambda: InboundAnswer("call-in-1"))
    converse: Callable[[MediaLink], Awaitable[None]] | None = None
    status_changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def status(self, update: StatusUpdate) -> None:
        self.statuses.append(update)
        self.status_changed.set()

    async def media(self, call_id: str, link: MediaLink) -> None:
        self.media_calls.append(call_id)
        if self.converse is not None:
            await self.converse(link)

    async def inbound(self, call: InboundCall) -> InboundAnswer:
        self.inbound_calls.append(call)
        return self.inbound_answer

    async def account_for_call(self, call_id: str) -> CarrierAccount | None:
        return self.account if call_id.startswith("call-") else None

    async def account_for_number(self, provider: str, number: str) -> CarrierAccount | None:
        return self.account if (provider, number) == ("telnyx", OUR_NUMBER) else None

    def reset(self) -> None:
        self.statuses.clear()
        self.inbound_calls.clear()
        self.media_calls.clear()
        self.inbound_answer = InboundAnswer("call-in-1")
        self.converse = None

    async def wait_for_status(self, call_id: str, status: str) -> StatusUpdate:
        async def seen() -> StatusUpdate:
            while True:
                for update in self.statuses:
                    if update.call_id == call_id and update.status == status:
                        return update
                self.status_changed.clear()
                await self.status_changed.wait()

        return await asyncio.wait_for(seen(), WAIT)


@dataclass
class Harness:
    sim: TelnyxSimulator
    carrier: TelnyxCarrier
    events: FakeEvents
    app_url: str
    http: aiohttp.ClientSession


@pytest.fixture(scope="module")
async def harness() -> AsyncIterator[Harness]:
    sim = TelnyxSimulator()
    await sim.start()
    account = CarrierAccount(
        provider="telnyx",
        credentials={
            "api_key": sim.api_key,
            "connection_id": sim.connection_id,
            "public_key": sim.public_key,
        },
        api_base_url=sim.url,
    )
    events = FakeEvents(account)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    app_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    http = aiohttp.ClientSession()
    carrier = TelnyxCarrier(
        CarrierContext(events=events, public_url=app_url, http=http, signing_key=SIGNING_KEY)
    )
    app = Starlette(routes=[Mount("/telephony/telnyx", routes=list(carrier.routes()))])
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", ws="websockets-sansio", ws_ping_interval=None
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield Harness(sim, carrier, events, app_url, http)
    finally:
        await carrier.stop()
        await sim.stop()
        server.should_exit = True
        await asyncio.wait_for(serving, WAIT)
        await http.close()
        listener.close()


@pytest.fixture
async def telnyx(harness: Harness) -> AsyncIterator[Harness]:
    harness.sim.reset()
    harness.events.reset()
    yield harness
    # Calls still playing out would post into the next test: let them end first.
    await harness.sim.settle(WAIT)
