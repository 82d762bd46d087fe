"""What the call runtime asks of the voice side, and what it gets back.

The runtime hands an :class:`Agent` a live :class:`~vozagent.voice.media.MediaLink` and the
assistant's :class:`AssistantProfile`; the agent converses until someone hangs up and returns
the transcript turns. Turns are also reported as they happen (``on_turn``) so that a crash
mid-call loses at most the turn in progress.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from vozagent.voice.media import MediaLink

Speaker = Literal["assistant", "customer"]


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: Speaker
    text: str
    # Milliseconds from the moment the call was answered.
    start_ms: int
    end_ms: int
    # An assistant turn cut short by the caller; ``text`` is only what was spoken.
    interrupted: bool = False


@dataclass(frozen=True, slots=True)
class AssistantProfile:
    """The parts of an assistant's configuration a conversation needs."""

    name: str
    first_message: str | None = None
    system_prompt: str | None = None
    voice: str | None = None
    language: str = "en"
    # Replies in order, for the scripted agent (until the language-model pipeline lands).
    script: Sequence[str] = ()
    goodbye: str = "Thank you for your time. Goodbye!"
    end_call_phrases: Sequence[str] = ("goodbye", "bye", "hang up")
    silence_timeout_seconds: float = 10.0
    max_duration_seconds: float = 600.0


# Why a conversation ended: the customer hung up, the assistant ended it, nobody spoke,
# the time limit, or the link failed.
EndedBy = Literal["customer", "assistant", "silence", "time-limit", "error"]


@dataclass(slots=True)
class ConversationResult:
    ended_by: EndedBy
    turns: list[Turn] = field(default_factory=list)
    dtmf: list[str] = field(default_factory=list)


TurnSink = Callable[[Turn], Awaitable[None]]


class Agent(Protocol):
    async def converse(
        self, link: MediaLink, profile: AssistantProfile, *, on_turn: TurnSink | None = None
    ) -> ConversationResult:
        """Talk on ``link`` until the call ends; never raises for the far end hanging up."""
        ...


class Synthesizer(Protocol):
    """Text to speech: PCM16 16 kHz mono."""

    async def synthesize(self, text: str) -> bytes: ...


class Transcriber(Protocol):
    """Speech to text for one utterance of PCM16 16 kHz mono."""

    async def transcribe(self, pcm: bytes) -> str: ...
