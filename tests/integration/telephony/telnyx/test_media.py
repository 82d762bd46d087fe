"""The media socket: who may open it, and what a stream must start with."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.integration.telephony.telnyx.conftest import SIGNING_KEY, WAIT, Harness
from vozagent.telephony.carrier import media_token
from vozagent.voice.media import DtmfReceived, LinkClosed, MediaLink

pytestmark = pytest.mark.integration


def media_url(h: Harness, call_id: str) -> str:
    query = urlencode({"call_id": call_id, "token": media_token(SIGNING_KEY, call_id)})
    return f"ws://{h.app_url.removeprefix('http://')}/telephony/telnyx/media?{query}"


def start(encoding: str = "PCMU", rate: int = 8000) -> str:
    media_format = {"encoding": encoding, "sample_rate": rate, "channels": 1}
    return json.dumps(
        {
            "event": "start",
            "stream_id": "s-1",
            "start": {"call_control_id": "v3:x", "media_format": media_format},
        }
    )


async def closed_code(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    message = await asyncio.wait_for(ws.receive(), WAIT)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    return ws.close_code


@pytest.mark.parametrize(
    "opening",
    [
        ['{"event": "connected", "version": "1.0.0"}', "not json"],
        [start(encoding="L16", rate=16000)],
        ['{"event": "start", "start": {}}'],  # no stream_id
    ],
)
async def test_stream_without_a_usable_start_is_closed(telnyx: Harness, opening: list[str]) -> None:
    async with telnyx.http.ws_connect(media_url(telnyx, "call-bad-start")) as ws:
        for frame in opening:
            await ws.send_str(frame)
        assert await closed_code(ws) == 1008
    assert telnyx.events.media_calls == []


async def test_dtmf_and_stop_reach_the_conversation(telnyx: Harness) -> None:
    seen: list[object] = []

    async def converse(link: MediaLink) -> None:
        while True:
            event = await asyncio.wait_for(link.receive(), WAIT)
            seen.append(event)
            if isinstance(event, LinkClosed):
                return

    telnyx.events.converse = converse
    async with telnyx.http.ws_connect(media_url(telnyx, "call-dtmf")) as ws:
        await ws.send_str('{"event": "connected", "version": "1.0.0"}')
        await ws.send_str(start(encoding="PCMA"))
        await ws.send_str(json.dumps({"event": "error", "payload": {"code": 100002}}))
        await ws.send_str(json.dumps({"event": "dtmf", "stream_id": "s-1", "dtmf": {"digit": "7"}}))
        await ws.send_str(json.dumps({"event": "stop", "stream_id": "s-1", "stop": {}}))
        assert await closed_code(ws) == 1000
    assert seen == [DtmfReceived("7"), LinkClosed("remote")]
    assert telnyx.events.media_calls == ["call-dtmf"]


async def test_a_second_stream_for_the_same_call_is_refused(telnyx: Harness) -> None:
    opened = asyncio.Event()
    release = asyncio.Event()

    async def converse(link: MediaLink) -> None:
        opened.set()
        await asyncio.wait_for(release.wait(), WAIT)

    telnyx.events.converse = converse
    async with telnyx.http.ws_connect(media_url(telnyx, "call-twice")) as first:
        await first.send_str(start())
        await asyncio.wait_for(opened.wait(), WAIT)
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await telnyx.http.ws_connect(media_url(telnyx, "call-twice"))
        release.set()
        await closed_code(first)
    assert telnyx.events.media_calls == ["call-twice"]
