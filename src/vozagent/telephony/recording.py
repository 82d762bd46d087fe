"""Call recording: both legs of a media link mixed into one mono WAV.

Each leg is placed on a common timeline by arrival time, so the gaps a carrier leaves
(WebSocket carriers send nothing while the assistant is silent) stay gaps, and a burst
of late frames is laid end to end rather than on top of each other.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vozagent.voice.audio import PIPELINE_RATE

_BYTES_PER_SECOND = PIPELINE_RATE * 2


class _Track:
    def __init__(self) -> None:
        self.audio = bytearray()

    def place(self, pcm: bytes, position: int) -> None:
        start = max(len(self.audio), position - len(pcm))
        start -= start % 2
        if start > len(self.audio):
            self.audio.extend(bytes(start - len(self.audio)))
        self.audio.extend(pcm)


class CallRecorder:
    """An ``AudioTap``: attach to ``link.taps`` before the conversation starts."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start = clock()
        self._caller = _Track()
        self._assistant = _Track()

    def heard(self, pcm: bytes) -> None:
        self._caller.place(pcm, self._position())

    def spoke(self, pcm: bytes) -> None:
        self._assistant.place(pcm, self._position())

    @property
    def seconds(self) -> float:
        return max(len(self._caller.audio), len(self._assistant.audio)) / _BYTES_PER_SECOND

    def mixdown(self) -> bytes:
        caller = np.frombuffer(bytes(self._caller.audio), dtype=np.int16).astype(np.int32)
        assistant = np.frombuffer(bytes(self._assistant.audio), dtype=np.int16).astype(np.int32)
        length = max(len(caller), len(assistant))
        mixed = np.zeros(length, dtype=np.int32)
        mixed[: len(caller)] += caller
        mixed[: len(assistant)] += assistant
        return np.clip(mixed, -32768, 32767).astype(np.int16).tobytes()

    def save_wav(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with wave.open(str(partial), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(PIPELINE_RATE)
            out.writeframes(self.mixdown())
        partial.replace(path)  # readers never see a half-written file

    def _position(self) -> int:
        return int((self._clock() - self._start) * _BYTES_PER_SECOND)
