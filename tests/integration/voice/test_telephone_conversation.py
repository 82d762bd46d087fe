"""Whole calls with the telephone network between the agent and the callee: every frame
crosses G.711 μ-law at 8 kHz and streaming resampling both ways, as on a real carrier."""

from __future__ import annotations

import pytest

from tests.unit.voice.conversation_kit import call
from tests.unit.voice.telephone import TelephoneChannel
from vozagent.voice.conversation import AssistantProfile
from vozagent.voice.scripted import REPROMPT
from vozagent.voice.testing.callee import VOICEMAIL_GREETING, Persona

pytestmark = pytest.mark.integration

PROFILE = AssistantProfile(
    name="Ada",
    first_message="Hi, this is Ada from the clinic.",
    script=("Can you come Tuesday?",),
    goodbye="Goodbye!",
)


async def test_conversation_through_mulaw_8khz() -> None:
    persona = Persona.from_json({"lines": ["Who is this?", "Yes, I can."]})
    done = await call(PROFILE, persona, a_to_b=TelephoneChannel(), b_to_a=TelephoneChannel())
    assert done.result.ended_by == "assistant"
    assert [t.text for t in done.result.turns if t.speaker == "customer"] == list(persona.lines)
    assert done.report.heard == ["Hi, this is Ada from the clinic.", *PROFILE.script, "Goodbye!"]


async def test_barge_in_through_mulaw_8khz() -> None:
    persona = Persona.from_json(
        {"lines": ["Wait, wait, who is this?", "Ok."], "barge_in": {"line": 0, "after_ms": 300}}
    )
    done = await call(PROFILE, persona, a_to_b=TelephoneChannel(), b_to_a=TelephoneChannel())
    first, customer = done.result.turns[:2]
    assert first.interrupted
    assert customer.text == "Wait, wait, who is this?"
    assert done.report.heard[1] == "Can you come Tuesday?"


async def test_voicemail_greeting_is_heard_and_the_beep_is_not_words() -> None:
    profile = AssistantProfile(
        name="Ada", script=("Please call us back.",), goodbye="Bye!", silence_timeout_seconds=0.4
    )
    done = await call(
        profile, VOICEMAIL_GREETING, a_to_b=TelephoneChannel(), b_to_a=TelephoneChannel()
    )
    # Nobody answers the message: a re-prompt, then the agent gives up.
    assistant_lines = ["Please call us back.", REPROMPT, "Bye!"]
    assert done.result.ended_by == "silence"
    assert [t.text for t in done.result.turns] == [VOICEMAIL_GREETING.greeting, *assistant_lines]
    assert done.report.heard == assistant_lines
    assert done.report.said == [VOICEMAIL_GREETING.greeting]
