"""The call state machine every carrier shares.

``queued → ringing → in-progress → completed``, and the terminal ``failed``, ``busy``,
``no-answer``, ``canceled`` and ``voicemail``. Carriers repeat and reorder their callbacks
(Twilio says so in its docs), so a report only ever moves a call forward: a duplicate, a
report older than the current state, or anything after a terminal state is ignored.
"""

from __future__ import annotations

from typing import Final

QUEUED: Final = "queued"
RINGING: Final = "ringing"
IN_PROGRESS: Final = "in-progress"
COMPLETED: Final = "completed"
FAILED: Final = "failed"
BUSY: Final = "busy"
NO_ANSWER: Final = "no-answer"
CANCELED: Final = "canceled"
VOICEMAIL: Final = "voicemail"

TERMINAL: Final = frozenset({COMPLETED, FAILED, BUSY, NO_ANSWER, CANCELED, VOICEMAIL})
LIVE: Final = frozenset({RINGING, IN_PROGRESS})
_RANK: Final = {QUEUED: 0, RINGING: 1, IN_PROGRESS: 2}
# Outcomes that a later attempt may change (the organization's max_attempts).
RETRYABLE: Final = frozenset({BUSY, NO_ANSWER})

# The webhook event announcing each state.
EVENT_FOR_STATUS: Final = {
    RINGING: "call.ringing",
    IN_PROGRESS: "call.started",
    COMPLETED: "call.completed",
    VOICEMAIL: "call.completed",
    FAILED: "call.failed",
    BUSY: "call.failed",
    NO_ANSWER: "call.failed",
    CANCELED: "call.failed",
}


def next_status(current: str, reported: str) -> str | None:
    """The status after ``reported`` arrives for a call in ``current``; None to ignore it."""
    if current in TERMINAL or reported == current:
        return None
    if reported in TERMINAL:
        if reported == COMPLETED and current == QUEUED:
            # "completed" for a call we never saw ringing: the carrier lost our earlier
            # callbacks; still final.
            return COMPLETED
        return reported
    if reported not in _RANK:
        return None
    return reported if _RANK[reported] > _RANK[current] else None
