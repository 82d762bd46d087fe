"""The browser carrier on a real uvicorn on loopback, with a fake call runtime behind it.

``FakeEvents`` stands in for the call runtime: it records statuses, and its ``media`` plays a
tone to the page and records what the page sends until the link closes or the script's time
is up, then closes the link (the conversation ending).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from vozagent.telephony.browser.carrier import BrowserCarrier
from vozagent.telephony.carrier import (
    CarrierAccount,
    CarrierContext,
    InboundAnswer,
    InboundCall,
    StatusUpdate,
)
from vozagent.voice.audio import PIPELINE_RATE
from vozagent.voice.media import AudioReceived, DtmfReceived, LinkClosed, MediaLink

WAIT_SECONDS = 10.0


def tone(seconds: float, frequency: float = 440.0, level: float = 0.3) -> bytes:
    """A sine tone as PCM16 16 kHz; its RMS is ``level / sqrt(2)``."""
    t = np.arange(int(seconds * PIPELINE_RATE)) / PIPELINE_RATE
    return (np.sin(2 * np.pi * frequency * t) * level * 32767).astype("<i2").tobytes()


@dataclass
class Script:
    """What the fake conversation does on a call."""

    tone_seconds: float = 1.0
    hold_seconds: float = 15.0


@dataclass
class FakeEvents:
    updates: list[StatusUpdate] = field(default_factory=list)
    heard: dict[str, bytearray] = field(default_factory=dict)
    digits: dict[str, list[str]] = field(default_factory=dict)
    closed: dict[str, LinkClosed] = field(default_factory=dict)
    links: dict[str, MediaLink] = field(default_factory=dict)
    scripts: dict[str, Script] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def status(self, update: StatusUpdate) -> None:
        self.updates.append(update)
        await self._notify()

    async def media(self, call_id: str, link: MediaLink) -> None:
        script = self.scripts.get(call_id, Script())
        heard = self.heard.setdefault(call_id, bytearray())
        self.links[call_id] = link
        await self._notify()
        link.play(tone(script.tone_seconds))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(script.hold_seconds):
                while not isinstance(event := await link.receive(), LinkClosed):
                    if isinstance(event, AudioReceived):
                        heard.extend(event.pcm)
                    elif isinstance(event, DtmfReceived):
                        self.digits.setdefault(call_id, []).append(event.digit)
                    await self._notify()
                self.closed[call_id] = event
        await link.close()
        await self._notify()

    async def inbound(self, call: InboundCall) -> InboundAnswer:
        return InboundAnswer(call_id=None, refusal="the browser carrier takes no inbound calls")

    async def account_for_call(self, call_id: str) -> CarrierAccount | None:
        return None

    async def account_for_number(self, provider: str, number: str) -> CarrierAccount | None:
        return None

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def wait_until(self, check: Callable[[], bool], seconds: float = WAIT_SECONDS) -> None:
        async with asyncio.timeout(seconds), self.changed:
            await self.changed.wait_for(check)

    def statuses(self, call_id: str) -> list[str]:
        return [u.status for u in self.updates if u.call_id == call_id]

    def last(self, call_id: str) -> StatusUpdate:
        return [u for u in self.updates if u.call_id == call_id][-1]

    async def wait_status(self, call_id: str, status: str) -> StatusUpdate:
        await self.wait_until(lambda: status in self.statuses(call_id))
        return next(u for u in self.updates if u.call_id == call_id and u.status == status)


@dataclass
class PhoneServer:
    carrier: BrowserCarrier
    events: FakeEvents
    base_url: str
    http: aiohttp.ClientSession

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/telephony/browser/ws"


@pytest.fixture(scope="module")
async def phone_server() -> AsyncIterator[PhoneServer]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    events = FakeEvents()
    http = aiohttp.ClientSession()
    carrier = BrowserCarrier(CarrierContext(events=events, public_url=base_url, http=http))
    app = Starlette(routes=[Mount("/telephony/browser", routes=carrier.routes())])
    config = uvicorn.Config(
        app, ws="websockets-sansio", lifespan="off", log_config=None, log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    for _ in range(200):
        if server.started or serving.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield PhoneServer(carrier, events, base_url, http)
    await carrier.stop()
    server.should_exit = True
    await asyncio.wait_for(serving, 10)
    await http.close()
    listener.close()


class FakePage:
    """A Python stand-in for the phone page, speaking its protocol over aiohttp."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.control: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.audio = bytearray()
        self.frame_sizes: set[int] = set()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.socket:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.audio.extend(message.data)
                self.frame_sizes.add(len(message.data))
            elif message.type == aiohttp.WSMsgType.TEXT:
                self.control.put_nowait(json.loads(message.data))

    async def expect(self, kind: str, seconds: float = WAIT_SECONDS) -> dict[str, Any]:
        """The next control message, which must be of type ``kind``."""
        message = await asyncio.wait_for(self.control.get(), seconds)
        assert message["type"] == kind, message
        return message

    async def send(self, **message: Any) -> None:
        await self.socket.send_str(json.dumps(message))

    async def send_audio(self, pcm: bytes, frame_bytes: int = 640) -> None:
        for start in range(0, len(pcm), frame_bytes):
            await self.socket.send_bytes(pcm[start : start + frame_bytes])

    async def wait_audio(self, size: int) -> None:
        await poll_until(lambda: len(self.audio) >= size)

    async def close(self) -> None:
        await self.socket.close()
        await asyncio.wait_for(self._reader, 5)


async def poll_until(check: Callable[[], bool], seconds: float = WAIT_SECONDS) -> None:
    """For state nothing notifies about (received audio, registrations, page stats)."""
    interval = 0.05
    for _ in range(int(seconds / interval)):
        if check():
            return
        await asyncio.sleep(interval)
    raise TimeoutError(f"not true within {seconds} s")


OpenPage = Callable[..., Awaitable[FakePage]]


@pytest.fixture
async def open_page(phone_server: PhoneServer) -> AsyncIterator[OpenPage]:
    pages: list[FakePage] = []

    async def opener(name: str) -> FakePage:
        socket = await phone_server.http.ws_connect(phone_server.ws_url, params={"name": name})
        page = FakePage(socket)
        pages.append(page)
        assert (await page.expect("registered"))["name"] == name
        return page

    yield opener
    for page in pages:
        await page.close()
