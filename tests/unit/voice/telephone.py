"""The telephone network in a test: G.711 μ-law at 8 kHz with streaming resampling."""

from __future__ import annotations

import numpy as np

from vozagent.telephony.codecs import pcm16_to_ulaw, ulaw_to_pcm16
from vozagent.voice.audio import PIPELINE_RATE, TELEPHONE_RATE, Resampler


class TelephoneChannel:
    """PCM16 16 kHz in, the same after μ-law 8 kHz and back, chunk by chunk (stateful)."""

    def __init__(self) -> None:
        self._down = Resampler(PIPELINE_RATE, TELEPHONE_RATE)
        self._up = Resampler(TELEPHONE_RATE, PIPELINE_RATE)

    def __call__(self, pcm: bytes, *, last: bool = False) -> bytes:
        narrow = self._down.convert(pcm, last=last)
        return self._up.convert(ulaw_to_pcm16(pcm16_to_ulaw(narrow)), last=last)


def through_telephone(pcm: bytes, chunk_bytes: int = 640) -> bytes:
    """A whole clip through a fresh channel, in ``chunk_bytes`` pieces, flushed at the end."""
    channel = TelephoneChannel()
    out = [channel(pcm[i : i + chunk_bytes]) for i in range(0, len(pcm), chunk_bytes)]
    out.append(channel(b"", last=True))
    return b"".join(out)


def add_noise(pcm: bytes, level: float, seed: int = 0) -> bytes:
    """White noise at ``level`` RMS (full scale 1.0) added to PCM16."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    noise = np.random.default_rng(seed).normal(0, level * 32768, len(samples))
    return np.clip(samples + noise, -32768, 32767).astype(np.int16).tobytes()
