"""One call's conversation: the assistant's profile in, turns and a recording out."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from vozagent.core.clock import Clock
from vozagent.domain.calls import states
from vozagent.domain.calls.lifecycle import CallLifecycle
from vozagent.storage.db import Database
from vozagent.storage.models import Assistant, Call
from vozagent.storage.repositories.call_runtime import CallRuntimeRepository
from vozagent.telephony.recording import CallRecorder
from vozagent.voice.conversation import Agent, AssistantProfile, Turn
from vozagent.voice.media import MediaLink

if TYPE_CHECKING:
    from vozagent.workers.calls.runtime import RuntimeOptions

log = logging.getLogger(__name__)


class Conversation:
    def __init__(
        self, database: Database, clock: Clock, options: RuntimeOptions, call_id: str
    ) -> None:
        self.database = database
        self.clock = clock
        self.options = options
        self.call_id = call_id

    async def run(self, link: MediaLink, agent: Agent) -> str | None:
        """Converse until the call ends; returns who ended it (None: nothing to talk to)."""
        profile = await self._profile()
        if profile is None:
            await link.close()
            return None
        recorder = CallRecorder()
        link.taps.append(recorder)
        try:
            result = await agent.converse(link, profile, on_turn=self._store_turn)
            ended_by: str | None = result.ended_by
        except Exception:  # a pipeline fault must not lose the call record
            log.exception("conversation failed on call %s", self.call_id)
            ended_by = "error"
        path = await self._save_recording(recorder)
        async with self.database.transaction() as session:
            await self._lifecycle(session).finish_conversation(
                self.call_id,
                recording_path=path,
                # Needs an API key; GET /v1/calls/{id} hands out a signed, expiring one.
                recording_url=f"{self.options.public_url}/v1/calls/{self.call_id}/recording",
            )
        return ended_by

    async def _profile(self) -> AssistantProfile | None:
        async with self.database.transaction() as session:
            repository = CallRuntimeRepository(session)
            call = await repository.get(self.call_id)
            if call is None or call.call_status in states.TERMINAL:
                return None
            assistant = await repository.assistant(call)
        if assistant is None:
            return None
        return profile_for(call, assistant)

    async def _store_turn(self, turn: Turn) -> None:
        async with self.database.transaction() as session:
            await self._lifecycle(session).record_turn(
                self.call_id,
                speaker=turn.speaker,
                text=turn.text,
                start_ms=turn.start_ms,
                end_ms=turn.end_ms,
                interrupted=turn.interrupted,
            )

    async def _save_recording(self, recorder: CallRecorder) -> str | None:
        if recorder.seconds <= 0:
            return None
        relative = f"{self.call_id}.wav"
        try:
            recorder.save_wav(self.options.recordings_dir / relative)
        except OSError:
            log.exception("recording of call %s could not be saved", self.call_id)
            return None
        return relative

    def _lifecycle(self, session: Any) -> CallLifecycle:
        return CallLifecycle(session, clock=self.clock, rates=self.options.rates)


# The scripted agent's replies, in order, until the conversation-flow and language-model
# brains land (issue 5); the flow engine replaces this.
INTERIM_SCRIPT = (
    "Thanks for taking my call. Is now a good time to talk for a minute?",
    "Great. I can book you a short appointment. Would tomorrow at ten work?",
)


def profile_for(call: Call, assistant: Assistant) -> AssistantProfile:
    speaks_first = assistant.first_message_mode != "assistant-waits-for-user"
    return AssistantProfile(
        name=assistant.name,
        first_message=assistant.first_message if speaks_first else None,
        system_prompt=assistant.system_prompt,
        voice=assistant.voice_id,
        language=assistant.language,
        script=INTERIM_SCRIPT,
    )
