from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from tests.integration.telephony.sip.peers import (
    Baresip,
    RecordingEvents,
    Sipp,
    make_context,
    require,
    write_wav,
)
from vozagent.telephony.sip.carrier import SipCarrier


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def events() -> RecordingEvents:
    return RecordingEvents()


@pytest.fixture
async def carrier(
    events: RecordingEvents, http: aiohttp.ClientSession
) -> AsyncIterator[SipCarrier]:
    sip = SipCarrier(make_context(events, http))
    await sip.start()
    yield sip
    await sip.stop()


def prompt_wav(directory: Path, speech_seconds: float, silence_seconds: float) -> Path:
    """A 1 kHz tone (the "customer") then silence; baresip hangs up when the file ends."""
    import math
    import struct

    rate = 8000
    samples = [
        int(8000 * math.sin(2 * math.pi * 1000 * i / rate))
        for i in range(int(speech_seconds * rate))
    ]
    pcm = struct.pack(f"<{len(samples)}h", *samples) + bytes(int(silence_seconds * rate) * 2)
    path = directory / "prompt.wav"
    write_wav(path, pcm, rate)
    return path


@pytest.fixture
async def baresip(tmp_path: Path) -> AsyncIterator[Baresip]:
    require("baresip")
    peer = Baresip(tmp_path, prompt_wav(tmp_path, speech_seconds=1.0, silence_seconds=2.5))
    await peer.start()
    yield peer
    await peer.stop()


@pytest.fixture
async def sipp(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Sipp]]]:
    started: list[Sipp] = []

    async def start(scenario: str, fill: dict[str, str] | None = None, **keys: str) -> Sipp:
        peer = Sipp(tmp_path, scenario, fill, **keys)
        await peer.start()
        started.append(peer)
        return peer

    yield start
    for peer in started:
        await peer.stop()
