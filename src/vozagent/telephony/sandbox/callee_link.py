"""The simulated callee's end of a sandbox call: a WebSocket *client* to our own media
edge, speaking the Twilio Media Streams dialect exactly as a carrier would."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Mapping

import aiohttp

from vozagent.telephony.codecs import pcm16_to_ulaw, ulaw_to_pcm16
from vozagent.voice.audio import (
    FRAME_MS,
    PIPELINE_RATE,
    SILENCE_FRAME,
    TELEPHONE_RATE,
    Resampler,
)
from vozagent.voice.media import MediaLink

# Silence the earpiece waits for before it fills in silent frames.
GAP_FRAMES = 3


class CalleeLink(MediaLink):
    """Audio the callee says goes out as ``media``; what the assistant says comes in.

    Like a real phone line it is continuous both ways: the callee's microphone sends
    silence between lines (Twilio streams every 20 ms), and its earpiece plays silence
    when the assistant sends nothing (WebSocket carriers only send speech).
    """

    send_silence_when_idle = True

    def __init__(self, call_id: str, socket: aiohttp.ClientWebSocketResponse, stream_sid: str):
        super().__init__(call_id)
        self._last_heard = 0.0
        self.socket = socket
        self.stream_sid = stream_sid
        self._chunk = 0
        self._up = Resampler(TELEPHONE_RATE, PIPELINE_RATE)
        self._down = Resampler(PIPELINE_RATE, TELEPHONE_RATE)

    async def open_stream(self, call_sid: str, parameters: Mapping[str, str]) -> None:
        await self.socket.send_str(json.dumps({"event": "connected", "protocol": "Call"}))
        start = {
            "streamSid": self.stream_sid,
            "callSid": call_sid,
            "tracks": ["inbound"],
            "customParameters": dict(parameters),
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        }
        await self.socket.send_str(
            json.dumps({"event": "start", "streamSid": self.stream_sid, "start": start})
        )

    async def read_until_closed(self) -> None:
        """Feed the assistant's audio in until our media edge closes the socket."""
        async for message in self.socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            media = data.get("media") if isinstance(data, dict) else None
            if data.get("event") == "media" and isinstance(media, dict):
                payload = base64.b64decode(media.get("payload", ""))
                self._last_heard = asyncio.get_running_loop().time()
                self._audio_in(self._up.convert(ulaw_to_pcm16(payload)))
        await self.remote_closed("remote")

    async def play_out(self) -> None:
        """The earpiece hears silence while the assistant sends nothing: after a gap of
        ``GAP_FRAMES`` it fills in one silent frame per 20 ms. Frames that arrive are
        heard at once, so the pacing of our own media edge is what the callee hears."""
        loop = asyncio.get_running_loop()
        while not self.closed:
            await asyncio.sleep(FRAME_MS / 1000)
            if loop.time() - self._last_heard > GAP_FRAMES * FRAME_MS / 1000:
                self._audio_in(SILENCE_FRAME)

    async def _transmit(self, frame: bytes) -> None:
        self._chunk += 1
        payload = base64.b64encode(pcm16_to_ulaw(self._down.convert(frame))).decode()
        media = {
            "track": "inbound",
            "chunk": str(self._chunk),
            "timestamp": str(self._chunk * 20),
            "payload": payload,
        }
        await self.socket.send_str(
            json.dumps({"event": "media", "streamSid": self.stream_sid, "media": media})
        )

    async def _shutdown(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            if not self.socket.closed:
                await self.socket.send_str(
                    json.dumps({"event": "stop", "streamSid": self.stream_sid})
                )
            await self.socket.close()
