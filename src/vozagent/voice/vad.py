"""An energy-based utterance segmenter (voice activity detection by frame level).

Good enough for the text modem and for clean telephone audio; the speech pipeline brings a
model-based VAD (Silero, via pipecat). Hysteresis keeps clicks from starting an utterance
(speech must stay above ``threshold`` for ``start_ms``) and short pauses between words from
ending one (it must stay below ``release_threshold`` for ``end_ms``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from vozagent.voice.audio import FRAME_BYTES, FRAME_MS, rms


@dataclass(frozen=True, slots=True)
class VadConfig:
    threshold: float = 0.01  # about -40 dBFS
    release_threshold: float = 0.005
    start_ms: int = 60
    end_ms: int = 400
    # Audio kept from before the detected start, so that an utterance is never clipped.
    pre_roll_ms: int = 100

    def __post_init__(self) -> None:
        if self.release_threshold > self.threshold:
            raise ValueError("release_threshold must not exceed threshold")
        if min(self.start_ms, self.end_ms, self.pre_roll_ms) < 0:
            raise ValueError("durations must not be negative")


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech was confirmed; ``start_ms`` is where it began in the pushed stream."""

    start_ms: int


@dataclass(frozen=True, slots=True)
class Utterance:
    pcm: bytes
    # Offsets in the pushed stream: the first and past the last loud frame.
    start_ms: int
    end_ms: int

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


VadEvent = SpeechStarted | Utterance


class UtteranceSegmenter:
    """Streaming segmenter: push PCM16 16 kHz in any chunk size, get start and end events."""

    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        self._remainder = b""
        self._position_ms = 0
        self._pre_roll: deque[bytes] = deque(maxlen=max(1, self.config.pre_roll_ms // FRAME_MS))
        self._candidate: list[bytes] = []
        self._speech: list[bytes] = []
        self._start_ms = 0
        self._last_loud_ms = 0
        self._quiet_ms = 0

    @property
    def position_ms(self) -> int:
        """How much audio has been pushed, in ms (whole frames)."""
        return self._position_ms

    @property
    def in_speech(self) -> bool:
        return bool(self._speech)

    @property
    def speech_ms(self) -> int:
        """How long the utterance in progress has been loud so far (0 outside speech)."""
        return self._last_loud_ms - self._start_ms if self._speech else 0

    def push(self, pcm: bytes) -> list[VadEvent]:
        data = self._remainder + pcm
        whole = len(data) // FRAME_BYTES * FRAME_BYTES
        self._remainder = data[whole:]
        events: list[VadEvent] = []
        for offset in range(0, whole, FRAME_BYTES):
            event = self._frame(data[offset : offset + FRAME_BYTES])
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> Utterance | None:
        """End the utterance in progress now (the stream stopped); None outside speech."""
        if not self._speech:
            self._candidate.clear()
            return None
        return self._finish()

    def _frame(self, frame: bytes) -> VadEvent | None:
        level = rms(frame)
        self._position_ms += FRAME_MS
        if self._speech:
            return self._in_speech(frame, level)
        if level >= self.config.threshold:
            self._candidate.append(frame)
            if len(self._candidate) * FRAME_MS >= self.config.start_ms:
                return self._begin()
            return None
        self._pre_roll.extend(self._candidate)
        self._candidate.clear()
        self._pre_roll.append(frame)
        return None

    def _begin(self) -> SpeechStarted:
        self._start_ms = self._position_ms - len(self._candidate) * FRAME_MS
        self._last_loud_ms = self._position_ms
        self._speech = [*self._pre_roll, *self._candidate]
        self._pre_roll.clear()
        self._candidate.clear()
        self._quiet_ms = 0
        return SpeechStarted(self._start_ms)

    def _in_speech(self, frame: bytes, level: float) -> Utterance | None:
        self._speech.append(frame)
        if level >= self.config.release_threshold:
            self._quiet_ms = 0
            self._last_loud_ms = self._position_ms
            return None
        self._quiet_ms += FRAME_MS
        if self._quiet_ms >= self.config.end_ms:
            return self._finish()
        return None

    def _finish(self) -> Utterance:
        utterance = Utterance(b"".join(self._speech), self._start_ms, self._last_loud_ms)
        self._speech = []
        self._quiet_ms = 0
        return utterance


def segment(pcm: bytes, config: VadConfig | None = None) -> list[Utterance]:
    """The utterances of a whole clip (one still in progress at the end is included)."""
    segmenter = UtteranceSegmenter(config)
    found = [event for event in segmenter.push(pcm) if isinstance(event, Utterance)]
    last = segmenter.flush()
    return [*found, last] if last is not None else found
