"""Media over a Telnyx media-streaming WebSocket (bidirectional RTP mode).

Telnyx's dialect is close to Twilio's, which :class:`MulawStreamLink` already speaks, and
differs in the places handled here (https://developers.telnyx.com/api-reference/websockets/
stream-call-media-over-websocket):

* ``start`` names the stream ``stream_id`` (not ``streamSid``) and the call
  ``start.call_control_id``, and announces ``media_format {encoding, sample_rate, channels}``;
  we ask for PCMU, but Telnyx streams the call's own codec when it cannot transcode, so PCMA
  is accepted too.
* Frames we send carry no stream id: ``{"event": "media", "media": {"payload": ...}}`` and
  ``{"event": "clear"}``. Marks are not sent: they fire from our own pacer (see ``media.py``).
* Telnyx may send ``error`` frames; they are logged, the stream goes on.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from vozagent.telephony.codecs import alaw_to_pcm16, pcm16_to_ulaw, ulaw_to_pcm16
from vozagent.telephony.streams import (
    MulawStreamLink,
    StreamProtocolError,
    TextSocket,
    read_start_with,
)
from vozagent.voice.audio import TELEPHONE_RATE

log = logging.getLogger(__name__)

DECODERS: Final[dict[str, Callable[[bytes], bytes]]] = {
    "PCMU": ulaw_to_pcm16,
    "PCMA": alaw_to_pcm16,
}


@dataclass(frozen=True, slots=True)
class TelnyxStart:
    stream_id: str
    call_control_id: str | None
    encoding: str


def parse_start(message: Mapping[str, Any]) -> TelnyxStart:
    start = message.get("start")
    if not isinstance(start, Mapping):
        raise StreamProtocolError("start message without start")
    stream_id = message.get("stream_id")
    if not isinstance(stream_id, str) or not stream_id:
        raise StreamProtocolError("start message without stream_id")
    media_format = start.get("media_format") or {}
    if not isinstance(media_format, Mapping):
        raise StreamProtocolError("media_format must be an object")
    encoding = str(media_format.get("encoding", "PCMU")).upper()
    rate = media_format.get("sample_rate", TELEPHONE_RATE)
    if encoding not in DECODERS or rate != TELEPHONE_RATE:
        raise StreamProtocolError(f"unsupported media format {encoding}/{rate}")
    reference = start.get("call_control_id")
    return TelnyxStart(
        stream_id=stream_id,
        call_control_id=reference if isinstance(reference, str) else None,
        encoding=encoding,
    )


async def read_start(receive_text: Callable[[], Awaitable[str]], limit: int = 5) -> TelnyxStart:
    """Read up to Telnyx's ``start`` message (``connected`` comes first)."""
    return await read_start_with(receive_text, parse_start, limit)


class TelnyxStreamLink(MulawStreamLink):
    """Our side of a Telnyx stream: G.711 8 kHz on the wire, PCM16 16 kHz inside."""

    # Telnyx names the tracks "inbound"/"outbound"; only the caller's audio is wanted.
    inbound_tracks = ("inbound",)

    def __init__(self, call_id: str, socket: TextSocket, start: TelnyxStart) -> None:
        super().__init__(call_id, socket, start.stream_id)
        self._decode = DECODERS[start.encoding]

    def feed(self, raw: str) -> bool:
        # A cheap test first: media frames (base64, no quotes inside) never contain it, so
        # only the rare error frame is parsed twice.
        if '"error"' in raw:
            self._log_error(raw)
        return super().feed(raw)

    async def _transmit(self, frame: bytes) -> None:
        payload = base64.b64encode(pcm16_to_ulaw(self._down.convert(frame))).decode()
        await self.socket.send_text(json.dumps({"event": "media", "media": {"payload": payload}}))

    async def _transmit_clear(self) -> None:
        try:
            await self.socket.send_text(json.dumps({"event": "clear"}))
        except (ConnectionError, RuntimeError):
            log.debug("media stream %s: clear after close", self.call_id)

    def _log_error(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            return
        if isinstance(message, dict) and message.get("event") == "error":
            log.warning(
                "telnyx stream %s reported an error: %s", self.call_id, message.get("payload")
            )
