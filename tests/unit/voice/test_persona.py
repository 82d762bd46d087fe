from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from vozagent.voice.testing.callee import (
    VOICEMAIL_GREETING,
    BargeIn,
    Persona,
    PersonaError,
)

pytestmark = pytest.mark.unit


def test_full_persona_parses() -> None:
    persona = Persona.from_json(
        {
            "lines": ["Hi, who is this?", "Sure.", "Bye."],
            "voice": "en-female",
            "pauses": [0, 300, 100],
            "barge_in": {"line": 1, "after_ms": 500},
            "hang_up_after_line": 2,
            "answer_delay_ms": 1500,
        }
    )
    assert persona.lines == ("Hi, who is this?", "Sure.", "Bye.")
    assert persona.barge_in == BargeIn(line=1, after_ms=500)
    assert persona.pause_before(1) == 300
    assert persona.answer_delay_ms == 1500


def test_minimal_persona_has_defaults() -> None:
    persona = Persona.from_json({"lines": ["Hello?"]})
    assert persona.voice == "default"
    assert persona.pause_before(0) == 0
    assert persona.barge_in is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "lines"),
        ({"lines": []}, "lines"),
        ({"lines": "hello"}, "lines"),
        ({"lines": ["ok", "  "]}, "lines.1"),
        ({"lines": ["ok"], "voice": 3}, "voice"),
        ({"lines": ["ok"], "pauses": [1, 2]}, "pauses"),
        ({"lines": ["ok"], "pauses": [-5]}, "pauses"),
        ({"lines": ["ok"], "barge_in": {"line": 1, "after_ms": 0}}, "barge_in.line"),
        ({"lines": ["ok"], "barge_in": {"line": 0}}, "barge_in.after_ms"),
        ({"lines": ["ok"], "hang_up_after_line": 4}, "hang_up_after_line"),
        ({"lines": ["ok"], "answer_delay_ms": -1}, "answer_delay_ms"),
        ({"lines": ["ok"], "mood": "grumpy"}, "mood"),
    ],
)
def test_invalid_persona_names_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(PersonaError) as caught:
        Persona.from_json(data)
    assert caught.value.field.startswith(field)
    assert f"persona.{field}" in str(caught.value)


def test_voicemail_beep_is_a_half_second_1khz_tone() -> None:
    beep = np.frombuffer(VOICEMAIL_GREETING.beep(), dtype=np.int16).astype(np.float64)
    assert len(beep) == 8000
    spectrum = np.abs(np.fft.rfft(beep))
    assert np.argmax(spectrum) * 16000 / len(beep) == pytest.approx(1000, abs=2)
