from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.voice.telephone import add_noise, through_telephone
from vozagent.voice.testing.modem import (
    CHARS_PER_SECOND,
    RATE,
    ToneSynthesizer,
    ToneTranscriber,
    decode,
    encode,
)

pytestmark = pytest.mark.unit

SENTENCES = [
    "Hi, who is this?",
    "Yes, Tuesday at 10:30 works for me.",
    "Señora Müller — ¿qué tal? 你好 ✓",
    "a",
]


def silence(ms: int) -> bytes:
    return bytes(RATE * ms // 1000 * 2)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_round_trip_of_any_text_clean(text: str) -> None:
    assert decode(encode(text)) == text


@settings(max_examples=30, deadline=None)
@given(
    text=st.text(st.characters(codec="utf-8"), min_size=1, max_size=30),
    lead_samples=st.integers(0, 4000),
    chunk_samples=st.sampled_from([159, 160, 319, 320, 321, 480]),
)
def test_round_trip_through_the_telephone_network(
    text: str, lead_samples: int, chunk_samples: int
) -> None:
    audio = bytes(2 * lead_samples) + encode(text) + silence(300)
    assert decode(through_telephone(audio, chunk_bytes=2 * chunk_samples)) == text


@pytest.mark.parametrize("shift", [-1, 0, 1])
@pytest.mark.parametrize("text", SENTENCES)
def test_frame_boundary_shifts_and_noise(text: str, shift: int) -> None:
    audio = silence(100) + bytes(2 * (1 + shift)) + encode(text) + silence(500)
    received = through_telephone(audio, chunk_bytes=640 + 2 * shift)
    assert decode(add_noise(received, 0.01, seed=shift + 1)) == text


def test_throughput_is_documented_and_at_least_20_chars_per_second() -> None:
    seconds = len(encode("x" * 100)) / 2 / RATE
    assert CHARS_PER_SECOND >= 20
    assert seconds == pytest.approx(100 / CHARS_PER_SECOND + 2 / CHARS_PER_SECOND)


def test_silence_noise_and_a_plain_tone_decode_to_nothing() -> None:
    beep = (np.sin(2 * np.pi * 1000 * np.arange(RATE // 2) / RATE) * 16000).astype(np.int16)
    assert decode(b"") == ""
    assert decode(silence(500)) == ""
    assert decode(add_noise(silence(500), 0.005)) == ""
    assert decode(beep.tobytes()) == ""


def test_garbled_input_does_not_raise() -> None:
    rng = np.random.default_rng(7)
    loud_noise = rng.integers(-20000, 20000, RATE, dtype=np.int16).tobytes()
    cut = encode("héllo wörld")[:-1001]  # odd length, cut inside a multi-byte character
    assert isinstance(decode(loud_noise), str)
    assert decode(cut).startswith("héllo w")


async def test_synthesizer_and_transcriber_protocols() -> None:
    pcm = await ToneSynthesizer().synthesize("Goodbye!")
    assert len(pcm) % 2 == 0
    assert await ToneTranscriber().transcribe(pcm) == "Goodbye!"
