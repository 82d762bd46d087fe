"""The catalogue of outgoing webhook event types.

The spec documents seven; the rest are what users of voice platforms expect
(see docs/webhooks.md). ``*`` subscribes an endpoint to every type.
"""

from __future__ import annotations

DOCUMENTED_EVENTS: tuple[str, ...] = (
    "contact.created",
    "contact.updated",
    "call.started",
    "call.completed",
    "lead.qualified",
    "appointment.booked",
    "appointment.rescheduled",
)

EXTRA_EVENTS: tuple[str, ...] = (
    "contact.deleted",
    "call.queued",
    "call.ringing",
    "call.failed",
    "call.analyzed",
    "webhook.test",
    "webhook.disabled",
)

EVENT_TYPES: tuple[str, ...] = DOCUMENTED_EVENTS + EXTRA_EVENTS
WILDCARD = "*"


def unknown_event_types(requested: list[str]) -> list[str]:
    valid = set(EVENT_TYPES) | {WILDCARD}
    return [e for e in requested if e not in valid]
