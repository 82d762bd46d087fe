"""Media over a WebSocket in the JSON dialect of Twilio Media Streams.

Frames are JSON text: ``connected``, ``start``, ``media`` (base64 μ-law 8 kHz, no header),
``dtmf``, ``mark``, ``stop`` from the carrier; ``media``, ``mark`` and ``clear`` to it
(https://www.twilio.com/docs/voice/media-streams/websocket-messages). The built-in sandbox
carrier speaks the same dialect over a real loopback socket, so a sandbox call crosses the
same codec, resampling and pacing code as a Twilio call.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from vozagent.telephony.codecs import pcm16_to_ulaw, ulaw_to_pcm16
from vozagent.voice.audio import PIPELINE_RATE, TELEPHONE_RATE, Resampler
from vozagent.voice.media import MediaLink

log = logging.getLogger(__name__)
StartT = TypeVar("StartT")


class TextSocket(Protocol):
    """The part of a WebSocket (Starlette's, aiohttp's) that a stream link needs."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000) -> None: ...


@dataclass(frozen=True, slots=True)
class StreamStart:
    stream_sid: str
    call_sid: str | None
    custom_parameters: Mapping[str, str]


class StreamProtocolError(Exception):
    """The peer did not open the stream with ``connected`` / ``start``."""


def parse_start(message: Mapping[str, Any]) -> StreamStart:
    start = message.get("start")
    if message.get("event") != "start" or not isinstance(start, Mapping):
        raise StreamProtocolError("expected a start message")
    stream_sid = message.get("streamSid") or start.get("streamSid")
    if not isinstance(stream_sid, str) or not stream_sid:
        raise StreamProtocolError("start message without streamSid")
    params = start.get("customParameters") or {}
    if not isinstance(params, Mapping):
        raise StreamProtocolError("customParameters must be an object")
    call_sid = start.get("callSid")
    return StreamStart(
        stream_sid=stream_sid,
        call_sid=call_sid if isinstance(call_sid, str) else None,
        custom_parameters={str(k): str(v) for k, v in params.items()},
    )


async def read_start_with(
    receive_text: Callable[[], Awaitable[str]],
    parse: Callable[[Mapping[str, Any]], StartT],
    limit: int = 5,
) -> StartT:
    """Read up to the ``start`` message (``connected`` comes first) and parse it with the
    carrier's own parser (Telnyx's ``start`` differs from Twilio's)."""
    for _ in range(limit):
        try:
            message = json.loads(await receive_text())
        except json.JSONDecodeError as error:
            raise StreamProtocolError("frame is not JSON") from error
        if isinstance(message, dict) and message.get("event") == "start":
            return parse(message)
    raise StreamProtocolError("no start message")


async def read_start(receive_text: Callable[[], Awaitable[str]], limit: int = 5) -> StreamStart:
    """Read up to the Twilio-dialect ``start`` message."""
    return await read_start_with(receive_text, parse_start, limit)


class MulawStreamLink(MediaLink):
    """Our side of a Twilio-dialect stream: μ-law 8 kHz on the wire, PCM16 16 kHz inside."""

    # The caller's track, as the carrier names it (Twilio: "inbound"/"inbound_track").
    inbound_tracks: tuple[str, ...] = ("inbound", "inbound_track")

    def __init__(self, call_id: str, socket: TextSocket, stream_sid: str) -> None:
        super().__init__(call_id)
        self.socket = socket
        self.stream_sid = stream_sid
        self._up = Resampler(TELEPHONE_RATE, PIPELINE_RATE)
        self._down = Resampler(PIPELINE_RATE, TELEPHONE_RATE)
        self._decode: Callable[[bytes], bytes] = ulaw_to_pcm16

    def feed(self, raw: str) -> bool:
        """Handle one frame from the carrier; returns False once the stream has stopped."""
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            log.info("media stream %s: dropped a frame that is not JSON", self.call_id)
            return True
        if not isinstance(message, dict):
            return True
        event = message.get("event")
        if event == "media":
            self._media(message.get("media"))
        elif event == "dtmf":
            dtmf = message.get("dtmf")
            if isinstance(dtmf, Mapping) and isinstance(dtmf.get("digit"), str):
                self._dtmf_in(dtmf["digit"])
        elif event == "stop":
            return False
        # "mark" echoes are not needed: marks fire from our own pacer (see media.py).
        return True

    def _media(self, media: object) -> None:
        if not isinstance(media, Mapping) or media.get("track", "inbound") not in (
            self.inbound_tracks
        ):
            return
        try:
            payload = base64.b64decode(media.get("payload", ""), validate=True)
        except (binascii.Error, TypeError, ValueError):
            return
        if payload:
            self._audio_in(self._up.convert(self._decode(payload)))

    async def _transmit(self, frame: bytes) -> None:
        payload = base64.b64encode(pcm16_to_ulaw(self._down.convert(frame))).decode()
        await self.socket.send_text(
            json.dumps(
                {"event": "media", "streamSid": self.stream_sid, "media": {"payload": payload}}
            )
        )

    async def _transmit_clear(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.socket.send_text(
                json.dumps({"event": "clear", "streamSid": self.stream_sid})
            )

    async def _shutdown(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.socket.close()


async def pump(
    link: MulawStreamLink,
    receive_text: Callable[[], Awaitable[str]],
    converse: Callable[[MediaLink], Awaitable[None]],
) -> None:
    """Feed frames into ``link`` while ``converse`` runs on it; whichever ends first ends both.

    ``receive_text`` raises (Starlette's ``WebSocketDisconnect``, ``ConnectionError``) when
    the socket goes away; that is the far end hanging up.
    """

    async def read() -> None:
        try:
            while await _feed_next(link, receive_text):
                pass
        except Exception as error:  # any transport error ends the stream the same way
            log.debug("media stream %s closed: %s", link.call_id, type(error).__name__)
        await link.remote_closed("remote")

    link.start()
    reader = asyncio.create_task(read(), name=f"stream-reader-{link.call_id}")
    try:
        await converse(link)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await link.close()


async def _feed_next(link: MulawStreamLink, receive_text: Callable[[], Awaitable[str]]) -> bool:
    return link.feed(await receive_text())
