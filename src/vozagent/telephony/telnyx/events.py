"""Telnyx Call Control webhooks, read and mapped to our call statuses.

A webhook is ``{"data": {"event_type", "id", "occurred_at", "payload": {...}}}``; the payload
carries ``call_control_id``, ``client_state`` (base64 of what we set on the dial or answer
command: our call id) and per-event fields. Mapping decisions:

* ``call.initiated`` of an outgoing leg -> ``ringing``. Call Control has no ringing event (its
  only pre-answer progress webhook is ``call.initiated``, sent once Telnyx is originating the
  leg towards the callee), so this is the nearest honest signal that the phone is ringing.
* ``call.answered`` -> ``in-progress``.
* ``call.hangup`` -> by ``hangup_cause`` (``normal_clearing``, ``user_busy``, ``timeout``,
  ``no_answer``, ``call_rejected``, ``originator_cancel``; anything else is a carrier error),
  with ``hangup_source`` telling who cleared a normal call.
* ``call.machine.detection.ended`` (AMD ``detect``) -> ``voicemail`` for ``machine``,
  ``in-progress`` with ``answered_by=human`` for ``human``; ``not_sure`` changes nothing.

The webhook's ``occurred_at`` is the event time; Telnyx gives no sequence numbers.
(https://developers.telnyx.com/docs/voice/programmable-voice/answering-machine-detection;
event payloads as in the ``telnyx`` SDK's ``types/call_*.py``.)
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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

# hangup_cause -> (status, end_reason); normal_clearing depends on who hung up.
_HANGUP_CAUSES: dict[str, tuple[str, str]] = {
    "user_busy": (BUSY, "busy"),
    "timeout": (NO_ANSWER, "no-answer"),
    "no_answer": (NO_ANSWER, "no-answer"),
    "call_rejected": (BUSY, "declined"),
    "originator_cancel": (CANCELED, "canceled"),
}
# hangup_source of a normal_clearing -> end_reason. Telnyx names the parties of the leg, so
# on a call we placed the customer is the "callee", on a call we answered the "caller".
_CLEARED_BY_OUTGOING: dict[str, str] = {"callee": "customer-hangup", "caller": "assistant-hangup"}
_CLEARED_BY_INCOMING: dict[str, str] = {"caller": "customer-hangup", "callee": "assistant-hangup"}
# Prefix of the client_state of calls we answered: call.hangup does not say the direction.
_INCOMING_PREFIX = "incoming:"


@dataclass(frozen=True, slots=True)
class ClientState:
    """What we put in ``client_state``: our call id, and whether we answered the call."""

    call_id: str
    incoming: bool = False

    def encode(self) -> str:
        text = (_INCOMING_PREFIX if self.incoming else "") + self.call_id
        return base64.b64encode(text.encode()).decode()

    @classmethod
    def decode(cls, value: object) -> ClientState | None:
        if not isinstance(value, str) or not value:
            return None
        try:
            text = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, ValueError):
            return None
        call_id = text.removeprefix(_INCOMING_PREFIX)
        return cls(call_id, incoming=call_id != text) if call_id else None


@dataclass(frozen=True, slots=True)
class Webhook:
    event_type: str
    payload: Mapping[str, Any]
    occurred_at: datetime | None

    @property
    def call_control_id(self) -> str | None:
        value = self.payload.get("call_control_id")
        return value if isinstance(value, str) and value else None

    @property
    def client_state(self) -> ClientState | None:
        """Our call id, from the ``client_state`` we set on the dial or answer command."""
        return ClientState.decode(self.payload.get("client_state"))

    def field(self, name: str) -> str | None:
        value = self.payload.get(name)
        return value if isinstance(value, str) else None


class MalformedWebhook(ValueError):
    pass


def parse_webhook(document: Any) -> Webhook:
    data = document.get("data") if isinstance(document, Mapping) else None
    if not isinstance(data, Mapping):
        raise MalformedWebhook("webhook without data")
    event_type, payload = data.get("event_type"), data.get("payload")
    if not isinstance(event_type, str) or not isinstance(payload, Mapping):
        raise MalformedWebhook("webhook without event_type or payload")
    return Webhook(event_type, payload, _timestamp(data.get("occurred_at")))


def status_update(state: ClientState, webhook: Webhook) -> StatusUpdate | None:
    """The status change a webhook means, or None when it means none."""
    event, payload, call_id = webhook.event_type, webhook.payload, state.call_id
    if event == "call.initiated":
        if payload.get("direction") == "incoming":
            return None
        return _update(call_id, webhook, RINGING)
    if event == "call.answered":
        return _update(call_id, webhook, IN_PROGRESS)
    if event == "call.hangup":
        status, reason = hangup_outcome(
            webhook.field("hangup_cause"), webhook.field("hangup_source"), incoming=state.incoming
        )
        return _update(call_id, webhook, status, end_reason=reason)
    if event == "call.machine.detection.ended":
        result = payload.get("result")
        if result == "machine":
            return _update(
                call_id, webhook, VOICEMAIL, end_reason="voicemail", answered_by="machine"
            )
        if result == "human":
            return _update(call_id, webhook, IN_PROGRESS, answered_by="human")
    return None


def hangup_outcome(cause: str | None, source: str | None, *, incoming: bool) -> tuple[str, str]:
    if cause == "normal_clearing":
        cleared_by = _CLEARED_BY_INCOMING if incoming else _CLEARED_BY_OUTGOING
        return COMPLETED, cleared_by.get(source or "", "customer-hangup")
    if cause in _HANGUP_CAUSES:
        return _HANGUP_CAUSES[cause]
    return FAILED, f"carrier-error: {cause or 'unspecified'}"


def _update(
    call_id: str,
    webhook: Webhook,
    status: str,
    *,
    end_reason: str | None = None,
    answered_by: str | None = None,
) -> StatusUpdate:
    return StatusUpdate(
        call_id=call_id,
        status=status,
        reference=webhook.call_control_id,
        occurred_at=webhook.occurred_at,
        end_reason=end_reason,
        answered_by=answered_by,
    )


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
