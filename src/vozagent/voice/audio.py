"""The pipeline's audio format and helpers: PCM16 little-endian mono, 16 kHz, 20 ms frames.

Every carrier converts to this at its edge. Sample rates are converted with ``soxr``
streams, so frame boundaries leave no clicks.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import soxr

PIPELINE_RATE: Final = 16_000
FRAME_MS: Final = 20
FRAME_SAMPLES: Final = PIPELINE_RATE * FRAME_MS // 1000  # 320
FRAME_BYTES: Final = FRAME_SAMPLES * 2  # 640
TELEPHONE_RATE: Final = 8_000
SILENCE_FRAME: Final = bytes(FRAME_BYTES)

Int16Array = npt.NDArray[np.int16]


class Resampler:
    """A streaming PCM16 rate converter; keeps its filter state between chunks."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._stream = (
            None
            if from_rate == to_rate
            else soxr.ResampleStream(from_rate, to_rate, 1, dtype="int16", quality="MQ")
        )

    def convert(self, pcm: bytes, *, last: bool = False) -> bytes:
        if self._stream is None:
            return pcm
        samples = np.frombuffer(pcm, dtype=np.int16)
        out: Int16Array = self._stream.resample_chunk(samples, last=last)
        return out.tobytes()


def resample_once(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """Convert a whole clip (a file, a synthesized sentence) in one go."""
    if from_rate == to_rate:
        return pcm
    samples = np.frombuffer(pcm, dtype=np.int16)
    out: Int16Array = soxr.resample(samples, from_rate, to_rate, quality="HQ")
    return out.astype(np.int16).tobytes()


def frames(pcm: bytes, size: int = FRAME_BYTES) -> list[bytes]:
    """Split PCM into whole frames, padding the last one with silence."""
    chunks = [pcm[i : i + size] for i in range(0, len(pcm), size)]
    if chunks and len(chunks[-1]) < size:
        chunks[-1] = chunks[-1] + bytes(size - len(chunks[-1]))
    return chunks


def rms(pcm: bytes) -> float:
    """Root mean square level of PCM16, 0.0 (silence) to 1.0 (full scale)."""
    if not pcm:
        return 0.0
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64) / 32768.0
    return float(np.sqrt(np.mean(samples * samples)))
