"""Two media links wired to each other in memory, for frame-level conversation tests.

Each side's paced output is delivered to the other side's input, so pacing, marks and
``clear`` run for real. Like RTP, both sides send silence when they have nothing to say, which
is what a voice activity detector on the far end needs to notice an utterance has ended. An
optional ``channel`` per direction transforms the audio on the way (a test can put the
telephone network there: μ-law and 8 kHz resampling).
"""

from __future__ import annotations

from collections.abc import Callable

from vozagent.voice.media import MediaLink

Channel = Callable[[bytes], bytes]


class LoopbackLink(MediaLink):
    send_silence_when_idle = True

    def __init__(self, call_id: str, *, channel: Channel | None = None) -> None:
        super().__init__(call_id)
        self.peer: LoopbackLink | None = None
        self._channel = channel

    async def _transmit(self, frame: bytes) -> None:
        if self.peer is None:
            return
        audio = self._channel(frame) if self._channel is not None else frame
        if audio:
            self.peer._audio_in(audio)

    async def _shutdown(self) -> None:
        # Closing one end is the other end's hang-up.
        if self.peer is not None:
            await self.peer._remote_closed("remote")

    def send_dtmf(self, digit: str) -> None:
        """Press a key: the peer receives ``DtmfReceived``."""
        if self.peer is not None and not self.closed:
            self.peer._dtmf_in(digit)


def loopback_pair(
    call_id: str = "loopback",
    *,
    a_to_b: Channel | None = None,
    b_to_a: Channel | None = None,
) -> tuple[LoopbackLink, LoopbackLink]:
    """Two started, connected links: what ``a`` plays, ``b`` receives, and back."""
    a = LoopbackLink(f"{call_id}-a", channel=a_to_b)
    b = LoopbackLink(f"{call_id}-b", channel=b_to_a)
    a.peer, b.peer = b, a
    a.start()
    b.start()
    return a, b
