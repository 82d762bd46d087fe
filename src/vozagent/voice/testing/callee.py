"""A simulated callee: the far end of a sandbox call, speaking a persona's lines in turn.

It listens on a :class:`~vozagent.voice.media.MediaLink` like a person on the phone: it waits
for the assistant to finish a turn (the end of the assistant's utterance, by VAD), pauses, says
its next line, and records what it heard. A persona can barge in (say a line while the
assistant is still talking) and hang up early. After its last line it waits for the assistant's
reply and hangs up, unless the assistant hangs up first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vozagent.voice.conversation import Synthesizer, Transcriber
from vozagent.voice.media import (
    AudioReceived,
    LinkClosed,
    MarkPlayed,
    MediaEvent,
    MediaLink,
)
from vozagent.voice.testing.persona import (
    VOICEMAIL_GREETING,
    BargeIn,
    Persona,
    PersonaError,
    VoicemailGreeting,
)
from vozagent.voice.vad import SpeechStarted, Utterance, UtteranceSegmenter, VadConfig

__all__ = [
    "VOICEMAIL_GREETING",
    "BargeIn",
    "CalleeReport",
    "Persona",
    "PersonaError",
    "ScriptedCallee",
    "VoicemailGreeting",
]


@dataclass
class CalleeReport:
    heard: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    # True when the callee ended the call, False when the other side did (or time ran out).
    hung_up: bool = False


class ScriptedCallee:
    def __init__(
        self,
        synthesizer: Synthesizer,
        transcriber: Transcriber,
        *,
        vad: VadConfig | None = None,
        # After barging in, how long to wait for the assistant to answer before going on
        # (the assistant may have taken the interruption as a backchannel and be waiting).
        reply_wait_ms: int = 1500,
        max_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.synthesizer = synthesizer
        self.transcriber = transcriber
        self.vad = vad or VadConfig()
        self.reply_wait_ms = reply_wait_ms
        self.max_seconds = max_seconds
        self.clock = clock

    async def run(self, link: MediaLink, persona: Persona | VoicemailGreeting) -> CalleeReport:
        if isinstance(persona, VoicemailGreeting):
            return await _Voicemail(self, link, persona).run()
        return await _Callee(self, link, persona).run()


class _Listener:
    """What callees share: the event loop with a deadline, VAD, transcription."""

    def __init__(self, callee: ScriptedCallee, link: MediaLink) -> None:
        self.callee = callee
        self.link = link
        self.report = CalleeReport()
        self.segmenter = UtteranceSegmenter(callee.vad)
        self.done = False
        self._origin = callee.clock()

    def now_ms(self) -> int:
        return round((self.callee.clock() - self._origin) * 1000)

    async def loop(self) -> CalleeReport:
        while not self.done:
            if self.now_ms() >= self.callee.max_seconds * 1000:
                await self.hang_up()
                break
            try:
                event = await asyncio.wait_for(self.link.receive(), 0.02)
            except TimeoutError:
                event = None
            if event is not None:
                await self.handle(event)
            if not self.done:
                await self.tick()
        return self.report

    async def handle(self, event: MediaEvent) -> None:
        if isinstance(event, AudioReceived):
            for vad_event in self.segmenter.push(event.pcm):
                if isinstance(vad_event, SpeechStarted):
                    self.on_speech_started()
                else:
                    await self.on_utterance(await self.hear(vad_event))
        elif isinstance(event, MarkPlayed):
            if not event.cleared:
                await self.on_mark(event.name)
        elif isinstance(event, LinkClosed):
            self.done = True
            last = self.segmenter.flush()
            if last is not None:
                await self.hear(last)

    async def hear(self, utterance: Utterance) -> str:
        text = (await self.callee.transcriber.transcribe(utterance.pcm)).strip()
        if text:
            self.report.heard.append(text)
        return text

    async def say(self, text: str, mark: str, extra: bytes = b"") -> None:
        self.link.play(await self.callee.synthesizer.synthesize(text) + extra)
        self.link.mark(mark)
        self.report.said.append(text)

    async def hang_up(self) -> None:
        self.done = True
        self.report.hung_up = not self.link.closed
        await self.link.close()

    def on_speech_started(self) -> None:
        return None

    async def on_utterance(self, text: str) -> None:
        return None

    async def on_mark(self, name: str) -> None:
        return None

    async def tick(self) -> None:
        return None


@dataclass(slots=True)
class _Due:
    at_ms: int
    line: int
    barge_in: bool = False


class _Callee(_Listener):
    def __init__(self, callee: ScriptedCallee, link: MediaLink, persona: Persona) -> None:
        super().__init__(callee, link)
        self.persona = persona
        self.next_line = 0
        self.due: _Due | None = None
        self.speaking = False
        self.barge_pending = persona.barge_in is not None
        # The assistant utterance in progress was talked over by us.
        self.barged = False
        # We barged in; go on once both our line and the assistant's utterance are over.
        self.resume_after_barge = False
        self.hang_up_when_said = False
        self.awaiting_last_reply = False

    async def run(self) -> CalleeReport:
        return await self.loop()

    def on_speech_started(self) -> None:
        if self.due is not None and not self.due.barge_in:
            self.due = None  # the assistant spoke again before we did: answer that instead
        barge_in = self.persona.barge_in
        if barge_in is not None and self.barge_pending and barge_in.line == self.next_line:
            self.barge_pending = False
            self.barged = True
            # VAD confirms speech start_ms after it began.
            delay = max(0, barge_in.after_ms - self.callee.vad.start_ms)
            self.due = _Due(self.now_ms() + delay, barge_in.line, barge_in=True)

    async def on_utterance(self, text: str) -> None:
        if self.barged:
            self.barged = False
            if self.speaking or (self.due is not None and self.due.barge_in):
                self.resume_after_barge = True
            else:
                self._resume_later()
            return
        if self.awaiting_last_reply:
            await self.hang_up()
        elif self.next_line < len(self.persona.lines):
            pause = self.persona.pause_before(self.next_line)
            self.due = _Due(self.now_ms() + pause, self.next_line)

    def _resume_later(self) -> None:
        if self.next_line < len(self.persona.lines):
            self.due = _Due(self.now_ms() + self.callee.reply_wait_ms, self.next_line)

    async def on_mark(self, name: str) -> None:
        self.speaking = False
        if self.hang_up_when_said:
            await self.hang_up()
        elif self.resume_after_barge and not self.barged:
            self.resume_after_barge = False
            self._resume_later()

    async def tick(self) -> None:
        due = self.due
        if due is None or self.now_ms() < due.at_ms or self.speaking:
            return
        self.due = None
        line = self.persona.lines[due.line]
        self.next_line = due.line + 1
        self.speaking = True
        await self.say(line, f"callee-line-{due.line}")
        if self.persona.hang_up_after_line == due.line:
            self.hang_up_when_said = True
        elif self.next_line >= len(self.persona.lines):
            self.awaiting_last_reply = True


class _Voicemail(_Listener):
    def __init__(self, callee: ScriptedCallee, link: MediaLink, greeting: VoicemailGreeting):
        super().__init__(callee, link)
        self.greeting = greeting

    async def run(self) -> CalleeReport:
        await self.say(self.greeting.greeting, "voicemail-greeting", extra=self.greeting.beep())
        # Then record silently until the caller hangs up (or the time limit).
        return await self.loop()
