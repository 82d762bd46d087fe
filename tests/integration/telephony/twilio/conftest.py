"""The Twilio carrier under test, served by a real uvicorn, against the Twilio simulator."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
import numpy as np
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from tests.integration.telephony.twilio.simulator import Script, TwilioSimulator
from vozagent.telephony.carrier import (
    CarrierAccount,
    CarrierContext,
    InboundAnswer,
    InboundCall,
    StatusUpdate,
)
from vozagent.telephony.twilio.carrier import TwilioCarrier
from vozagent.voice.audio import PIPELINE_RATE
from vozagent.voice.media import AudioReceived, LinkClosed, MarkPlayed, MediaLink

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "simulated-auth-token-0123456789ab"
SIGNING_KEY = b"media-signing-key-for-tests"
OUR_NUMBER = "+15550000001"
WAIT_SECONDS = 15  # the longest any test waits for a call to play out

SCRIPTS = {
    "+15551110000": Script("answer", talk_seconds=2.5),
    "+15551110001": Script("busy"),
    "+15551110002": Script("no-answer"),
    "+15551110003": Script("failed"),
    "+15551110004": Script("machine", talk_seconds=6.0),
    "+15551110005": Script("invalid"),
    "+15551110006": Script("server-error"),
    "+15551110007": Script("answer", talk_seconds=1.0, out_of_order=True),
    "+15551110008": Script("answer", talk_seconds=1.0, tamper_token=True),
    "+15551110009": Script("answer", talk_seconds=1.0, tamper_signature=True),
}


def tone(hz: float, seconds: float, amplitude: float = 0.3) -> bytes:
    samples = np.arange(int(PIPELINE_RATE * seconds))
    wave = amplitude * 32767 * np.sin(2 * np.pi * hz * samples / PIPELINE_RATE)
    return wave.astype(np.int16).tobytes()


@dataclass
class FakeEvents:
    """The call runtime's side: records statuses, runs a tiny conversation on each link."""

    account: CarrierAccount
    statuses: list[StatusUpdate] = field(default_factory=list)
    heard: dict[str, bytearray] = field(default_factory=dict)
    marks: dict[str, list[MarkPlayed]] = field(default_factory=dict)
    media_calls: list[str] = field(default_factory=list)
    inbound_calls: list[InboundCall] = field(default_factory=list)
    refuse_inbound: bool = False
    on_status: Callable[[StatusUpdate], None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def status(self, update: StatusUpdate) -> None:
        self.statuses.append(update)
        if self.on_status is not None:
            self.on_status(update)
        self.changed.set()

    async def media(self, call_id: str, link: MediaLink) -> None:
        """Say a 440 Hz tone, listen for a second, then start a long one and barge in on it."""
        self.media_calls.append(call_id)
        heard = self.heard.setdefault(call_id, bytearray())
        marks = self.marks.setdefault(call_id, [])
        link.play(tone(440, 0.6))
        link.mark("greeting")
        async with asyncio.timeout(10):
            while len(heard) < PIPELINE_RATE * 2 or not marks:  # a second of audio, the mark
                event = await link.receive()
                if isinstance(event, AudioReceived):
                    heard.extend(event.pcm)
                elif isinstance(event, MarkPlayed):
                    marks.append(event)
                elif isinstance(event, LinkClosed):
                    return
        link.play(tone(440, 5.0))
        await asyncio.sleep(0.2)
        await link.clear()

    async def inbound(self, call: InboundCall) -> InboundAnswer:
        self.inbound_calls.append(call)
        if self.refuse_inbound:
            return InboundAnswer(None, refusal="no assistant on this number")
        return InboundAnswer(f"call-in-{len(self.inbound_calls)}")

    async def account_for_call(self, call_id: str) -> CarrierAccount | None:
        return self.account

    async def account_for_number(self, provider: str, number: str) -> CarrierAccount | None:
        return self.account if provider == "twilio" and number == OUR_NUMBER else None

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_SECONDS):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


@dataclass
class TwilioRig:
    carrier: TwilioCarrier
    events: FakeEvents
    simulator: TwilioSimulator
    account: CarrierAccount
    app_url: str
    http: aiohttp.ClientSession


@pytest.fixture
async def simulator() -> AsyncIterator[TwilioSimulator]:
    sim = TwilioSimulator(ACCOUNT_SID, AUTH_TOKEN, SCRIPTS)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def rig(simulator: TwilioSimulator) -> AsyncIterator[TwilioRig]:
    account = CarrierAccount(
        "twilio",
        {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
        api_base_url=simulator.base_url,
    )
    events = FakeEvents(account)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    app_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with aiohttp.ClientSession() as http:
        context = CarrierContext(events, app_url, http, signing_key=SIGNING_KEY)
        carrier = TwilioCarrier(context)
        app = Starlette(routes=[Mount("/telephony/twilio", routes=list(carrier.routes()))])
        async with _serving(app, sock):
            yield TwilioRig(carrier, events, simulator, account, app_url, http)


@contextlib.asynccontextmanager
async def _serving(app: Starlette, sock: socket.socket) -> AsyncIterator[None]:
    config = uvicorn.Config(
        app,
        log_level="warning",
        ws="websockets-sansio",
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(1000):  # uvicorn exposes no event for "listening"; 10 s at most
            if server.started:
                break
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError("uvicorn did not start")
        yield
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task
        sock.close()
