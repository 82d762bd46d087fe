"""The scripted agent against a simulated callee, frame by frame over loopback links."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.unit.voice.conversation_kit import agent, call, links, listen_until_closed
from vozagent.voice.conversation import AssistantProfile, Turn
from vozagent.voice.scripted import REPROMPT, ScriptedAgent, truncate_at_word
from vozagent.voice.testing.callee import Persona
from vozagent.voice.testing.modem import ToneSynthesizer, ToneTranscriber, encode

pytestmark = pytest.mark.unit

GREETING = "Hi, this is Ada from the clinic."
PROFILE = AssistantProfile(
    name="Ada",
    first_message=GREETING,
    script=("Can you come Tuesday?", "Great, see you then."),
    goodbye="Goodbye!",
)


def texts(turns: list[Turn], speaker: str) -> list[str]:
    return [turn.text for turn in turns if turn.speaker == speaker]


async def test_whole_conversation_transcripts_match_on_both_sides() -> None:
    persona = Persona.from_json({"lines": ["Who is this?", "Yes I can.", "Thanks."]})
    done = await call(PROFILE, persona)
    turns = done.result.turns
    assert done.result.ended_by == "assistant"
    assert [t.speaker for t in turns] == ["assistant", "customer"] * 3 + ["assistant"]
    assert texts(turns, "customer") == done.report.said == list(persona.lines)
    assert texts(turns, "assistant") == done.report.heard
    assert done.report.heard == [GREETING, *PROFILE.script, "Goodbye!"]
    assert done.reported_turns == turns
    assert not any(t.interrupted for t in turns)
    for earlier, later in zip(turns, turns[1:], strict=False):
        assert earlier.start_ms <= earlier.end_ms <= later.start_ms


async def test_barge_in_clears_playback_and_truncates_the_turn() -> None:
    persona = Persona.from_json(
        {
            "lines": ["Sorry, one moment please!", "Tuesday works."],
            "barge_in": {"line": 0, "after_ms": 400},
        }
    )
    done = await call(PROFILE, persona)
    first, customer, reply = done.result.turns[:3]
    assert first.interrupted
    assert first.text and GREETING.startswith(first.text) and first.text != GREETING
    assert GREETING[len(first.text)] == " "  # cut at a word boundary
    assert customer.text == "Sorry, one moment please!"
    assert customer.start_ms < first.end_ms  # spoken over the assistant
    assert reply.text == "Can you come Tuesday?"
    # The callee heard only part of the greeting: playback really was cleared.
    assert GREETING.startswith(done.report.heard[0][:-1])
    assert len(done.report.heard[0]) < len(GREETING)
    assert done.report.heard[1] == "Can you come Tuesday?"


async def test_backchannel_does_not_interrupt() -> None:
    persona = Persona.from_json(
        {"lines": ["uh-huh", "Tuesday works."], "barge_in": {"line": 0, "after_ms": 300}}
    )
    done = await call(PROFILE, persona)
    first = done.result.turns[0]
    assert (first.text, first.interrupted) == (GREETING, False)
    assert done.report.heard[0] == GREETING
    assert texts(done.result.turns, "customer") == ["Tuesday works."]
    assert done.report.said == ["uh-huh", "Tuesday works."]


async def test_end_call_phrase_says_goodbye_and_hangs_up() -> None:
    done = await call(PROFILE, Persona.from_json({"lines": ["No thanks, bye."]}))
    assert done.result.ended_by == "assistant"
    assert texts(done.result.turns, "assistant") == [GREETING, "Goodbye!"]
    assert done.report.heard == [GREETING, "Goodbye!"]
    assert texts(done.result.turns, "customer") == ["No thanks, bye."]


async def test_silence_reprompts_once_then_ends() -> None:
    profile = AssistantProfile(
        name="Ada", first_message="Hello?", goodbye="Goodbye!", silence_timeout_seconds=0.4
    )
    async with links() as (ours, theirs):
        result, heard = await asyncio.gather(
            agent().converse(ours, profile), listen_until_closed(theirs)
        )
    assert result.ended_by == "silence"
    assert texts(result.turns, "assistant") == ["Hello?", REPROMPT, "Goodbye!"]
    assert heard == ["Hello?", REPROMPT, "Goodbye!"]
    assert result.turns[1].start_ms - result.turns[0].end_ms >= 400


async def test_dtmf_digits_are_collected() -> None:
    profile = AssistantProfile(name="Ada", first_message="Press a key.", script=("Thanks.",))
    async with links() as (ours, theirs):
        conversation = asyncio.create_task(agent().converse(ours, profile))
        await asyncio.sleep(0.1)
        for digit in "4#2":
            theirs.send_dtmf(digit)
        await asyncio.sleep(1.0)  # after the first message, so "Done." is not talking over it
        theirs.play(encode("Done."))
        await asyncio.sleep(1.0)
        await theirs.close()
        result = await asyncio.wait_for(conversation, 10)
    assert result.dtmf == ["4", "#", "2"]
    assert texts(result.turns, "customer") == ["Done."]
    assert result.ended_by == "customer"


async def test_remote_hang_up_mid_turn_ends_without_raising() -> None:
    long_line = "Hello there, I am calling about the appointment you booked for next week."
    profile = AssistantProfile(name="Ada", first_message=long_line)
    seen: list[Turn] = []

    async def on_turn(turn: Turn) -> None:
        seen.append(turn)

    async with links() as (ours, theirs):
        conversation = asyncio.create_task(agent().converse(ours, profile, on_turn=on_turn))
        await asyncio.sleep(1.0)
        await theirs.close()
        result = await asyncio.wait_for(conversation, 5)
    assert result.ended_by == "customer"
    [turn] = result.turns
    assert turn.interrupted
    assert long_line.startswith(turn.text) and len(turn.text) < len(long_line) // 2
    assert seen == result.turns


async def test_time_limit_ends_the_call_on_the_injected_clock() -> None:
    # A clock far from zero that runs ten times fast: offsets still start at 0, and the
    # 6 "seconds" of the limit pass in 0.6 s.
    origin = time.monotonic()

    def fast_clock() -> float:
        return 5000 + (time.monotonic() - origin) * 10

    profile = AssistantProfile(
        name="Ada", first_message="Hello, how can I help you today?", max_duration_seconds=6
    )
    scripted = ScriptedAgent(ToneSynthesizer(), ToneTranscriber(), clock=fast_clock)
    async with links() as (ours, theirs):
        result = await asyncio.wait_for(scripted.converse(ours, profile), 5)
        assert theirs.closed
    assert result.ended_by == "time-limit"
    [turn] = result.turns
    assert turn.interrupted
    assert turn.start_ms < 100
    assert 6000 <= turn.end_ms < 7000


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [
        (0.0, ""),
        (0.3, "Hello"),
        (0.5, "Hello"),
        (0.55, "Hello there"),
        (0.9, "Hello there my"),
        (1.0, "Hello there my friend"),
    ],
)
def test_truncate_at_word(fraction: float, expected: str) -> None:
    assert truncate_at_word("Hello there my friend", fraction) == expected


async def test_callee_pauses_then_hangs_up_after_its_line() -> None:
    persona = Persona.from_json(
        {"lines": ["Not now.", "Never said."], "pauses": [600, 0], "hang_up_after_line": 0}
    )
    done = await call(PROFILE, persona)
    assert done.report.hung_up
    assert done.report.said == ["Not now."]
    assert done.result.ended_by == "customer"
    greeting, answer = done.result.turns
    assert answer.text == "Not now."
    assert answer.start_ms - greeting.end_ms >= 600
