from __future__ import annotations

import numpy as np
import pytest

from vozagent.voice.audio import PIPELINE_RATE
from vozagent.voice.vad import SpeechStarted, Utterance, UtteranceSegmenter, VadConfig, segment

pytestmark = pytest.mark.unit


def tone(ms: int, level: float = 0.2) -> bytes:
    t = np.arange(PIPELINE_RATE * ms // 1000) / PIPELINE_RATE
    samples = np.sin(2 * np.pi * 440 * t) * level * np.sqrt(2) * 32767
    return bytes(samples.astype(np.int16).tobytes())


def quiet(ms: int) -> bytes:
    return bytes(PIPELINE_RATE * ms // 1000 * 2)


def test_one_utterance_with_offsets_in_ms() -> None:
    [utterance] = segment(quiet(300) + tone(500) + quiet(600))
    assert (utterance.start_ms, utterance.end_ms) == (300, 800)
    assert utterance.duration_ms == 500
    # Pre-roll keeps audio from before the start (100 ms by default).
    assert len(utterance.pcm) >= len(tone(500)) + len(quiet(100))


def test_blips_shorter_than_start_ms_are_not_speech() -> None:
    assert segment(quiet(200) + tone(40) + quiet(600) + tone(20) + quiet(600)) == []


def test_pauses_shorter_than_end_ms_do_not_split_an_utterance() -> None:
    audio = tone(300) + quiet(300) + tone(300) + quiet(500) + tone(200) + quiet(500)
    utterances = segment(audio)
    assert [(u.start_ms, u.end_ms) for u in utterances] == [(0, 900), (1400, 1600)]


def test_configurable_hysteresis() -> None:
    config = VadConfig(threshold=0.1, release_threshold=0.05, start_ms=100, end_ms=200)
    # 0.07 is below the start threshold but above the release threshold: it holds speech.
    audio = quiet(100) + tone(80, 0.07) + quiet(300) + tone(200) + tone(400, 0.07) + quiet(300)
    [utterance] = segment(audio, config)
    assert (utterance.start_ms, utterance.end_ms) == (480, 1080)


def test_streaming_events_in_odd_chunks() -> None:
    segmenter = UtteranceSegmenter(VadConfig(end_ms=100))
    audio = quiet(100) + tone(200) + quiet(200)
    events = []
    for i in range(0, len(audio), 333):
        events.extend(segmenter.push(audio[i : i + 333]))
    assert isinstance(events[0], SpeechStarted)
    assert events[0].start_ms == 100
    assert isinstance(events[1], Utterance)
    assert (events[1].start_ms, events[1].end_ms) == (100, 300)
    assert not segmenter.in_speech


def test_flush_ends_the_utterance_in_progress() -> None:
    segmenter = UtteranceSegmenter()
    segmenter.push(tone(300))
    assert segmenter.in_speech
    assert segmenter.speech_ms == 300
    flushed = segmenter.flush()
    assert flushed is not None
    assert flushed.duration_ms == 300
    assert segmenter.flush() is None


def test_invalid_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="release_threshold"):
        VadConfig(threshold=0.01, release_threshold=0.02)
    with pytest.raises(ValueError, match="negative"):
        VadConfig(end_ms=-1)
