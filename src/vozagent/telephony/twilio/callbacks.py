"""Twilio's call-progress and answering-machine callbacks, read into :class:`StatusUpdate`.

Call progress: https://www.twilio.com/docs/voice/api/call-resource#statuscallback ;
async AMD: https://www.twilio.com/docs/voice/answering-machine-detection .
"""

from __future__ import annotations

from collections.abc import Mapping

from vozagent.telephony.carrier import (
    BUSY,
    CANCELED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    NO_ANSWER,
    RINGING,
    VOICEMAIL,
    StatusUpdate,
)
from vozagent.telephony.twilio.rest import rfc2822

# Twilio CallStatus -> our status and why the call ended. "queued"/"initiated" say nothing
# the runtime does not know already (it dialled), so they are not reported.
_CALL_STATUSES: dict[str, tuple[str, str | None]] = {
    "ringing": (RINGING, None),
    "in-progress": (IN_PROGRESS, None),
    # Twilio does not say which side hung up; the runtime knows whether the assistant did.
    "completed": (COMPLETED, None),
    "busy": (BUSY, "busy"),
    "no-answer": (NO_ANSWER, "no-answer"),
    "failed": (FAILED, "carrier-error: twilio reported the call failed"),
    "canceled": (CANCELED, "canceled"),
}

_MACHINE_ANSWERS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other"}
)


def status_update(call_id: str, form: Mapping[str, str]) -> StatusUpdate | None:
    """The update a status callback carries, or None for one we do not report."""
    mapped = _CALL_STATUSES.get(form.get("CallStatus", ""))
    if mapped is None:
        return None
    status, end_reason = mapped
    return StatusUpdate(
        call_id=call_id,
        status=status,
        reference=form.get("CallSid") or None,
        occurred_at=rfc2822(form.get("Timestamp")),
        sequence=_int_or_none(form.get("SequenceNumber")),
        end_reason=end_reason,
        duration_seconds=_int_or_none(form.get("CallDuration")) if status == COMPLETED else None,
    )


def amd_update(call_id: str, form: Mapping[str, str]) -> StatusUpdate | None:
    """What answering-machine detection concluded.

    A machine is reported as voicemail (the runtime leaves a message or ends the call); a
    human keeps the call in progress, now known to be a person; a fax cannot be talked to.
    """
    answered_by = form.get("AnsweredBy", "")
    reference = form.get("CallSid") or None
    if answered_by in _MACHINE_ANSWERS:
        return StatusUpdate(
            call_id, VOICEMAIL, reference, answered_by="machine", end_reason="voicemail"
        )
    if answered_by == "fax":
        return StatusUpdate(
            call_id, FAILED, reference, answered_by="fax", end_reason="carrier-error: fax"
        )
    if answered_by in ("human", "unknown"):
        return StatusUpdate(call_id, IN_PROGRESS, reference, answered_by=answered_by)
    return None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
