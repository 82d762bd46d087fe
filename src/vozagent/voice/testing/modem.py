"""A text modem: fake text-to-speech and speech-to-text that carry text as audio tones.

Until the real speech pipeline lands, calls converse in tones. The audio is real: it crosses
G.711 μ-law at 8 kHz, resampling and 20 ms pacing like speech would, so a conversation between
the scripted agent and a simulated callee exercises the whole media path.

Encoding: the text's UTF-8 bytes, one byte per 40 ms symbol. A symbol is two simultaneous sine
tones, like DTMF: the high nibble picks one of 16 low-group frequencies (406-1344 Hz), the low
nibble one of 16 high-group frequencies (1625-3031 Hz), both inside the telephone pass band
(300-3400 Hz). Every frequency sits on the centre of a 512-point FFT bin at 16 kHz (multiples
of 31.25 Hz), so a 512-sample window inside a symbol sees each tone in exactly one bin; the
64-sample margins either side absorb misalignment and the 2 ms fades, which keep the symbol
edges from splattering into neighbouring bins. Two preamble symbols let the decoder find the
symbol grid. Throughput: 25 bytes/s, so 25 chars/s for ASCII text (plus 80 ms of preamble).

Decoding finds the onset by energy, searches the alignment that makes the preamble purest,
and reads symbols until the energy drops. Undecodable input gives "" or garbled text, never an
exception.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

RATE: Final = 16_000
SYMBOL_SAMPLES: Final = 640  # 40 ms
WINDOW_SAMPLES: Final = 512
WINDOW_OFFSET: Final = (SYMBOL_SAMPLES - WINDOW_SAMPLES) // 2
FADE_SAMPLES: Final = 32  # 2 ms
LOW_BINS: Final = np.arange(16) * 2 + 13  # 406.25 .. 1343.75 Hz, 62.5 Hz apart
HIGH_BINS: Final = np.arange(16) * 3 + 52  # 1625 .. 3031.25 Hz, 93.75 Hz apart
TONE_AMPLITUDE: Final = 0.3
PREAMBLE: Final = bytes([0x0F, 0xF0])
CHARS_PER_SECOND: Final = RATE / SYMBOL_SAMPLES

# Below this share of the expected bins in the preamble, the audio is not modem speech.
MIN_PREAMBLE_PURITY: Final = 0.5
# A symbol window quieter than this share of the preamble's level is the end of the message.
END_LEVEL_RATIO: Final = 0.3
ONSET_BLOCK: Final = 80  # 5 ms
ALIGN_SPAN: Final = 128
ALIGN_STEP: Final = 4

FloatArray = npt.NDArray[np.float64]


def _symbol_waveforms() -> tuple[FloatArray, FloatArray]:
    t = np.arange(SYMBOL_SAMPLES) / RATE
    bin_hz = RATE / WINDOW_SAMPLES
    low = np.sin(2 * np.pi * np.outer(LOW_BINS * bin_hz, t)) * TONE_AMPLITUDE
    high = np.sin(2 * np.pi * np.outer(HIGH_BINS * bin_hz, t)) * TONE_AMPLITUDE
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(FADE_SAMPLES) / FADE_SAMPLES)
    envelope = np.ones(SYMBOL_SAMPLES)
    envelope[:FADE_SAMPLES] = ramp
    envelope[-FADE_SAMPLES:] = ramp[::-1]
    return low * envelope, high * envelope


_LOW_WAVES, _HIGH_WAVES = _symbol_waveforms()


def encode(text: str) -> bytes:
    """Text to PCM16 16 kHz mono tones."""
    codes = np.frombuffer(PREAMBLE + text.encode("utf-8"), dtype=np.uint8)
    symbols = _LOW_WAVES[codes >> 4] + _HIGH_WAVES[codes & 0x0F]
    samples: npt.NDArray[np.int16] = np.round(symbols.reshape(-1) * 32767).astype(np.int16)
    return samples.tobytes()


def decode(pcm: bytes) -> str:
    """PCM16 16 kHz mono tones back to text ("" when there is no message in it)."""
    signal = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype=np.int16).astype(np.float64) / 32768
    onset = _onset(signal)
    if onset is None:
        return ""
    start, purity = _align(signal, onset)
    if purity < MIN_PREAMBLE_PURITY:
        return ""
    data = _read_symbols(signal, start + len(PREAMBLE) * SYMBOL_SAMPLES, _level(signal, start))
    return data.decode("utf-8", errors="ignore")


def _onset(signal: FloatArray) -> int | None:
    blocks = len(signal) // ONSET_BLOCK
    if blocks == 0:
        return None
    levels = np.sqrt(np.mean(signal[: blocks * ONSET_BLOCK].reshape(blocks, -1) ** 2, axis=1))
    peak = float(levels.max())
    if peak < 0.01:
        return None
    loud = np.flatnonzero(levels >= peak * 0.25)
    return int(loud[0]) * ONSET_BLOCK


def _windows(signal: FloatArray, symbol_starts: npt.NDArray[np.int64]) -> FloatArray:
    """The analysis window of each symbol, zero-padded where it runs off the signal."""
    padded = np.concatenate([np.zeros(SYMBOL_SAMPLES), signal, np.zeros(2 * SYMBOL_SAMPLES)])
    index = symbol_starts[:, None] + WINDOW_OFFSET + SYMBOL_SAMPLES + np.arange(WINDOW_SAMPLES)
    clipped = np.clip(index, 0, len(padded) - 1)
    windows: FloatArray = padded[clipped]
    return windows


def _tone_magnitudes(windows: FloatArray) -> tuple[FloatArray, FloatArray]:
    spectrum = np.abs(np.fft.rfft(windows, axis=-1))
    return spectrum[..., LOW_BINS], spectrum[..., HIGH_BINS]


def _preamble_purity(signal: FloatArray, starts: npt.NDArray[np.int64]) -> FloatArray:
    """For each candidate start, the preamble's share of tone energy in its expected bins."""
    offsets = np.arange(len(PREAMBLE)) * SYMBOL_SAMPLES
    symbol_starts = (starts[:, None] + offsets).reshape(-1)
    low, high = _tone_magnitudes(_windows(signal, symbol_starts))
    codes = np.tile(np.frombuffer(PREAMBLE, dtype=np.uint8), len(starts))
    rows = np.arange(len(symbol_starts))
    expected = low[rows, codes >> 4] + high[rows, codes & 0x0F]
    total = low.sum(axis=1) + high.sum(axis=1) + 1e-12
    purity: FloatArray = (expected / total).reshape(len(starts), -1).mean(axis=1)
    return purity


def _align(signal: FloatArray, onset: int) -> tuple[int, float]:
    coarse = np.arange(onset - ALIGN_SPAN, onset + ALIGN_SPAN + 1, ALIGN_STEP, dtype=np.int64)
    best = int(coarse[np.argmax(_preamble_purity(signal, coarse))])
    fine = np.arange(best - ALIGN_STEP, best + ALIGN_STEP + 1, dtype=np.int64)
    purity = _preamble_purity(signal, fine)
    return int(fine[np.argmax(purity)]), float(purity.max())


def _level(signal: FloatArray, start: int) -> float:
    windows = _windows(signal, np.array([start, start + SYMBOL_SAMPLES], dtype=np.int64))
    return float(np.sqrt(np.mean(windows**2)))


def _read_symbols(signal: FloatArray, first: int, preamble_level: float) -> bytes:
    count = max(0, (len(signal) - first) // SYMBOL_SAMPLES + 1)
    starts = first + np.arange(count, dtype=np.int64) * SYMBOL_SAMPLES
    windows = _windows(signal, starts)
    low, high = _tone_magnitudes(windows)
    low_code, high_code = np.argmax(low, axis=1), np.argmax(high, axis=1)
    rows = np.arange(count)
    tone_power = low[rows, low_code] ** 2 + high[rows, high_code] ** 2
    # rfft magnitudes: a real window's power is spread over both halves of the spectrum.
    total_power = np.sum(windows**2, axis=1) * WINDOW_SAMPLES / 2 + 1e-12
    levels = np.sqrt(np.mean(windows**2, axis=1))
    # The message ends where the level drops, or where the sound stops being two tones
    # (a voicemail beep, speech, noise right after it).
    ended = (levels < preamble_level * END_LEVEL_RATIO) | (tone_power / total_power < 0.5)
    length = int(np.argmax(ended)) if ended.any() else count
    codes = (low_code[:length] << 4) | high_code[:length]
    return bytes(codes.astype(np.uint8).tolist())


class ToneSynthesizer:
    """A :class:`~vozagent.voice.conversation.Synthesizer` that speaks in modem tones."""

    async def synthesize(self, text: str) -> bytes:
        return encode(text)


class ToneTranscriber:
    """A :class:`~vozagent.voice.conversation.Transcriber` that understands modem tones."""

    async def transcribe(self, pcm: bytes) -> str:
        return decode(pcm)
