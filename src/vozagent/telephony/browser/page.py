"""One open phone page: its socket, what it last reported hearing, and the media link.

The page speaks a small protocol over one WebSocket: JSON control messages in text frames
and audio in binary frames, PCM16 little-endian mono at 16 kHz, 20 ms (640 bytes) a frame,
which is the pipeline's own format, so nothing is converted on the way.

Server to page: ``registered``, ``ring`` (``call_id``, ``from``), ``hangup``, ``clear``,
``replaced``. Page to server: ``answer``, ``decline``, ``hangup``, ``dtmf`` (``digit``),
``stats`` (diagnostics, see :class:`PageStats`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Final

from starlette.websockets import WebSocket, WebSocketDisconnect

from vozagent.voice.media import MediaLink

# A destination is a short label ("front-desk") or an E.164 number; nothing that could be
# mistaken for markup or a path when it is echoed back to the page or logged.
NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9+._-]{1,64}")
DTMF_DIGITS: Final = frozenset("0123456789*#ABCD")
# Close codes in the private range (4000-4999) so the page can tell why it was let go.
CLOSE_BAD_NAME: Final = 4400
CLOSE_FORBIDDEN: Final = 4403
CLOSE_REPLACED: Final = 4409

_SEND_ERRORS = (WebSocketDisconnect, RuntimeError, OSError)


def valid_name(name: str) -> bool:
    return NAME_PATTERN.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class PageStats:
    """Diagnostics: what the page says it heard during its current call, once a second.

    ``frames_received`` counts the binary frames it got since the call was answered, ``rms``
    is the level (0.0 to 1.0) of what it received in the last second and ``played_rms`` the
    level of what its speaker worklet actually rendered. Used by the end-to-end tests to prove
    our audio reached the page; nothing else depends on it.
    """

    call_id: str | None
    frames_received: int
    rms: float
    played_rms: float
    received_at: float


def parse_stats(message: dict[str, Any]) -> PageStats | None:
    frames_received = message.get("frames_received")
    level = message.get("rms")
    played = message.get("played_rms", 0.0)
    numbers = (frames_received, level, played)
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
        return None
    call_id = message.get("call_id")
    return PageStats(
        call_id=call_id if isinstance(call_id, str) else None,
        frames_received=int(frames_received),  # type: ignore[arg-type]
        rms=float(level),  # type: ignore[arg-type]
        played_rms=float(played),
        received_at=time.monotonic(),
    )


class PhonePage:
    """Our side of one page's socket. Sends are serialized: audio and control share it."""

    def __init__(self, name: str, socket: WebSocket) -> None:
        self.name = name
        self.socket = socket
        self.stats: PageStats | None = None
        self._send_lock = asyncio.Lock()

    async def send_audio(self, frame: bytes) -> None:
        """Send one frame; a page that has gone away raises ``ConnectionError``, which ends
        the media link's pacer the way a dropped carrier stream does."""
        try:
            async with self._send_lock:
                await self.socket.send_bytes(frame)
        except _SEND_ERRORS as error:
            raise ConnectionError(f"browser phone {self.name} is gone") from error

    async def send_control(self, message: dict[str, Any]) -> None:
        """Send a control message; a page that has gone away is noticed by its reader."""
        with contextlib.suppress(*_SEND_ERRORS):
            async with self._send_lock:
                await self.socket.send_text(json.dumps(message))

    async def close(self, code: int = 1000) -> None:
        with contextlib.suppress(*_SEND_ERRORS):
            await self.socket.close(code)


class BrowserLink(MediaLink):
    """A call's audio over its page's socket. The socket outlives the call (the page stays
    registered for the next one), so shutting the link down leaves it open."""

    def __init__(self, call_id: str, page: PhonePage) -> None:
        super().__init__(call_id)
        self.page = page

    def feed_audio(self, data: bytes) -> None:
        # PCM16 comes in whole samples; a torn one would shift every sample after it.
        if data and len(data) % 2 == 0:
            self._audio_in(data)

    def feed_dtmf(self, digit: object) -> None:
        if isinstance(digit, str) and digit in DTMF_DIGITS:
            self._dtmf_in(digit)

    async def _transmit(self, frame: bytes) -> None:
        await self.page.send_audio(frame)

    async def _transmit_clear(self) -> None:
        await self.page.send_control({"type": "clear", "call_id": self.call_id})

    async def _shutdown(self) -> None:
        return None

    async def remote_hangup(self) -> None:
        """The page hung up or went away."""
        await self._remote_closed("remote")
