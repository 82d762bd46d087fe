"""Helpers for conversation tests: the scripted agent and a callee on a loopback link pair."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from vozagent.voice.conversation import AssistantProfile, ConversationResult, Turn
from vozagent.voice.media import AudioReceived, LinkClosed
from vozagent.voice.scripted import ScriptedAgent, TurnTaking
from vozagent.voice.testing.callee import CalleeReport, Persona, ScriptedCallee, VoicemailGreeting
from vozagent.voice.testing.loopback import Channel, LoopbackLink, loopback_pair
from vozagent.voice.testing.modem import ToneSynthesizer, ToneTranscriber, decode
from vozagent.voice.vad import VadConfig, segment

# Shorter end-of-utterance silence than the default keeps the tests quick.
FAST_VAD = VadConfig(end_ms=250)
CALL_TIMEOUT = 20.0


def agent() -> ScriptedAgent:
    return ScriptedAgent(ToneSynthesizer(), ToneTranscriber(), turn_taking=TurnTaking(vad=FAST_VAD))


def callee() -> ScriptedCallee:
    return ScriptedCallee(
        ToneSynthesizer(), ToneTranscriber(), vad=FAST_VAD, reply_wait_ms=700, max_seconds=20
    )


@dataclass
class Call:
    result: ConversationResult
    report: CalleeReport
    reported_turns: list[Turn] = field(default_factory=list)


@asynccontextmanager
async def links(
    a_to_b: Channel | None = None, b_to_a: Channel | None = None
) -> AsyncIterator[tuple[LoopbackLink, LoopbackLink]]:
    pair = loopback_pair(a_to_b=a_to_b, b_to_a=b_to_a)
    try:
        yield pair
    finally:
        for link in pair:
            await link.close()


async def call(
    profile: AssistantProfile,
    persona: Persona | VoicemailGreeting,
    *,
    a_to_b: Channel | None = None,
    b_to_a: Channel | None = None,
) -> Call:
    """The whole call: agent on one end, callee on the other, both run to the end."""
    seen: list[Turn] = []

    async def on_turn(turn: Turn) -> None:
        seen.append(turn)

    async with links(a_to_b, b_to_a) as (ours, theirs):
        result, report = await asyncio.wait_for(
            asyncio.gather(
                agent().converse(ours, profile, on_turn=on_turn), callee().run(theirs, persona)
            ),
            CALL_TIMEOUT,
        )
    return Call(result, report, seen)


async def listen_until_closed(link: LoopbackLink, limit_seconds: float = 15) -> list[str]:
    """Everything said to ``link`` until it closes, transcribed utterance by utterance."""
    audio: list[bytes] = []
    async with asyncio.timeout(limit_seconds):
        while True:
            event = await link.receive()
            if isinstance(event, AudioReceived):
                audio.append(event.pcm)
            elif isinstance(event, LinkClosed):
                break
    return [decode(u.pcm) for u in segment(b"".join(audio), FAST_VAD)]
