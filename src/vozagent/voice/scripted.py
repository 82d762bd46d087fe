"""The scripted agent: converses by reading the assistant's script, one line per customer turn.

It stands in for the language-model pipeline (next: Whisper, Piper, pipecat) but does real
turn-taking on a live :class:`~vozagent.voice.media.MediaLink`: energy VAD over the incoming
frames, barge-in (customer speech over the assistant clears playback and truncates the turn to
what was heard), backchannels that do not interrupt, a silence re-prompt, end-call phrases,
DTMF and a time limit. With the text modem (:mod:`vozagent.voice.testing.modem`) as its
synthesizer and transcriber, whole calls run offline through the real media path.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vozagent.voice.audio import frames
from vozagent.voice.conversation import (
    AssistantProfile,
    ConversationResult,
    EndedBy,
    Synthesizer,
    Transcriber,
    Turn,
    TurnSink,
)
from vozagent.voice.media import (
    AudioReceived,
    DtmfReceived,
    LinkClosed,
    MarkPlayed,
    MediaEvent,
    MediaLink,
)
from vozagent.voice.vad import SpeechStarted, Utterance, UtteranceSegmenter, VadConfig

BACKCHANNELS = ("uh-huh", "uh huh", "mm-hmm", "mhm", "ok", "okay", "yeah", "yes", "right")
REPROMPT = "Are you still there?"


@dataclass(frozen=True, slots=True)
class TurnTaking:
    vad: VadConfig = field(default_factory=VadConfig)
    # Customer speech over the assistant shorter than this is noise, not an interruption.
    barge_in_ms: int = 300
    # Speech over the assistant this long interrupts at once; shorter speech interrupts when
    # it ends, unless it is a backchannel ("uh-huh"), which lets the assistant go on.
    backchannel_max_ms: int = 600
    backchannels: tuple[str, ...] = BACKCHANNELS
    reprompt: str = REPROMPT
    # How often timers are checked when no media event arrives.
    poll_seconds: float = 0.05
    # Between the goodbye's last frame leaving and hanging up: jitter buffers and resamplers
    # downstream still hold its last syllable.
    hang_up_grace_seconds: float = 0.3


class ScriptedAgent:
    """An :class:`~vozagent.voice.conversation.Agent` that speaks ``profile.script``."""

    def __init__(
        self,
        synthesizer: Synthesizer,
        transcriber: Transcriber,
        *,
        clock: Callable[[], float] = time.monotonic,
        turn_taking: TurnTaking | None = None,
    ) -> None:
        self.synthesizer = synthesizer
        self.transcriber = transcriber
        self.clock = clock
        self.turn_taking = turn_taking or TurnTaking()

    async def converse(
        self, link: MediaLink, profile: AssistantProfile, *, on_turn: TurnSink | None = None
    ) -> ConversationResult:
        return await _Conversation(self, link, profile, on_turn).run()


class _SpokenFrames:
    """A tap that counts frames sent, to tell how much of an utterance was played."""

    def __init__(self) -> None:
        self.count = 0

    def heard(self, pcm: bytes) -> None:
        return None

    def spoke(self, pcm: bytes) -> None:
        self.count += 1


@dataclass(slots=True)
class _Playback:
    text: str
    mark: str
    start_ms: int
    total_frames: int
    frames_before: int


def truncate_at_word(text: str, fraction: float) -> str:
    """The words of ``text`` wholly within its first ``fraction`` (an estimate of what the
    listener heard before playback was cut)."""
    if fraction >= 1:
        return text
    cut = max(0, int(len(text) * fraction))
    if cut < len(text) and not text[cut].isspace():
        cut = max(text.rfind(" ", 0, cut), 0)
    return text[:cut].rstrip()


def _normalized(text: str) -> str:
    return re.sub(r"[^\w\s-]", "", text.lower()).strip()


class _Conversation:
    def __init__(
        self,
        agent: ScriptedAgent,
        link: MediaLink,
        profile: AssistantProfile,
        on_turn: TurnSink | None,
    ) -> None:
        self._agent = agent
        self._tt = agent.turn_taking
        self._link = link
        self._profile = profile
        self._on_turn = on_turn
        self._origin = agent.clock()
        self.result = ConversationResult(ended_by="customer")
        self._segmenter = UtteranceSegmenter(self._tt.vad)
        self._spoken = _SpokenFrames()
        self._marks = itertools.count()
        self._playback: _Playback | None = None
        self._next_line = 0
        self._ending: EndedBy | None = None
        self._done = False
        self._reprompted = False
        self._overlapping = False
        self._quiet_since_ms = 0
        self._last_audio_ms = 0

    def _now_ms(self) -> int:
        return round((self._agent.clock() - self._origin) * 1000)

    async def run(self) -> ConversationResult:
        self._link.start()  # idempotent; carriers normally start it already
        self._link.taps.append(self._spoken)
        try:
            if self._profile.first_message:
                await self._say(self._profile.first_message)
            # Bounded: the time limit ends the loop even if nothing ever arrives.
            while not self._done:
                event = await self._next_event()
                if event is not None:
                    await self._handle(event)
                if not self._done:
                    await self._check_timers()
        finally:
            self._link.taps.remove(self._spoken)
        return self.result

    async def _next_event(self) -> MediaEvent | None:
        try:
            return await asyncio.wait_for(self._link.receive(), self._tt.poll_seconds)
        except TimeoutError:
            return None

    async def _handle(self, event: MediaEvent) -> None:
        if isinstance(event, AudioReceived):
            await self._on_audio(event.pcm)
        elif isinstance(event, DtmfReceived):
            self.result.dtmf.append(event.digit)
            self._customer_active()
        elif isinstance(event, MarkPlayed):
            await self._on_mark(event)
        else:
            await self._on_closed(event)

    # -- listening -----------------------------------------------------------------------

    async def _on_audio(self, pcm: bytes) -> None:
        self._last_audio_ms = self._now_ms()
        for vad_event in self._segmenter.push(pcm):
            if isinstance(vad_event, SpeechStarted):
                self._overlapping = self._playback is not None and self._ending is None
                self._customer_active()
            else:
                await self._on_utterance(vad_event)
        long_enough = self._segmenter.speech_ms >= self._tt.backchannel_max_ms
        if self._overlapping and self._playback is not None and long_enough:
            await self._interrupt()

    async def _on_utterance(self, utterance: Utterance) -> None:
        overlapping, self._overlapping = self._overlapping, False
        self._customer_active()
        text = (await self._agent.transcriber.transcribe(utterance.pcm)).strip()
        if overlapping and not self._is_barge_in(utterance, text):
            return
        if self._playback is not None and self._ending is None:
            await self._interrupt()
        if not text:
            return
        await self._record(Turn("customer", text, *self._call_offsets(utterance)))
        if self._ending is None:
            await self._reply(text)

    def _is_barge_in(self, utterance: Utterance, text: str) -> bool:
        if utterance.duration_ms < self._tt.barge_in_ms:
            return False
        short = utterance.duration_ms < self._tt.backchannel_max_ms
        return not (short and _normalized(text) in self._tt.backchannels)

    def _call_offsets(self, utterance: Utterance) -> tuple[int, int]:
        """Stream offsets of an utterance to call offsets, anchored at the latest frame."""
        lag = self._now_ms() - self._segmenter.position_ms
        return max(0, utterance.start_ms + lag), max(0, utterance.end_ms + lag)

    def _customer_active(self) -> None:
        self._quiet_since_ms = self._now_ms()
        self._reprompted = False

    async def _reply(self, text: str) -> None:
        script = self._profile.script
        if self._wants_to_end(text) or self._next_line >= len(script):
            await self._say(self._profile.goodbye, ending="assistant")
            return
        self._next_line += 1
        await self._say(script[self._next_line - 1])

    def _wants_to_end(self, text: str) -> bool:
        return any(
            re.search(rf"\b{re.escape(phrase)}\b", text, re.IGNORECASE)
            for phrase in self._profile.end_call_phrases
        )

    # -- speaking ------------------------------------------------------------------------

    async def _say(self, text: str, *, ending: EndedBy | None = None) -> None:
        if self._playback is not None:
            await self._interrupt()
        audio = await self._agent.synthesizer.synthesize(text)
        mark = f"turn-{next(self._marks)}"
        self._ending = ending or self._ending
        self._playback = _Playback(
            text, mark, self._now_ms(), len(frames(audio)), frames_before=self._spoken.count
        )
        self._link.play(audio)
        self._link.mark(mark)

    async def _on_mark(self, event: MarkPlayed) -> None:
        playback = self._playback
        if playback is None or event.name != playback.mark or event.cleared:
            return
        self._playback = None
        self._quiet_since_ms = self._now_ms()
        await self._record(Turn("assistant", playback.text, playback.start_ms, self._now_ms()))
        if self._ending is not None:
            await asyncio.sleep(self._tt.hang_up_grace_seconds)
            await self._end(self._ending)

    async def _interrupt(self) -> None:
        await self._link.clear()
        await self._record_cut_playback()

    async def _record_cut_playback(self) -> None:
        playback, self._playback = self._playback, None
        if playback is None:
            return
        played = self._spoken.count - playback.frames_before
        fraction = played / playback.total_frames if playback.total_frames else 1.0
        text = truncate_at_word(playback.text, fraction)
        turn = Turn("assistant", text, playback.start_ms, self._now_ms(), interrupted=fraction < 1)
        await self._record(turn)

    # -- ending --------------------------------------------------------------------------

    async def _check_timers(self) -> None:
        now = self._now_ms()
        if now >= self._profile.max_duration_seconds * 1000:
            await self._interrupt()
            await self._end("time-limit")
            return
        if self._segmenter.in_speech and now - self._last_audio_ms >= self._tt.vad.end_ms:
            # The far end stopped sending audio mid-utterance (WebSocket carriers send none
            # in silence): the utterance is over.
            utterance = self._segmenter.flush()
            if utterance is not None:
                await self._on_utterance(utterance)
            return
        idle = self._playback is None and self._ending is None and not self._segmenter.in_speech
        if idle and now - self._quiet_since_ms >= self._profile.silence_timeout_seconds * 1000:
            if self._reprompted:
                await self._say(self._profile.goodbye, ending="silence")
            else:
                await self._say(self._tt.reprompt)
                self._reprompted = True

    async def _end(self, ended_by: EndedBy) -> None:
        self.result.ended_by = ended_by
        self._done = True
        await self._link.close()

    async def _on_closed(self, event: LinkClosed) -> None:
        self._done = True
        if self._ending is not None:
            self.result.ended_by = self._ending
        elif event.reason == "remote":
            self.result.ended_by = "customer"
        else:
            self.result.ended_by = "error" if event.reason == "error" else "assistant"
        await self._record_cut_playback()
        utterance = self._segmenter.flush()
        if utterance is not None:
            text = (await self._agent.transcriber.transcribe(utterance.pcm)).strip()
            if text:
                await self._record(Turn("customer", text, *self._call_offsets(utterance)))

    async def _record(self, turn: Turn) -> None:
        self.result.turns.append(turn)
        if self._on_turn is not None:
            await self._on_turn(turn)
