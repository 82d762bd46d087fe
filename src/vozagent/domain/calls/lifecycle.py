"""Applying carrier reports to calls: status, timings, cost, transcript, events.

Runs in the call runtime and the dialer, not in a request: calls are found by id and each
write stays in the call's own organization. Every report is kept in ``call_events`` as it
arrived, applied or not, so an odd carrier ordering can be read back later.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.clock import Clock
from vozagent.domain.calls import states
from vozagent.domain.calls.schemas import CallRead
from vozagent.domain.events.service import EventService
from vozagent.storage.models import Call, Organization
from vozagent.storage.repositories.call_runtime import CallRuntimeRepository


@dataclass(frozen=True, slots=True)
class StatusReport:
    call_id: str
    status: str
    reference: str | None = None
    occurred_at: datetime | None = None
    sequence: int | None = None
    end_reason: str | None = None
    answered_by: str | None = None
    duration_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    call: Call
    status: str
    # The call was sent back to the queue for another attempt (busy / no-answer).
    requeued: bool = False


class CallLifecycle:
    def __init__(self, session: AsyncSession, *, clock: Clock, rates: Mapping[str, float]) -> None:
        self.session = session
        self.repository = CallRuntimeRepository(session)
        self.clock = clock
        self.rates = rates

    async def apply(self, report: StatusReport) -> Applied | None:
        """Move the call forward; None when the report is a duplicate, stale or unknown."""
        call = await self.repository.lock(report.call_id)
        if call is None:
            return None
        await self.repository.log(call, "status", _jsonable(report))
        if report.answered_by and not call.answered_by:
            call.answered_by = report.answered_by
        if report.reference and not call.provider_call_id:
            call.provider_call_id = report.reference
        if _stale(call, report):
            return None
        if report.sequence is not None:
            call.last_sequence = report.sequence
        new = states.next_status(call.call_status, report.status)
        if new is None:
            return None
        if new in states.RETRYABLE and await self._requeue(call, report):
            return Applied(call, states.QUEUED, requeued=True)
        self._move(call, new, report)
        await self._announce(call, new)
        if new in states.TERMINAL:
            await self.repository.notify_dialers()
        return Applied(call, new)

    async def fail(self, call_id: str, reason: str) -> Applied | None:
        return await self.apply(StatusReport(call_id, states.FAILED, end_reason=reason))

    async def record_turn(
        self,
        call_id: str,
        *,
        speaker: str,
        text: str,
        start_ms: int,
        end_ms: int,
        interrupted: bool,
    ) -> None:
        call = await self.repository.get(call_id)
        if call is not None:
            await self.repository.add_turn(
                call,
                speaker=speaker,
                text=text,
                start_ms=start_ms,
                end_ms=end_ms,
                interrupted=interrupted,
            )

    async def finish_conversation(
        self, call_id: str, *, recording_path: str | None, recording_url: str | None = None
    ) -> None:
        """Render the transcript from the stored turns and keep the recording."""
        call = await self.repository.lock(call_id)
        if call is None:
            return
        turns = await self.repository.turns(call_id)
        call.transcript = render_transcript((t.speaker, t.text) for t in turns) or None
        if recording_path is not None:
            call.recording_path = recording_path
            call.recording_url = recording_url

    def _move(self, call: Call, new: str, report: StatusReport) -> None:
        at = report.occurred_at or self.clock.now()
        call.call_status = new
        if new == states.RINGING:
            call.ringing_at = at
        elif new == states.IN_PROGRESS:
            call.call_started_at = at
        if new in states.TERMINAL:
            call.call_ended_at = at
            call.end_reason = report.end_reason or _default_reason(new)
            call.claimed_by = None
            call.claimed_until = None
            call.duration_seconds = _duration(call, report)
            rate = self.rates.get(call.carrier or "", 0.0)
            call.cost = round(call.duration_seconds / 60 * rate, 4)
            if new == states.FAILED:
                call.failure_reason = (report.end_reason or "failed")[:64]

    async def _requeue(self, call: Call, report: StatusReport) -> bool:
        if call.call_type != "outbound":
            return False
        organization = await self.session.get(Organization, call.org_id)
        if organization is None or call.attempts >= organization.max_attempts:
            return False
        await self.repository.log(
            call, "retry_scheduled", {"after": report.status, "attempt": call.attempts}
        )
        call.call_status = states.QUEUED
        call.claimed_by = None
        call.claimed_until = None
        call.provider_call_id = None
        call.last_sequence = None
        call.dial_after = self.clock.now() + timedelta(minutes=organization.retry_after_minutes)
        return True

    async def _announce(self, call: Call, status: str) -> None:
        event = states.EVENT_FOR_STATUS.get(status)
        if event is None:
            return
        await self.session.flush()
        await self.session.refresh(call)
        events = EventService(self.session, call.org_id, clock=self.clock)
        await events.publish(event, CallRead.model_validate(call).model_dump(mode="json"))


def render_transcript(turns: Any) -> str:
    """The spec's transcript string: one ``Speaker: text`` line per turn."""
    names = {"assistant": "Assistant", "customer": "Customer"}
    return "\n".join(f"{names.get(speaker, speaker)}: {text}" for speaker, text in turns if text)


def _stale(call: Call, report: StatusReport) -> bool:
    return (
        report.sequence is not None
        and call.last_sequence is not None
        and report.sequence <= call.last_sequence
    )


def _duration(call: Call, report: StatusReport) -> int:
    if report.duration_seconds is not None:
        return max(0, report.duration_seconds)
    if call.call_started_at is None or call.call_ended_at is None:
        return 0
    return max(0, math.ceil((call.call_ended_at - call.call_started_at).total_seconds()))


def _default_reason(status: str) -> str:
    return {states.COMPLETED: "completed", states.VOICEMAIL: "voicemail"}.get(status, status)


def _jsonable(report: StatusReport) -> dict[str, Any]:
    data = asdict(report)
    if report.occurred_at is not None:
        data["occurred_at"] = report.occurred_at.isoformat()
    return {k: v for k, v in data.items() if v is not None}
