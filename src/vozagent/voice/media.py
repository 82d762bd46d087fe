"""The media link: one call's audio, both ways, in the pipeline's format.

It lives in ``voice`` because it is what the pipeline consumes; carriers (``telephony``)
implement it.

Each carrier subclasses :class:`MediaLink` and converts its wire format at the edge; the voice
pipeline only ever sees PCM16 at 16 kHz. Outgoing audio is paced here, one 20 ms frame per
tick, so that ``clear`` (barge-in) drops what has not been played yet and marks fire when the
audio before them has gone out, on every carrier alike (RTP has no marks of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from vozagent.voice.audio import FRAME_BYTES, FRAME_MS, SILENCE_FRAME, frames

log = logging.getLogger(__name__)
FRAME_SECONDS = FRAME_MS / 1000
# A pacer that falls this far behind (a stalled event loop) restarts its schedule instead of
# bursting the backlog, which a carrier would play back garbled.
RESYNC_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class AudioReceived:
    pcm: bytes


@dataclass(frozen=True, slots=True)
class DtmfReceived:
    digit: str


@dataclass(frozen=True, slots=True)
class MarkPlayed:
    name: str
    # True when the mark was dropped by ``clear`` rather than reached by playback.
    cleared: bool = False


@dataclass(frozen=True, slots=True)
class LinkClosed:
    # "remote" (the far end hung up or the carrier closed the stream), "local", "error".
    reason: str


MediaEvent = AudioReceived | DtmfReceived | MarkPlayed | LinkClosed


class AudioTap(Protocol):
    """Sees both directions of a link (the call recorder)."""

    def heard(self, pcm: bytes) -> None: ...

    def spoke(self, pcm: bytes) -> None: ...


@dataclass
class PlayoutStats:
    """How late outgoing frames left, in a fixed-size histogram of whole milliseconds."""

    frames: int = 0
    late_over_20ms: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * 1001)

    def record(self, lateness_seconds: float) -> None:
        ms = max(0, min(1000, round(lateness_seconds * 1000)))
        self.histogram[ms] += 1
        self.frames += 1
        if ms > 20:
            self.late_over_20ms += 1

    def merge(self, other: PlayoutStats) -> None:
        self.frames += other.frames
        self.late_over_20ms += other.late_over_20ms
        for i, count in enumerate(other.histogram):
            self.histogram[i] += count

    def percentile(self, q: float) -> float:
        """Lateness in ms at quantile ``q`` (0..1); 0.0 when nothing was sent."""
        if self.frames == 0:
            return 0.0
        target = q * self.frames
        seen = 0
        for ms, count in enumerate(self.histogram):
            seen += count
            if seen >= target:
                return float(ms)
        return 1000.0


class MediaLink(ABC):
    """Base of every carrier's link. Subclasses call ``_audio_in`` and friends as the wire
    delivers, and implement ``_transmit`` (one 20 ms PCM16 frame out) and ``_shutdown``."""

    # RTP peers expect a continuous stream; WebSocket carriers buffer and want only speech.
    send_silence_when_idle = False

    def __init__(self, call_id: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.call_id = call_id
        self.stats = PlayoutStats()
        self.taps: list[AudioTap] = []
        self._clock = clock
        self._events: asyncio.Queue[MediaEvent] = asyncio.Queue()
        self._outgoing: deque[bytes | str] = deque()
        self._wake = asyncio.Event()
        self._closed: LinkClosed | None = None
        self._pacer: asyncio.Task[None] | None = None

    # -- the pipeline's side -------------------------------------------------------------

    def start(self) -> None:
        if self._pacer is None:
            self._pacer = asyncio.create_task(self._pace(), name=f"pacer-{self.call_id}")

    async def receive(self) -> MediaEvent:
        """The next event; after ``LinkClosed`` every call returns it again."""
        if self._closed is not None and self._events.empty():
            return self._closed
        return await self._events.get()

    def play(self, pcm: bytes) -> None:
        """Queue PCM16 16 kHz audio for paced playback (a partial last frame is padded)."""
        if self._closed is not None:
            return
        self._outgoing.extend(frames(pcm, FRAME_BYTES))
        self._wake.set()

    def mark(self, name: str) -> None:
        """Ask for ``MarkPlayed(name)`` once everything queued before it has been sent."""
        self._outgoing.append(name)
        self._wake.set()

    @property
    def playing(self) -> bool:
        return any(isinstance(item, bytes) for item in self._outgoing)

    async def clear(self) -> None:
        """Drop unplayed audio (barge-in); pending marks come back as cleared."""
        pending = list(self._outgoing)
        self._outgoing.clear()
        for item in pending:
            if isinstance(item, str):
                self._events.put_nowait(MarkPlayed(item, cleared=True))
        await self._transmit_clear()

    async def close(self, reason: str = "local") -> None:
        """Stop the link from our side (hang-up is the carrier's job, not the link's)."""
        if self._finish(reason):
            await self._stop_pacer()
            await self._shutdown()

    @property
    def closed(self) -> bool:
        return self._closed is not None

    @property
    def close_reason(self) -> str | None:
        """Who ended the link ("remote", "local", "error"); None while it is open."""
        return None if self._closed is None else self._closed.reason

    async def remote_closed(self, reason: str = "remote") -> None:
        """The transport ended from the far side (the carrier's reader calls this)."""
        if self._finish(reason):
            await self._stop_pacer()

    # -- the carrier's side --------------------------------------------------------------

    def _audio_in(self, pcm: bytes) -> None:
        if self._closed is not None:
            return
        for tap in self.taps:
            tap.heard(pcm)
        self._events.put_nowait(AudioReceived(pcm))

    def _dtmf_in(self, digit: str) -> None:
        if self._closed is None:
            self._events.put_nowait(DtmfReceived(digit))

    async def _remote_closed(self, reason: str = "remote") -> None:
        await self.remote_closed(reason)

    @abstractmethod
    async def _transmit(self, frame: bytes) -> None:
        """Send one 20 ms frame of PCM16 16 kHz audio in the carrier's format."""

    async def _transmit_clear(self) -> None:
        """Tell the carrier to drop what it has buffered (where it buffers)."""
        return None

    @abstractmethod
    async def _shutdown(self) -> None:
        """Close the transport."""

    # -- pacing --------------------------------------------------------------------------

    def _finish(self, reason: str) -> bool:
        if self._closed is not None:
            return False
        self._closed = LinkClosed(reason)
        self._events.put_nowait(self._closed)
        self._wake.set()
        return True

    async def _stop_pacer(self) -> None:
        task, self._pacer = self._pacer, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _pace(self) -> None:
        deadline: float | None = None
        try:
            while self._closed is None:
                if not self._outgoing and not self.send_silence_when_idle:
                    deadline = None
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                now = self._clock()
                if deadline is None or now - deadline > RESYNC_SECONDS:
                    deadline = now
                elif deadline > now:
                    await asyncio.sleep(deadline - now)
                self.stats.record(self._clock() - deadline)
                await self._send_next()
                deadline += FRAME_SECONDS
        except (ConnectionError, OSError) as error:
            log.info("media link %s: transport failed: %s", self.call_id, type(error).__name__)
            self._finish("error")

    async def _send_next(self) -> None:
        while self._outgoing and isinstance(self._outgoing[0], str):
            name = self._outgoing.popleft()
            assert isinstance(name, str)
            self._events.put_nowait(MarkPlayed(name))
        if not self._outgoing and not self.send_silence_when_idle:
            return
        frame = self._outgoing.popleft() if self._outgoing else SILENCE_FRAME
        assert isinstance(frame, bytes)
        await self._transmit(frame)
        for tap in self.taps:
            tap.spoke(frame)
