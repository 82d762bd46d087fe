"""Ending a call through the API: cancel a queued or ringing call, hang up a live one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.clock import Clock
from vozagent.core.errors import Conflict
from vozagent.domain.calls import states
from vozagent.domain.calls.errors import CallNotFound
from vozagent.domain.calls.lifecycle import CallLifecycle, StatusReport
from vozagent.storage.models import Call


class CallNotCancelable(Conflict):
    def __init__(self, call_id: str, status: str) -> None:
        super().__init__(
            f"Call '{call_id}' has already ended ({status})",
            code="call_not_cancelable",
            details={"id": call_id, "call_status": status},
        )


class CallControl:
    def __init__(
        self, session: AsyncSession, org_id: str, *, lifecycle: CallLifecycle, clock: Clock
    ) -> None:
        self.session = session
        self.org_id = org_id
        self.lifecycle = lifecycle
        self.clock = clock

    async def cancel(self, call_id: str) -> Call:
        """A queued call is canceled at once. A ringing or answered call is marked for
        hang-up; the process that holds it hangs up within a second and the carrier's
        report moves it to ``canceled`` (still ringing) or ``completed``."""
        statement = (
            select(Call).where(Call.id == call_id, Call.org_id == self.org_id).with_for_update()
        )
        call = (await self.session.execute(statement)).scalar_one_or_none()
        if call is None:
            raise CallNotFound(call_id)
        if call.call_status in states.TERMINAL:
            raise CallNotCancelable(call_id, call.call_status)
        if call.call_status == states.QUEUED and call.claimed_by is None:
            await self.lifecycle.apply(
                StatusReport(call.id, states.CANCELED, end_reason="canceled-by-api")
            )
        elif call.hangup_requested_at is None:
            call.hangup_requested_at = self.clock.now()
        await self.session.flush()
        await self.session.refresh(call)
        return call
